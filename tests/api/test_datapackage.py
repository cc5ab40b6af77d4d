"""Data Package downloads: ``frictionless validate`` passes on them, the CSV fetched over HTTP.

The app runs on a live local server (a thread, 127.0.0.1, a free port), since frictionless
fetches the package's CSV by its absolute URL; on the demo catalog and the test store, on both
stores.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import frictionless
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from opendata.model import Dimension, DimensionValue, Indicator, ParseResult, Record
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run
from opendata.store.writer import write_dataset
from tests import fakes
from tests.api.conftest import harvest_bundled

DEMO = (
    "pengaduan-sp4n-lapor",  # two breakdowns, flags
    "kinerja-makro-kalsel-2014",  # flags and notes
    "pdrb-per-kapita-provinsi",  # a breakdown
    "target-tpt-kalsel",  # ranges (value_to)
)


def url(dataset_id: str, query: str = "") -> str:
    path = f"/api/v1/datasets/{dataset_id}/datapackage.json"
    return f"{path}?{query}" if query else path


def serve(app):
    """Run ``app`` on 127.0.0.1 and a free port in a thread; yield its root URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def demo_root(store_url, make_app):
    harvest_bundled(store_url, DEMO)
    yield from serve(make_app())


@pytest.fixture
def root(app):
    yield from serve(app)


def valid(report: frictionless.Report) -> bool:
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    return True


@pytest.mark.parametrize("dataset_id", DEMO)
def test_frictionless_validates_the_package_and_its_csv_over_http(demo_root, dataset_id):
    package = frictionless.Package(f"{demo_root}{url(dataset_id)}")
    [resource] = package.resources
    assert resource.path == f"{demo_root}/api/v1/datasets/{dataset_id}/observations.csv"
    assert valid(package.validate())
    rows = resource.read_rows()
    assert rows and all(row["dataset"] == dataset_id for row in rows)


def test_the_schema_types_keys_and_units_read_back(demo_root):
    package = frictionless.Package(f"{demo_root}{url('pengaduan-sp4n-lapor')}")
    schema = package.resources[0].schema
    assert schema.primary_key == ["region_code", "period", "cakupan_code", "status_code"]
    assert schema.missing_values == [""]
    assert schema.get_field("value").type == "number"
    assert schema.get_field("region_code").type == "string"  # 0000 stays 0000
    assert schema.get_field("unit").constraints == {"enum": ["Aduan"]}
    assert package.licenses[0]["title"].startswith("Not stated by the sources")
    assert package.sources[0]["title"].startswith("Dinas Komunikasi dan Informatika")
    rows = package.resources[0].read_rows()
    flags = {row["flag"] for row in rows}
    assert flags == {"a", "b", "c"}


def test_the_frictionless_command_validates_it(demo_root):
    command = Path(sys.executable).with_name("frictionless")  # the venv's console script
    target = f"{demo_root}{url('target-tpt-kalsel')}"
    done = subprocess.run([command, "validate", target], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout.lower() and "invalid" not in done.stdout.lower()


def test_values_are_exact_numbers_and_filters_reach_the_csv(root):
    package = frictionless.Package(f"{root}{url('demo', 'region=6372&dim.jenis_kelamin=2')}")
    [resource] = package.resources
    assert resource.path.endswith("/observations.csv?region=6372&dim.jenis_kelamin=2")
    assert valid(package.validate())
    values = {(row["period"], row["value"]) for row in resource.read_rows()}
    assert values == {
        ("2024-01", Decimal("3.5")),
        ("2024-Q1", Decimal("0.000000000000000000012345678901234567")),
    }
    assert frictionless.Package(f"{root}{url('demo')}").resources[0].schema.get_field(
        "jenis_kelamin_code"
    ).constraints["enum"] == ["1", "2", "3"]


def test_the_url_is_the_public_one_when_set(store, make_app):
    client = make_app(PUBLIC_URL="https://data.kalselprov.go.id/statistik").test_client()
    package = client.get(url("demo")).get_json()
    assert package["resources"][0]["path"] == (
        "https://data.kalselprov.go.id/statistik/api/v1/datasets/demo/observations.csv"
    )
    assert package["id"] == "https://data.kalselprov.go.id/statistik/api/v1/datasets/demo"


def test_bad_requests_are_problems(client):
    response = client.get(url("demo"), headers={"Host": "evil.example/x"})
    assert response.status_code == 400
    assert "OPENDATA_PUBLIC_URL" in response.get_json()["detail"]
    assert client.get(url("nope")).status_code == 404
    response = client.get(url("demo", "dim.warna=1"))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    response = client.get(url("demo"), headers={"Host": "stats.example:8080"})
    path = response.get_json()["resources"][0]["path"]
    assert path == "http://stats.example:8080/api/v1/datasets/demo/observations.csv"


def test_several_indicators_have_no_primary_key(engine, make_app):
    result = ParseResult(
        indicators=[
            Indicator("pop", "Penduduk", unit="Jiwa", decimals=0),
            Indicator("tpt", "Tingkat pengangguran terbuka", unit="Persen", decimals=2),
        ],
        dimensions=[Dimension("jenis_kelamin", "Jenis Kelamin", [DimensionValue("1", "L")])],
        records=[
            Record("pop", "6371", "2024", (("jenis_kelamin", "1"),), Decimal("330000")),
            Record("tpt", "6371", "2024", (("jenis_kelamin", "1"),), Decimal("4.50")),
        ],
    )
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, fakes.spec("demo"), "Fake source", result, run_id, known)
        finish_run(conn, run_id, "ok", counts)
    app = make_app()
    schema = app.test_client().get(url("demo")).get_json()["resources"][0]["schema"]
    assert "primaryKey" not in schema
    units = next(f for f in schema["fields"] if f["name"] == "unit")
    assert units["constraints"]["enum"] == ["Jiwa", "Persen"]
    root = serve(app)
    package = frictionless.Package(f"{next(root)}{url('demo')}")
    assert valid(package.validate())
    root.close()
