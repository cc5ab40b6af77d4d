"""An app over a small store on SQLite and PostgreSQL, and a helper to harvest into it.

The store holds the dataset ``demo`` (fake source): one indicator, a sex dimension, regions in
three levels (6300 province, 6371/6372 kota/kabupaten, a district a harvest added), months,
quarters, half-years and years, a missing value and values such as ``7.10`` and ``-0.47``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

import harvesters
from opendata import create_app
from opendata.model import Region
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run
from opendata.store.writer import write_dataset
from tests import fakes

DISTRICT = Region("6371010", "Banjarmasin Selatan", "district", "6371")

#: (region, period, sex code) -> value text
CELLS = {
    ("6300", "2023", "3"): "683244",
    ("6300", "2024", "3"): "690000",
    ("6371", "2024-08", "1"): "4.02",
    ("6371", "2024-08", "2"): "7.10",
    ("6371", "2024-Q1", "1"): "-0.47",
    ("6371", "2024-Q3", "1"): "5",
    ("6371", "2024-S2", "1"): "6",
    ("6371", "2024", "1"): None,
    ("6372", "2024-01", "2"): "3.5",
    ("6372", "2024-Q1", "2"): "0.000000000000000000012345678901234567",
    ("6372", "2023", "3"): "1000",
    ("6371010", "2024", "3"): "12",
}


def harvest_bundled(store_url: str, dataset_ids) -> None:
    """Harvest these datasets of the bundled catalog into the store, offline, as
    ``opendata harvest`` does (the command line: runner, checksums and all)."""
    from click.testing import CliRunner

    from opendata.cli import cli

    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    result = CliRunner().invoke(cli, ["harvest", *dataset_ids, "--offline"], env=env)
    assert result.exit_code == 0, result.output


def harvest(engine, cells, dataset_id: str = "demo", regions=(DISTRICT,)):
    """Write one fake harvest of ``cells`` into the store, as the runner would."""
    result = fakes.result(cells)
    result.regions.extend(regions)
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", dataset_id, offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, fakes.spec(dataset_id), "Fake source", result, run_id, known)
        finish_run(conn, run_id, "ok", counts)
    return counts


@pytest.fixture
def catalog_dir(tmp_path, monkeypatch):
    """A catalog of the fake source's ``demo`` dataset."""
    monkeypatch.setitem(harvesters.HARVESTERS, "fake", "tests.fakes:FakeHarvester")
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "demo.yaml").write_text("id: demo\ntitle: Demo\nsource: fake\nfake: {n: 1}\n")
    return folder


@pytest.fixture
def make_app(store_url, catalog_dir):
    """Make apps over the test store; their engines are disposed after the test."""
    apps = []

    def make(**config):
        app = create_app(
            {"DATABASE_URL": store_url, "CATALOG_DIR": catalog_dir, "TESTING": True, **config}
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["opendata"].engine.dispose()


@pytest.fixture
def store(engine):
    """The test store with the ``demo`` dataset harvested; its engine writes."""
    harvest(engine, CELLS)
    return engine


@pytest.fixture
def app(store, make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
