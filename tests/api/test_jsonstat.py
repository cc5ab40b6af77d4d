"""JSON-stat downloads: read back by pyjstat, checked against JSON-stat 2.0's rules, exact values.

On the demo catalog (a dataset with two breakdowns and flags, one with flags and notes) and on
the small test store (``7.10``, ``-0.47``, 35 significant digits, a missing value), on both
stores; and a dataset of two indicators with their units.
"""

from __future__ import annotations

import csv
import io
import json
import math
from decimal import Decimal

import pytest
from pyjstat import pyjstat
from sqlalchemy import select

from opendata.formats import jsonstat as jsonstat_format
from opendata.model import Dimension, DimensionValue, Indicator, ParseResult, Record
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run
from opendata.store.writer import write_dataset
from tests import fakes
from tests.api.conftest import CELLS, harvest_bundled

#: pyjstat's own Dataset.write("dataframe") calls its deprecated from_json_stat (pyjstat 2.4)
pytestmark = pytest.mark.filterwarnings("ignore:Shouldn't use this function:DeprecationWarning")

DEMO = (
    "pengaduan-sp4n-lapor",  # two breakdowns, flags
    "kinerja-makro-kalsel-2014",  # flags and notes
    "pdrb-per-kapita-provinsi",  # a breakdown, units with decimals
    "target-tpt-kalsel",  # ranges (value_to)
)


def url(dataset_id: str, query: str = "") -> str:
    path = f"/api/v1/datasets/{dataset_id}/observations"
    return f"{path}.jsonstat?{query}" if query else f"{path}.jsonstat"


def exact(response) -> dict:
    """The body with every number as the text it was written with."""
    return json.loads(response.get_data(as_text=True), parse_float=str, parse_int=str)


def check_rules(cube: dict) -> None:
    """What JSON-stat 2.0 asks of a dataset that a test can assert."""
    assert cube["version"] == "2.0"
    assert cube["class"] == "dataset"
    assert len(cube["id"]) == len(cube["size"]) == len(cube["dimension"])
    assert set(cube["id"]) == set(cube["dimension"])
    for dim_id, size in zip(cube["id"], cube["size"], strict=True):
        category = cube["dimension"][dim_id]["category"]
        assert len(category["index"]) == int(size) == len(set(category["index"]))
        assert list(category["label"]) == category["index"]  # every category labelled, in order
        assert set(category.get("unit", {})) <= set(category["index"])
    for role, ids in cube["role"].items():
        assert role in ("time", "geo", "metric")
        assert set(ids) <= set(cube["id"])
    total = math.prod(int(size) for size in cube["size"])
    positions = [int(key) for key in cube["value"]]
    assert positions == sorted(positions)  # written in position order
    assert all(0 <= p < total for p in positions)
    assert set(cube["status"]) <= set(cube["value"])


def position(cube: dict, categories: dict[str, str]) -> str:
    """The row-major position of a cell given the category of each dimension."""
    at = 0
    for dim_id, size in zip(cube["id"], cube["size"], strict=True):
        index = cube["dimension"][dim_id]["category"]["index"]
        at = at * int(size) + index.index(categories[dim_id])
    return str(at)


def long_csv(client, dataset_id: str, query: str = "") -> list[dict]:
    path = f"/api/v1/datasets/{dataset_id}/observations.csv" + (f"?{query}" if query else "")
    return list(csv.DictReader(io.StringIO(client.get(path).get_data(as_text=True))))


@pytest.fixture
def demo_client(store_url, make_app):
    harvest_bundled(store_url, DEMO)
    return make_app().test_client()


