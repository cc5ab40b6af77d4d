"""SDMX 2.1: the structure message, structure-specific data and SDMX-CSV 1.0, read back by sdmx1.

On the small test store (months, quarters, half-years, years, a missing value, ``7.10``, 35
significant digits) and on the demo catalog (a dataset with two breakdowns and flags, one with
flags and notes, a target set with ranges), on both stores. sdmx1 reads SDMX-CSV 2.0 only: our
SDMX-CSV 1.0 is checked against what sdmx1's own writer (``sdmx.to_csv``, which writes 1.0)
makes of the SDMX-ML, and read with the csv module and pandas.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import subprocess
import sys
from decimal import Decimal

import pytest
import sdmx

from opendata.formats import sdmx as sdmx_format
from tests.api.conftest import CELLS, harvest_bundled

DEMO = (
    "pengaduan-sp4n-lapor",  # two breakdowns, flags
    "kinerja-makro-kalsel-2014",  # flags and notes
    "target-tpt-kalsel",  # ranges (OBS_VALUE_TO)
)


def observations(dataset_id: str, query: str = "") -> str:
    return f"/api/v1/datasets/{dataset_id}/observations" + (f"?{query}" if query else "")


def structure(client, dataset_id: str):
    """The DSD of the dataset, read by sdmx1 from the structure message."""
    response = client.get(f"/api/v1/datasets/{dataset_id}/structure")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == sdmx_format.STRUCTURE_TYPE
    message = sdmx.read_sdmx(io.BytesIO(response.get_data()))
    return message


def read_data(client, dataset_id: str, query: str = ""):
    """The SDMX-ML data message read by sdmx1 with the dataset's DSD."""
    dsd = structure(client, dataset_id).structure[dataset_id]
    joined = "&".join(filter(None, [query, "format=sdmx-ml"]))
    response = client.get(observations(dataset_id, joined))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == sdmx_format.DATA_TYPE
    return sdmx.read_sdmx(io.BytesIO(response.get_data()), structure=dsd), response


def cells(message) -> dict[tuple, tuple]:
    """{(series key values..., period): (value, {attribute: value})} of a data message."""
    found = {}
    for dataset in message.data:
        for key, series in dataset.series.items():
            for obs in series:
                period = obs.dimension.get_values()[0]
                attributes = {k: v.value for k, v in obs.attached_attribute.items()}
                found[(*key.get_values(), period)] = (obs.value, attributes)
    return found


def long_csv(client, dataset_id: str, query: str = "") -> list[dict]:
    path = f"/api/v1/datasets/{dataset_id}/observations.csv" + (f"?{query}" if query else "")
    return list(csv.DictReader(io.StringIO(client.get(path).get_data(as_text=True))))


def test_the_structure_names_every_component_and_code(client):
    message = structure(client, "demo")
    dsd = message.structure["demo"]
    assert [d.id for d in dsd.dimensions] == ["REGION", "INDICATOR", "JENIS_KELAMIN", "TIME_PERIOD"]
    assert [m.id for m in dsd.measures] == ["OBS_VALUE"]
    assert [a.id for a in dsd.attributes] == ["OBS_STATUS", "UNIT_MEASURE", "OBS_COMMENT"]
    assert dsd.maintainer.id == "KALSEL_OPENDATA"
    flow = message.dataflow["demo"]
    assert flow.structure is dsd or flow.structure.id == "demo"
    regions = message.codelist["CL_DEMO_REGION"]
    assert {code.id: str(code.name) for code in regions} == {
        "6300": "Provinsi Kalimantan Selatan",
        "6371": "Kota Banjarmasin",
        "6372": "Kota Banjarbaru",
        "6371010": "Banjarmasin Selatan",
    }
    sexes = message.codelist["CL_DEMO_JENIS_KELAMIN"]
    assert [(c.id, str(c.name)) for c in sexes] == [
        ("1", "Laki-laki"),
        ("2", "Perempuan"),
        ("3", "Jumlah"),
    ]
    assert [c.id for c in message.codelist["CL_DEMO_INDICATOR"]] == ["1"]
    assert dsd.dimensions.get("REGION").local_representation.enumerated.id == "CL_DEMO_REGION"


