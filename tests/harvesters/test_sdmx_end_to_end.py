"""SDMX end to end: a catalog entry, ``opendata harvest --offline``, then the CSV and the API.

The catalog's files are copies of our fixtures in a temporary catalog folder, as an operator
would lay them out (``files/`` beside the YAML).
"""

from __future__ import annotations

import csv
import io
import re
import shutil

import pytest
from click.testing import CliRunner

from opendata import create_app
from opendata.cli import cli
from tests.harvesters.test_sdmx_formats import FIXTURES

ENTRY = """\
id: angka-kematian-balita
title: {id: Angka kematian balita, en: Under-five mortality rate}
source: sdmx
frequency: annual
sdmx:
  path: files/%s
  structure: files/cme.structure.xml
  region: {dimension: REF_AREA, map: {IDN: "0000"}}
  indicator: {dimension: INDICATOR}
  dimensions: [{dimension: SEX, id: jenis_kelamin}]
"""


def invoke(store_url, catalog, *args):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": str(catalog)}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def api_get(store_url, catalog, path: str):
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": catalog, "TESTING": True})
    try:
        return app.test_client().get(path)
    finally:
        app.extensions["opendata"].engine.dispose()


def make_catalog(tmp_path, data_file: str):
    catalog = tmp_path / "catalog"
    (catalog / "files").mkdir(parents=True)
    for name in (data_file, "cme.structure.xml"):
        shutil.copy(FIXTURES / name, catalog / "files" / name)
    (catalog / "angka-kematian-balita.yaml").write_text(ENTRY % data_file, encoding="utf-8")
    return catalog


@pytest.mark.parametrize("data_file", ["cme.ss.xml", "cme.json", "cme.stat.csv"])
def test_an_sdmx_dataset_is_served_exactly(store_url, tmp_path, data_file):
    catalog = make_catalog(tmp_path, data_file)
    invoke(store_url, catalog, "harvest", "angka-kematian-balita", "--offline")
    log = invoke(store_url, catalog, "runs").output
    assert "skipped 1 observation(s) of 1 area(s) not in sdmx.region.map: MYS" in log

    text = invoke(store_url, catalog, "export", "angka-kematian-balita").stdout_bytes.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    fields = ["region_code", "period", "jenis_kelamin_code", "jenis_kelamin", "value"]
    fields += ["unit", "flag", "note"]
    unit = "Deaths per 1,000 live births"
    assert sorted(tuple(row[f] for f in fields) for row in rows) == [
        ("0000", "2019", "F", "Perempuan", "", unit, "M", ""),
        ("0000", "2019", "_T", "Total", "23.60", unit, "E", "Interpolated"),
        ("0000", "2020", "F", "Perempuan", "20.4278156220471", unit, "", ""),
        ("0000", "2020", "M", "Laki-laki", "25.0475199585074", unit, "", ""),
        ("0000", "2020", "_T", "Total", "22.7879767553902", unit, "", ""),
    ]

    path = "/api/v1/datasets/angka-kematian-balita/observations?dim.jenis_kelamin=_T"
    response = api_get(store_url, catalog, path)
    assert re.search(rb'"value": ?23\.60[,}]', response.data)  # the published decimals
    body = response.get_json()
    assert [
        (o["region"]["code"], o["period"], o["value"], o["flag"], o["note"]) for o in body["data"]
    ] == [
        ("0000", "2019", 23.60, "E", "Interpolated"),
        ("0000", "2020", 22.7879767553902, None, None),
    ]
    detail = api_get(store_url, catalog, "/api/v1/datasets/angka-kematian-balita").get_json()
    [indicator] = detail["indicators"]
    assert (indicator["code"], indicator["name"], indicator["unit"]) == (
        "CME_MRY0T4",
        "Under-five mortality rate",
        unit,
    )


def test_a_second_harvest_of_the_same_file_is_unchanged(store_url, tmp_path):
    catalog = make_catalog(tmp_path, "cme.csv")
    invoke(store_url, catalog, "harvest", "angka-kematian-balita", "--offline")
    invoke(store_url, catalog, "harvest", "angka-kematian-balita", "--offline")
    log = invoke(store_url, catalog, "runs").output
    assert [line.split()[4] for line in log.splitlines() if line.startswith("#")] == [
        "unchanged",
        "ok",
    ]