@pytest.mark.parametrize("dataset_id", DEMO)
def test_every_csv_row_is_a_cell_of_the_cube_with_its_digits_and_flag(demo_client, dataset_id):
    response = demo_client.get(url(dataset_id))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    cube = exact(response)
    check_rules(cube)
    rows = long_csv(demo_client, dataset_id)
    assert len(cube["value"]) == len(rows)
    breakdowns = [d for d in cube["id"] if d not in ("indicator", "region", "period")]
    for row in rows:
        cell = {"region": row["region_code"], "period": row["period"]}
        cell |= {d: row[f"{d}_code"] for d in breakdowns}
        cell["indicator"] = cube["dimension"]["indicator"]["category"]["index"][0]
        at = position(cube, cell)
        assert cube["value"][at] == (row["value"] or None)
        assert cube["status"].get(at) == (row["flag"] or None)
        assert cube["extension"].get("note", {}).get(at) == (row["note"] or None)
        assert cube["extension"].get("value_to", {}).get(at) == (row.get("value_to") or None)
        region = cube["dimension"]["region"]["category"]["label"][row["region_code"]]
        assert region == row["region_name"]
        units = cube["dimension"]["indicator"]["category"].get("unit", {})
        assert units.get(cell["indicator"], {}).get("label") == (row["unit"] or None)


def test_pyjstat_reads_two_breakdowns_and_the_flags(demo_client):
    text = demo_client.get(url("pengaduan-sp4n-lapor")).get_data(as_text=True)
    dataset = pyjstat.Dataset.read(text)
    frame = dataset.write("dataframe", naming="id")
    assert list(frame.columns) == ["indicator", "region", "cakupan", "status", "period", "value"]
    rows = long_csv(demo_client, "pengaduan-sp4n-lapor")
    assert {r["flag"] for r in rows} == {"a", "b", "c"}  # flags: see the test above
    filled = frame.dropna(subset=["value"])
    got = {(r.cakupan, r.status, r.period): r.value for r in filled.itertuples()}
    assert got == {
        (r["cakupan_code"], r["status_code"], r["period"]): float(r["value"]) for r in rows
    }
    by_label = dataset.write("dataframe")  # naming="label": the labels users see
    assert "Status aduan" in by_label.columns
    assert set(by_label["Region"]) == {"Provinsi Kalimantan Selatan"}


def test_pyjstat_reads_status_as_the_flags(demo_client):
    dataset = pyjstat.Dataset.read(demo_client.get(url("kinerja-makro-kalsel-2014")).text)
    flags = dataset.write("dataframe", naming="id", value="status").dropna(subset=["status"])
    rows = [r for r in long_csv(demo_client, "kinerja-makro-kalsel-2014") if r["flag"]]
    assert sorted(flags["status"]) == sorted(r["flag"] for r in rows)
    assert set(flags["indikator"]) == {r["indikator_code"] for r in rows}


def test_values_keep_their_digits_and_a_missing_one_is_null(client):
    body = client.get(url("demo")).get_data(as_text=True)
    for digits in ("7.10", "-0.47", "683244", "0.000000000000000000012345678901234567"):
        assert f":{digits}," in body or f":{digits}}}" in body
    cube = exact(client.get(url("demo")))
    check_rules(cube)
    assert cube["id"] == ["indicator", "region", "jenis_kelamin", "period"]
    assert cube["role"] == {"metric": ["indicator"], "geo": ["region"], "time": ["period"]}
    for (region, period, sex), value in CELLS.items():
        cell = {"indicator": "1", "region": region, "jenis_kelamin": sex, "period": period}
        assert cube["value"][position(cube, cell)] == value
    missing = {"indicator": "1", "region": "6371", "jenis_kelamin": "1", "period": "2024"}
    assert cube["value"][position(cube, missing)] is None
    # periods in time order: a month before the quarter and year that start the same day
    periods = cube["dimension"]["period"]["category"]["index"]
    assert periods.index("2024-01") < periods.index("2024-Q1") < periods.index("2024")
    assert cube["dimension"]["region"]["category"]["index"] == sorted(
        {region for region, _p, _s in CELLS}
    )
    assert cube["dimension"]["indicator"]["category"]["unit"] == {
        "1": {"label": "Jiwa", "decimals": "0"}
    }
    assert pyjstat.Dataset.read(body).write("dataframe")["value"].notna().sum() == 11


