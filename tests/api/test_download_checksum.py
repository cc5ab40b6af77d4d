"""Whole-dataset downloads say what they are: the dataset publishes the CSV's SHA-256, size and
rows, the download says them in ``Repr-Digest`` and ``X-Total-Count``, and the Data Package
carries them as its resource's ``hash`` and ``bytes`` (which frictionless checks).

The checksums are made by the harvest runner, in the transaction that writes the data, so the
tests harvest through it (the fake source, and the bundled catalog through the command line).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
from dataclasses import replace

import frictionless
import pandas as pd
import pytest
from sqlalchemy import select, update

import harvesters
from opendata import downloads
from opendata.harvest import Runner
from opendata.regions import RegionIndex
from opendata.store import schema as t
from opendata.store.writer import sync_regions
from tests import fakes
from tests.api.conftest import CELLS, DISTRICT, harvest_bundled
from tests.api.test_datapackage import serve, valid

#: the bundled datasets read here: two breakdowns and flags; notes and flags; ranges
DEMO = ("pengaduan-sp4n-lapor", "kinerja-makro-kalsel-2014", "target-tpt-kalsel")


@pytest.fixture(autouse=True)
def fake_source(monkeypatch):
    monkeypatch.setitem(harvesters.HARVESTERS, "fake", "tests.fakes:FakeHarvester")
    monkeypatch.setattr(fakes.FakeHarvester, "fail_fetch", False)
    monkeypatch.setattr(fakes.FakeHarvester, "fail_parse", False)


def _harvest(engine, settings, cells) -> str:
    result = fakes.result(cells)
    result.regions.append(DISTRICT)
    fakes.FakeHarvester.next_result = result
    [outcome] = Runner(engine, settings).run([fakes.spec()])
    return outcome.status


@pytest.fixture
def client(engine, settings, make_app):
    assert _harvest(engine, settings, CELLS) == "ok"
    return make_app().test_client()


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _checked(client, dataset_id: str) -> bytes:
    """The whole CSV, checked against what the dataset and the download's headers say."""
    published = client.get(f"/api/v1/datasets/{dataset_id}").json["downloads"]["csv"]
    response = client.get(published["url"])
    body = response.data
    assert published["sha256"] == _sha256(body)
    assert published["bytes"] == len(body)
    rows = len(pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False))
    assert published["rows"] == rows
    assert response.headers["X-Total-Count"] == str(rows)
    expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert response.headers["Repr-Digest"] == f"sha-256=:{expected}:" == published["digest"]
    return body


def test_the_dataset_publishes_the_checksum_of_its_whole_csv(client):
    published = client.get("/api/v1/datasets/demo").json["downloads"]["csv"]
    assert published["url"] == "/api/v1/datasets/demo/observations.csv"
    assert published["media_type"] == "text/csv"
    assert published["rows"] == len(CELLS)
    _checked(client, "demo")


