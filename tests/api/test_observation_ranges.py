"""A target's ranges end to end: a spreadsheet of targets -> harvest -> JSON and CSV show both ends.

A tiny catalog in tmp_path: ``tpt-provinsi`` (the actual figures) and ``target-tpt`` (its plan
targets, ``target: {of: {dataset: tpt-provinsi}}``), each a semicolon CSV whose cells include
ranges. Only the target set reads them as ranges; the actual dataset serves exactly what it
served before ranges existed.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from harvesters.table import parse_table_spec
from opendata import create_app
from opendata.cli import cli
from opendata.exceptions import CatalogError

ACTUAL = """\
id: tpt-provinsi
title: Tingkat pengangguran terbuka
source: spreadsheet
spreadsheet: {path: tpt.csv}
table:
  region: {column: Wilayah}
  periods: across
  decimal: ","
  indicator: {code: tpt, name: Tingkat pengangguran terbuka, unit: Persen}
"""
TARGET = """\
id: target-tpt
title: Target tingkat pengangguran terbuka (RPJMD)
source: spreadsheet
spreadsheet: {path: target.csv}
target:
  of: {dataset: tpt-provinsi}
  better: lower
  document: RPJMD Provinsi Kalimantan Selatan 2021-2026
table:
  region: {column: Wilayah}
  periods: across
  decimal: ","
  marks: {"*": target perubahan}
  indicator: {code: tpt, name: Target tingkat pengangguran terbuka, unit: Persen}
"""
ACTUAL_CSV = "Wilayah;2023;2024\nKalimantan Selatan;4,31;4,56\nKota Banjarmasin;6,0-6,9;-\n"
TARGET_CSV = (
    "Wilayah;2024;2025;2026\n"
    "Kalimantan Selatan;6,0-6,9;5,80 s.d. 6,70;4,25\n"
    "Kota Banjarmasin;0,22-0,18*;-;9.200.000-10.600.000\n"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "tpt-provinsi.yaml").write_text(ACTUAL, encoding="utf-8")
    (folder / "target-tpt.yaml").write_text(TARGET, encoding="utf-8")
    (folder / "tpt.csv").write_text(ACTUAL_CSV, encoding="utf-8")
    (folder / "target.csv").write_text(TARGET_CSV, encoding="utf-8")
    return folder


def invoke(store_url, folder, *args):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": str(folder)}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def harvested(store_url, folder):
    invoke(store_url, folder, "db", "upgrade")
    invoke(store_url, folder, "harvest", "--all")
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": folder, "TESTING": True})
    yield app.test_client()
    app.extensions["opendata"].engine.dispose()


def get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_json_shows_both_ends_exactly_right_after_value(harvested):
    body = get(harvested, "/api/v1/datasets/target-tpt/observations")
    assert '"value":6.0,"value_to":6.9,"unit"' in body
    assert '"value":5.80,"value_to":6.70,"unit"' in body
    assert '"value":0.22,"value_to":0.18,"unit"' in body  # descending, as published
    assert '"value":9200000,"value_to":10600000,"unit"' in body
    rows = json.loads(body, parse_float=Decimal)["data"]
    got = [
        (r["region"]["code"], r["period"], r["value"], r.get("value_to", "-"), r["flag"])
        for r in rows
    ]
    assert got == [
        ("6300", "2024", Decimal("6.0"), Decimal("6.9"), None),
        ("6300", "2025", Decimal("5.80"), Decimal("6.70"), None),
        ("6300", "2026", Decimal("4.25"), "-", None),  # a single figure: no value_to key
        ("6371", "2024", Decimal("0.22"), Decimal("0.18"), "*"),
        ("6371", "2025", None, "-", "M"),
        ("6371", "2026", Decimal("9200000"), Decimal("10600000"), None),
    ]
    assert rows[3]["note"] == "target perubahan"


def test_value_to_survives_paging(harvested):
    first = json.loads(get(harvested, "/api/v1/datasets/target-tpt/observations?limit=3"))
    second = json.loads(get(harvested, first["next"]))
    assert [r.get("value_to") for r in first["data"] + second["data"]] == [
        6.9,
        6.7,
        None,
        0.18,
        None,
        10600000,
    ]


def test_a_target_sets_csv_has_value_to_after_value(harvested, store_url, folder):
    body = get(harvested, "/api/v1/datasets/target-tpt/observations.csv?region=6371")
    assert body == (
        "dataset,region_code,region_name,period,value,value_to,unit,flag,note\r\n"
        "target-tpt,6371,Kota Banjarmasin,2024,0.22,0.18,Persen,*,target perubahan\r\n"
        "target-tpt,6371,Kota Banjarmasin,2025,,,Persen,M,\r\n"
        "target-tpt,6371,Kota Banjarmasin,2026,9200000,10600000,Persen,,\r\n"
    )
    exported = invoke(store_url, folder, "export", "target-tpt").output
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [
        (r["period"], r["value"], r["value_to"]) for r in rows if r["region_code"] == "6300"
    ] == [
        ("2024", "6.0", "6.9"),
        ("2025", "5.80", "6.70"),
        ("2026", "4.25", ""),
    ]


def test_a_dataset_that_is_no_target_is_served_as_before(harvested, store_url, folder):
    body = get(harvested, "/api/v1/datasets/tpt-provinsi/observations?region=6371")
    assert json.loads(body)["data"] == [
        {
            "region": {"code": "6371", "name": "Kota Banjarmasin"},
            "period": "2023",
            "dimensions": {},
            "value": None,
            "unit": "Persen",
            "flag": "L",
            "note": "6,0-6,9",
        },
        {
            "region": {"code": "6371", "name": "Kota Banjarmasin"},
            "period": "2024",
            "dimensions": {},
            "value": None,
            "unit": "Persen",
            "flag": "M",
            "note": None,
        },
    ]
    assert "value_to" not in get(harvested, "/api/v1/datasets/tpt-provinsi/observations")
    expected = (
        "dataset,region_code,region_name,period,value,unit,flag,note\r\n"
        "tpt-provinsi,6300,Provinsi Kalimantan Selatan,2023,4.31,Persen,,\r\n"
        "tpt-provinsi,6300,Provinsi Kalimantan Selatan,2024,4.56,Persen,,\r\n"
        'tpt-provinsi,6371,Kota Banjarmasin,2023,,Persen,L,"6,0-6,9"\r\n'
        "tpt-provinsi,6371,Kota Banjarmasin,2024,,Persen,M,\r\n"
    )
    assert get(harvested, "/api/v1/datasets/tpt-provinsi/observations.csv") == expected
    exported = invoke(store_url, folder, "export", "tpt-provinsi").output
    assert exported.replace("\r\n", "\n") == expected.replace("\r\n", "\n")


def test_a_dimension_id_may_not_repeat_the_value_to_column():
    table = {
        "region": {"code": "6300"},
        "period": {"column": "Tahun"},
        "value": {"column": "Nilai"},
        "dimensions": [{"column": "Jenis", "id": "value_to"}],
        "indicator": {"code": "x", "name": "X"},
    }
    with pytest.raises(CatalogError, match=r"'value_to' would repeat a CSV column.*'value_to_dim'"):
        parse_table_spec(table, "t.yaml: table")