def test_filters_narrow_the_categories(client):
    cube = exact(client.get(url("demo", "region=63.71&from=2024-Q1&dim.jenis_kelamin=1")))
    check_rules(cube)
    assert cube["dimension"]["region"]["category"]["index"] == ["6371"]
    assert cube["dimension"]["jenis_kelamin"]["category"]["index"] == ["1"]
    periods = cube["dimension"]["period"]["category"]["index"]
    assert periods == ["2024-Q1", "2024", "2024-Q3", "2024-S2", "2024-08"]  # start, then end
    assert cube["size"] == ["1", "1", "1", "5"]
    assert cube["href"] == url("demo", "region=63.71&from=2024-Q1&dim.jenis_kelamin=1")


def test_an_empty_answer_is_an_empty_cube(client):
    cube = exact(client.get(url("demo", "from=2030")))
    assert cube["value"] == {} and cube["status"] == {}
    assert [int(size) for size in cube["size"]] == [0, 0, 0, 0]


def test_bad_filters_are_problems_and_missing_regions_warnings(client):
    response = client.get(url("demo", "dim.warna=1"))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "warna" in response.get_json()["detail"]
    assert client.get(url("nope")).status_code == 404
    assert client.get(url("demo", "as_of=2026-01-01")).status_code == 400
    response = client.get(url("demo", "region=6372,6301"))
    assert "6301" in response.headers["Opendata-Warnings"]
    assert "6301" in exact(response)["extension"]["warnings"][0]


def test_an_etag_gives_304(client):
    response = client.get(url("demo"))
    again = client.get(url("demo"), headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_several_indicators_make_an_indicator_dimension_with_their_units(engine, make_app):
    sexes = [DimensionValue("1", "Laki-laki"), DimensionValue("2", "Perempuan")]
    result = ParseResult(
        indicators=[
            Indicator("pop", "Penduduk", unit="Jiwa", decimals=0),
            Indicator("tpt", "Tingkat pengangguran terbuka", unit="Persen", decimals=2),
        ],
        dimensions=[Dimension("jenis_kelamin", "Jenis Kelamin", sexes)],
        records=[
            Record("pop", "6371", "2024", (("jenis_kelamin", "1"),), Decimal("330000")),
            Record("tpt", "6371", "2024", (("jenis_kelamin", "1"),), Decimal("4.50")),
            Record("tpt", "6371", "2024", (("jenis_kelamin", "2"),), Decimal("5.10")),
        ],
    )
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, fakes.spec("demo"), "Fake source", result, run_id, known)
        finish_run(conn, run_id, "ok", counts)
    response = make_app().test_client().get(url("demo"))
    cube = exact(response)
    check_rules(cube)
    indicator = cube["dimension"]["indicator"]["category"]
    assert indicator["index"] == ["pop", "tpt"]
    assert indicator["label"] == {"pop": "Penduduk", "tpt": "Tingkat pengangguran terbuka"}
    assert indicator["unit"] == {
        "pop": {"label": "Jiwa", "decimals": "0"},
        "tpt": {"label": "Persen", "decimals": "2"},
    }
    cell = {"indicator": "tpt", "region": "6371", "jenis_kelamin": "2", "period": "2024"}
    assert cube["value"][position(cube, cell)] == "5.10"
    frame = pyjstat.Dataset.read(response.text).write("dataframe", naming="id")
    assert len(frame.dropna(subset=["value"])) == 3


def test_chunk_boundaries_keep_the_json_whole(client, monkeypatch):
    monkeypatch.setattr(jsonstat_format, "CHUNK_CELLS", 2)  # 12 cells: six full chunks
    response = client.get(url("demo"))
    assert response.is_streamed
    chunks = [chunk.decode() for chunk in response.response]
    assert len(chunks) == 9  # the head, six chunks of values, "}", status and extension
    cube = json.loads("".join(chunks), parse_float=str, parse_int=str)
    assert sorted(cube["value"].values(), key=str) == sorted(CELLS.values(), key=str)


def test_a_breakdown_called_indicator_leaves_the_metric_another_id():
    assert jsonstat_format.metric_id(["jenis_kelamin"]) == "indicator"
    assert jsonstat_format.metric_id(["indicator"]) == "indicator_dim"
    assert jsonstat_format.metric_id(["indicator", "indicator_dim"]) == "indicator_dim_dim"
