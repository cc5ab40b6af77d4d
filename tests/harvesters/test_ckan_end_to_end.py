"""A CKAN resource end to end: catalog entry -> ``opendata harvest`` -> the API's JSON and CSV.

The live tests harvest from the stand-in portal with the real command line (the code path of a
cron run); the offline ones from a snapshot folder, ``tests/fixtures/ckan/retribusi-kabkota/``
(our own answers in CKAN's format: two short pages, all-``text`` and ``numeric`` fields, a
``Jumlah`` row, a double-spaced name, ``-`` for no value).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from harvesters.transport import load_exact
from opendata import create_app
from opendata.cli import cli
from opendata.store import make_engine
from opendata.store import schema as t
from tests.harvesters.ckan_server import CKANStandIn, Resource

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ckan" / "retribusi-kabkota"
RID = "5f0c2e1a-7b3d-4c8e-9a6f-1d2e3f4a5b6c"
DATASET = "retribusi-kabkota"
ENTRY = """\
id: retribusi-kabkota
title: {{id: Realisasi retribusi daerah menurut kabupaten/kota, en: Levies collected by regency}}
source: ckan
ckan:
  url: {url}
  resource_id: 5f0c2e1a-7b3d-4c8e-9a6f-1d2e3f4a5b6c
table:
  region: {{column: Kabupaten/Kota, by: name, within: "6300"}}
  periods: across
  dimensions:
    - {{column: Jenis Retribusi, id: jenis_retribusi, label: Jenis retribusi}}
  indicator: {{code: retribusi, name: Realisasi retribusi daerah, unit: Rp}}
"""
#: (region, period, levy, value, flag) as the CSV gives them, in its order (series, then period)
EXPECTED = [
    ("6300", "2022", "_T", "19943863841.34", ""),
    ("6300", "2023", "_T", "20542234466.46", ""),
    ("6303", "2022", "retribusi_jasa_umum", "8002269316.91", ""),
    ("6303", "2023", "retribusi_jasa_umum", "7526389883.09", ""),
    ("6303", "2022", "retribusi_jasa_usaha", "164.43", ""),
    ("6303", "2023", "retribusi_jasa_usaha", "0", ""),
    ("6371", "2022", "retribusi_jasa_umum", "0", ""),
    ("6371", "2023", "retribusi_jasa_umum", "", "M"),
    ("6371", "2022", "retribusi_jasa_usaha", "11941594360", ""),
    ("6371", "2023", "retribusi_jasa_usaha", "13015844583.37", ""),
]


def fixture_resource() -> Resource:
    """The fixture's table as a resource the stand-in serves (it pages it itself)."""
    records = []
    fields = []
    for name in ("datastore_search_offset-0.json", "datastore_search_offset-3.json"):
        result = load_exact((FIXTURE / name).read_text(encoding="utf-8"))["result"]
        fields = [f for f in result["fields"] if f["id"] != "_id"]
        records += [{k: v for k, v in r.items() if k != "_id"} for r in result["records"]]
    return Resource(RID, fields, records, package_id="b7e2c9d4-1a3f-4e5b-8c6d-7f8091a2b3c4")


def write_entry(catalog: Path, url: str) -> None:
    catalog.mkdir(exist_ok=True)
    (catalog / f"{DATASET}.yaml").write_text(ENTRY.format(url=url), encoding="utf-8")


def invoke(store_url, catalog, *args, code=0):
    env = {
        "OPENDATA_DATABASE_URL": store_url,
        "OPENDATA_CATALOG_DIR": str(catalog),
        "OPENDATA_CKAN_REQUESTS_PER_SECOND": "1000",
    }
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def csv_rows(store_url, catalog):
    text = invoke(store_url, catalog, "export", DATASET).stdout_bytes.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def api_get(store_url, catalog, path: str):
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": catalog, "TESTING": True})
    try:
        return app.test_client().get(path)
    finally:
        app.extensions["opendata"].engine.dispose()


def statuses(store_url):
    engine = make_engine(store_url)
    with engine.connect() as conn:
        run = t.harvest_run
        found = conn.execute(select(run.c.status).order_by(run.c.id)).scalars().all()
    engine.dispose()
    return found


def assert_served_exactly(store_url, catalog):
    rows = csv_rows(store_url, catalog)
    got = [
        (r["region_code"], r["period"], r["jenis_retribusi_code"], r["value"], r["flag"])
        for r in rows
    ]
    assert got == EXPECTED
    assert {r["unit"] for r in rows} == {"Rp"}
    assert rows[0]["jenis_retribusi"] == "Jumlah"
    response = api_get(store_url, catalog, f"/api/v1/datasets/{DATASET}/observations?region=6303")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "8002269316.91" in text and "164.43" in text  # JSON numbers, digit for digit
    observations = json.loads(text, parse_float=str)["data"]
    assert [o["value"] for o in observations] == ["8002269316.91", "7526389883.09", "164.43", 0]
    info = api_get(store_url, catalog, f"/api/v1/datasets/{DATASET}").get_json()
    assert json.dumps(info).count(
        f"/dataset/b7e2c9d4-1a3f-4e5b-8c6d-7f8091a2b3c4/resource/{RID}"
    ), "the indicator cites the resource's page"


def test_a_live_harvest_from_a_portal_serves_exact_figures(store_url, tmp_path):
    catalog = tmp_path / "catalog"
    with CKANStandIn([fixture_resource()], page_max=3) as portal:
        write_entry(catalog, portal.url + "/id")  # copied from the browser, locale and all
        invoke(store_url, catalog, "harvest", DATASET)
        assert portal.actions() == ["resource_show", "datastore_search", "datastore_search"]
        assert portal.offsets() == ["0", "3"]
        invoke(store_url, catalog, "harvest", DATASET)  # the same answers: nothing to write
    assert statuses(store_url) == ["ok", "unchanged"]
    assert_served_exactly(store_url, catalog)


def test_a_portal_that_fails_leaves_the_served_figures_as_they_were(store_url, tmp_path):
    catalog = tmp_path / "catalog"
    with CKANStandIn([fixture_resource()], page_max=3) as portal:
        write_entry(catalog, portal.url)
        invoke(store_url, catalog, "harvest", DATASET)
    resource = fixture_resource()
    resource.datastore_active = False  # the DataStore is being reloaded: no file either
    with CKANStandIn([resource]) as portal:
        write_entry(catalog, portal.url)
        invoke(store_url, catalog, "harvest", DATASET, code=1)
    failed = invoke(store_url, catalog, "runs", "--failed").output
    assert "no active DataStore and no file" in failed
    assert statuses(store_url) == ["ok", "failed"]
    assert_served_exactly(store_url, catalog)


def test_an_offline_harvest_reads_the_snapshot_folder(store_url, tmp_path):
    catalog = tmp_path / "catalog"
    write_entry(catalog, "https://data.example.go.id")
    shutil.copytree(FIXTURE, catalog / "snapshots" / DATASET)
    invoke(store_url, catalog, "harvest", DATASET, "--offline")
    assert_served_exactly(store_url, catalog)


def test_an_offline_harvest_names_a_missing_snapshot_file(store_url, tmp_path):
    catalog = tmp_path / "catalog"
    write_entry(catalog, "https://data.example.go.id")
    shutil.copytree(FIXTURE, catalog / "snapshots" / DATASET)
    (catalog / "snapshots" / DATASET / "datastore_search_offset-3.json").unlink()
    invoke(store_url, catalog, "harvest", DATASET, "--offline", code=1)
    failed = invoke(store_url, catalog, "runs", "--failed").output
    assert "no snapshot file datastore_search_offset-3.json" in failed