def test_the_data_keeps_every_value_period_and_flag(client):
    message, response = read_data(client, "demo")
    got = cells(message)
    want = {}
    for (region, period, sex), value in CELLS.items():
        # the missing value has no flag in this store: no OBS_VALUE, no OBS_STATUS
        want[(region, "1", sex, period)] = (value, {"UNIT_MEASURE": "Jiwa"})
    assert got == want
    # the exact text, never through a float: 35 significant digits, a trailing zero
    assert got[("6372", "1", "2", "2024-Q1")][0] == "0.000000000000000000012345678901234567"
    assert got[("6371", "1", "2", "2024-08")][0] == "7.10"
    assert Decimal(got[("6371", "1", "1", "2024-Q1")][0]) == Decimal("-0.47")
    body = response.get_data(as_text=True)
    assert 'OBS_VALUE="7.10"' in body
    assert 'TIME_PERIOD="2024-S2"' in body and 'TIME_PERIOD="2024-08"' in body
    assert "Accept" in response.headers["Vary"].split(", ")


def test_filters_narrow_the_data_as_the_json(client):
    query = "region=6371&from=2024-03&to=2024&dim.jenis_kelamin=1"
    message, _response = read_data(client, "demo", query)
    rows = long_csv(client, "demo", query)
    assert sorted(period for *_key, period in cells(message)) == sorted(r["period"] for r in rows)
    assert {key[0] for key in cells(message)} == {"6371"}