def test_a_compressed_body_has_no_digest_of_other_bytes_but_decompresses_to_them(client):
    published = client.get("/api/v1/datasets/demo").json["downloads"]["csv"]
    response = client.get(published["url"], headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Repr-Digest" not in response.headers
    assert response.headers["X-Total-Count"] == str(published["rows"])
    assert _sha256(gzip.decompress(response.data)) == published["sha256"]


def test_a_filtered_csv_has_no_checksum_of_the_whole(client):
    filtered = client.get("/api/v1/datasets/demo/observations.csv?region=6371")
    assert "Repr-Digest" not in filtered.headers
    assert client.get("/api/v1/datasets/demo/observations.csv?lang=en").headers["Repr-Digest"]


def test_a_harvest_that_changes_the_data_makes_a_new_checksum(engine, settings, client):
    before = _checked(client, "demo")
    changed = {**CELLS, ("6371", "2024-08", "1"): "4.20"}
    assert _harvest(engine, settings, changed) == "ok"
    after = _checked(client, "demo")
    assert before != after
    # the same data again: the checksum stays that of the same bytes
    assert _harvest(engine, settings, changed) == "unchanged"
    assert _checked(client, "demo") == after


def test_a_stale_checksum_is_never_published(engine, client):
    with engine.begin() as conn:  # as if a writer changed the data without the runner
        conn.execute(update(t.dataset).values(changed_run_id=t.dataset.c.changed_run_id + 100))
    published = client.get("/api/v1/datasets/demo").json["downloads"]["csv"]
    assert published["sha256"] is published["digest"] is published["rows"] is None
    assert published["url"]  # the file itself is still there
    response = client.get("/api/v1/datasets/demo/observations.csv")
    assert "Repr-Digest" not in response.headers
    assert response.headers["X-Total-Count"] == str(len(CELLS))  # counted, as any download


def test_an_unchanged_harvest_makes_a_missing_checksum(engine, settings, client):
    _harvest(engine, settings, CELLS)  # the district the first one added is in its fingerprint
    with engine.begin() as conn:
        conn.execute(t.download.delete())
    assert client.get("/api/v1/datasets/demo").json["downloads"]["csv"]["sha256"] is None
    assert _harvest(engine, settings, CELLS) == "unchanged"
    _checked(client, "demo")


def test_renamed_regions_forget_every_checksum(engine, client):
    """Region names are in every CSV: a reference that renames one drops the checksums."""
    reference = RegionIndex.reference()
    renamed = [
        replace(r, name="Kota Seribu Sungai") if r.code == "6371" else r for r in reference.regions
    ]
    with engine.begin() as conn:
        sync_regions(conn, RegionIndex(renamed, reference.aliases))
        assert conn.execute(select(t.download)).first() is None


def test_a_failed_or_dry_harvest_leaves_the_checksum_as_it_was(engine, settings, client):
    before = client.get("/api/v1/datasets/demo").json["downloads"]["csv"]
    fakes.FakeHarvester.fail_parse = True
    assert Runner(engine, settings).run([fakes.spec()])[0].status == "failed"
    fakes.FakeHarvester.fail_parse = False
    result = fakes.result({**CELLS, ("6300", "2024", "3"): "1"})
    result.regions.append(DISTRICT)
    fakes.FakeHarvester.next_result = result
    Runner(engine, settings, dry_run=True).run([fakes.spec()])
    assert client.get("/api/v1/datasets/demo").json["downloads"]["csv"] == before
    _checked(client, "demo")


def test_the_csv_format_is_pinned(client):
    """The demo CSV's bytes, pinned: when this fails, the CSV writer's output changed, so bump
    ``opendata.downloads.CSV_FORMAT_VERSION`` (stored checksums of the old bytes must not be
    published) and update the hash here."""
    assert downloads.CSV_FORMAT_VERSION == 1
    body = client.get("/api/v1/datasets/demo/observations.csv").data
    assert _sha256(body).startswith(PINNED)


PINNED = "59d51d012561"


@pytest.fixture
def demo_client(store_url, make_app):
    harvest_bundled(store_url, DEMO)
    return make_app()


@pytest.mark.parametrize("dataset_id", DEMO)
def test_the_bundled_datasets_publish_true_checksums(demo_client, dataset_id):
    _checked(demo_client.test_client(), dataset_id)


def test_frictionless_checks_the_hash_of_the_whole_package(demo_client):
    root = serve(demo_client)
    base = next(root)
    try:
        path = "/api/v1/datasets/pengaduan-sp4n-lapor/datapackage.json"
        package = frictionless.Package(f"{base}{path}")
        resource = package.resources[0]
        assert resource.hash.startswith("sha256:") or resource.hash
        assert valid(frictionless.validate(f"{base}{path}"))
        filtered = frictionless.Package(f"{base}{path}?region=6300")
        assert not filtered.resources[0].hash
    finally:
        root.close()