def test_the_sdmx_csv_is_what_sdmx1_writes_of_the_sdmx_ml(client):
    message, _response = read_data(client, "demo")
    response = client.get(observations("demo", "format=sdmx-csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == sdmx_format.CSV_TYPE
    ours = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(ours[0]) == [
        "DATAFLOW",
        "REGION",
        "INDICATOR",
        "JENIS_KELAMIN",
        "TIME_PERIOD",
        "OBS_VALUE",
        "OBS_STATUS",
        "UNIT_MEASURE",
        "OBS_COMMENT",
    ]
    dataflow = structure(client, "demo").dataflow["demo"]
    dataset = message.data[0]
    dataset.described_by = dataflow
    import pandas as pd
    from sdmx.format.csv.v1 import FormatOptions

    theirs = sdmx.to_csv(
        dataset, rtype=pd.DataFrame, attributes="o", format_options=FormatOptions()
    )
    assert list(theirs.columns) == list(ours[0])  # the same columns in the same order
    # sdmx1's writer takes values through float (7.10 becomes 7.1): compare them as floats,
    # and everything else as text
    theirs = theirs.astype(object).where(theirs.notna(), "").astype(str)

    def comparable(row: dict) -> tuple:
        try:
            value = float(row["OBS_VALUE"])
        except ValueError:  # empty: no value
            value = None
        value = None if value is None or math.isnan(value) else value
        cells = list(row.values())
        return (*cells[:5], value, *cells[6:])

    assert sorted(map(comparable, ours), key=repr) == sorted(
        map(comparable, theirs.to_dict("records")), key=repr
    )
    assert {row["DATAFLOW"] for row in ours} == {"KALSEL_OPENDATA:demo(1.0)"}
    exact = {(r["REGION"], r["JENIS_KELAMIN"], r["TIME_PERIOD"]): r["OBS_VALUE"] for r in ours}
    assert exact[("6372", "2", "2024-Q1")] == "0.000000000000000000012345678901234567"
    assert exact[("6371", "1", "2024")] == ""
    frame = pd.read_csv(io.BytesIO(response.get_data()), dtype=str, keep_default_na=False)
    assert len(frame) == len(CELLS)


@pytest.fixture
def demo_client(store_url, make_app):
    harvest_bundled(store_url, DEMO)
    return make_app().test_client()


@pytest.mark.parametrize("dataset_id", DEMO)
def test_every_csv_row_is_an_sdmx_observation(demo_client, dataset_id):
    message, _response = read_data(demo_client, dataset_id)
    dsd = message.data[0].structured_by
    breakdowns = [d.id for d in dsd.dimensions][2:-1]
    got = {(k[0], *k[2:]): v for k, v in cells(message).items()}  # one indicator each
    want = {}
    for row in long_csv(demo_client, dataset_id):
        key = (row["region_code"], *(row[f"{d.lower()}_code"] for d in breakdowns), row["period"])
        attributes = {
            "OBS_STATUS": row["flag"],
            "UNIT_MEASURE": row["unit"],
            "OBS_COMMENT": row["note"],
            "OBS_VALUE_TO": row.get("value_to"),
        }
        want[key] = (row["value"] or None, {k: v for k, v in attributes.items() if v})
    assert got == want


def test_two_breakdowns_and_flags_in_sdmx_csv(demo_client):
    text = demo_client.get(observations("pengaduan-sp4n-lapor", "format=sdmx-csv")).get_data(
        as_text=True
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:6] == [
        "DATAFLOW",
        "REGION",
        "INDICATOR",
        "CAKUPAN",
        "STATUS",
        "TIME_PERIOD",
    ]
    assert {r["OBS_STATUS"] for r in rows} == {"a", "b", "c"}
    long = long_csv(demo_client, "pengaduan-sp4n-lapor")
    assert sorted((r["CAKUPAN"], r["STATUS"], r["TIME_PERIOD"], r["OBS_VALUE"]) for r in rows) == (
        sorted((r["cakupan_code"], r["status_code"], r["period"], r["value"]) for r in long)
    )


def test_unknown_dataset_and_bad_filters_are_problems(client):
    assert client.get("/api/v1/datasets/nope/structure").status_code == 404
    assert client.get(observations("nope", "format=sdmx-ml")).status_code == 404
    bad = client.get(observations("demo", "format=sdmx-ml&updated_after=2000-01-01"))
    assert bad.status_code == 400
    assert "updated_after" in bad.get_json()["errors"]
    bad = client.get(observations("demo", "format=sdmx-csv&from=2024-13"))
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/datasets/demo/structure?x=1").status_code == 400


def test_as_of_before_the_first_harvest_is_an_empty_data_set(client):
    message, _response = read_data(client, "demo", "as_of=2000-01-01")
    assert cells(message) == {}


def test_the_structure_has_an_etag_and_304(client):
    response = client.get("/api/v1/datasets/demo/structure")
    again = client.get(
        "/api/v1/datasets/demo/structure", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_codes_that_are_no_sdmx_ids_are_escaped():
    assert sdmx_format.sdmx_id("6371") == "6371"
    assert sdmx_format.sdmx_id("a b") == "a$0020b"
    assert sdmx_format.sdmx_id("x$y") == "x$0024y"
    assert sdmx_format.sdmx_id("") == "$"
    layout = sdmx_format.Layout("demo", ("region", "obs_status", "sektor"))
    assert layout.dimensions == [
        "REGION",
        "INDICATOR",
        "REGION_DIM",
        "OBS_STATUS_DIM",
        "SEKTOR",
        "TIME_PERIOD",
    ]


def test_the_web_app_does_not_import_sdmx1_at_start():
    code = (
        "import sys; from opendata import create_app; "
        "import opendata.api, opendata.api.sdmx, opendata.api.negotiate, opendata.formats.sdmx; "
        "print('\\n'.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = set(out.stdout.split())
    assert not sorted(m for m in imported if m.split(".")[0] in ("sdmx", "pandas", "lxml"))


def test_sdmx_ml_past_its_row_limit_is_a_413_pointing_to_sdmx_csv(client, monkeypatch):
    monkeypatch.setattr(sdmx_format, "MAX_DATA_ROWS", 3)
    response = client.get(observations("demo", "region=6371&format=sdmx-ml"))
    assert response.status_code == 413
    problem = response.get_json()
    assert problem["sdmx_csv"] == "/api/v1/datasets/demo/observations?region=6371&format=sdmx-csv"
    assert problem["csv"] == "/api/v1/datasets/demo/observations.csv?region=6371"
    assert problem["sdmx_csv"] in problem["detail"]
    assert client.get(problem["sdmx_csv"]).status_code == 200
    narrow = client.get(observations("demo", "region=6372&format=sdmx-ml"))
    assert narrow.status_code == 200  # three rows: at the limit


def test_sdmx_is_gzipped_when_asked(client):
    for path in (observations("demo", "format=sdmx-ml"), "/api/v1/datasets/demo/structure"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(packed.get_data()) == plain.get_data()
    packed = client.get(
        observations("demo", "format=sdmx-csv"), headers={"Accept-Encoding": "gzip"}
    )
    assert packed.headers["Content-Encoding"] == "gzip"


def test_sdmx1_reads_sdmx_csv_2_only(client):
    """Why the SDMX-CSV 1.0 test compares with sdmx1's writer: its reader refuses 1.0 (2.28).
    Should this fail, sdmx1 reads 1.0: read our SDMX-CSV back with it instead."""
    dsd = structure(client, "demo").structure["demo"]
    body = client.get(observations("demo", "format=sdmx-csv")).get_data()
    with pytest.raises(ValueError, match="SDMX-CSV 2.0.0"):
        sdmx.read_sdmx(io.BytesIO(body), format="CSV", structure=dsd)
