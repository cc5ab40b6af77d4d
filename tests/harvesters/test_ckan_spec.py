"""The ``ckan:`` catalog section: where the action API is, and what a bad entry is told."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from harvesters.ckan import CKANHarvester, action_base, parse_query
from opendata.catalog import load_catalog
from opendata.exceptions import CatalogError
from tests.harvesters.ckan_server import ckan_spec

RID = "d9fbaddb-4995-4dd1-bd93-d2732998e3ac"
TABLE = {
    "region": {"code": "1403"},
    "periods": "across",
    "dimensions": [{"column": "Kelas Jalan", "id": "kelas_jalan"}],
    "indicator": {"code": "panjang_jalan", "name": "Panjang jalan", "unit": "km"},
}


@pytest.mark.parametrize(
    ("url", "api"),
    [
        ("https://data.inhilkab.go.id", "https://data.inhilkab.go.id/api/3/action"),
        ("https://data.inhilkab.go.id/", "https://data.inhilkab.go.id/api/3/action"),
        # a UI locale copied from the browser is dropped: the API needs none
        ("https://data.inhilkab.go.id/ro", "https://data.inhilkab.go.id/api/3/action"),
        ("https://data.kaltimprov.go.id/tr/", "https://data.kaltimprov.go.id/api/3/action"),
        ("https://data.example.go.id/pt_BR", "https://data.example.go.id/api/3/action"),
        ("https://data.example.go.id/zh_Hans_CN", "https://data.example.go.id/api/3/action"),
        # a portal mounted under a path keeps it
        ("https://data.semarangkab.go.id/ckan", "https://data.semarangkab.go.id/ckan/api/3/action"),
        ("https://example.go.id/ckan/id", "https://example.go.id/ckan/api/3/action"),
        # the action API itself, with or without the version, locale and all: as given
        ("https://data.example.go.id/api/3/action", "https://data.example.go.id/api/3/action"),
        ("https://data.example.go.id/api/3/action/", "https://data.example.go.id/api/3/action"),
        (
            "https://data.kaltimprov.go.id/tr/api/action",
            "https://data.kaltimprov.go.id/tr/api/action",
        ),
        ("http://127.0.0.1:5000/ckan/api/action", "http://127.0.0.1:5000/ckan/api/action"),
    ],
)
def test_the_action_api_is_found_from_the_url(url, api):
    assert action_base(url) == api


def spec_of(tmp_path, table=TABLE, **ckan):
    query = {"url": "https://data.inhilkab.go.id", "resource_id": RID, **ckan}
    url, resource_id = query.pop("url"), query.pop("resource_id")
    return ckan_spec(tmp_path, url, resource_id, table, **query)


def test_a_good_entry_is_read_with_its_defaults(tmp_path):
    query, table = parse_query(spec_of(tmp_path))
    assert (query.resource_id, query.page_size, query.sheet) == (RID, 1000, None)
    assert query.api == "https://data.inhilkab.go.id/api/3/action"
    assert query.portal == "https://data.inhilkab.go.id"
    assert table.region.code == "1403"


def test_the_file_options_are_read_as_spreadsheet_reads_them(tmp_path):
    query, _ = parse_query(spec_of(tmp_path, sheet="Tabel 1", delimiter="tab", encoding="cp1252"))
    assert (query.sheet, query.delimiter, query.encoding) == ("Tabel 1", "\t", "cp1252")


@pytest.mark.parametrize(
    ("ckan", "message"),
    [
        ({"url": None}, r"ckan\.url must be the portal's address"),
        ({"url": "data.inhilkab.go.id"}, r"ckan\.url must be an http\(s\) URL"),
        ({"url": "ftp://data.inhilkab.go.id"}, r"ckan\.url must be an http\(s\) URL"),
        (
            {"url": "https://data.inhilkab.go.id/api/3/action/datastore_search?resource_id=x"},
            r"ckan\.url must be the portal's address without '\?' or '#'",
        ),
        (
            {"url": f"https://data.inhilkab.go.id/dataset/jalan/resource/{RID}"},
            r"ckan\.url is a dataset or resource page .*give the portal's address "
            r"\(https://data\.inhilkab\.go\.id\) here and the resource's id in ckan\.resource_id",
        ),
        ({"resource_id": ""}, r"ckan\.resource_id must be the resource's id"),
        ({"resource_id": 42}, r"ckan\.resource_id must be the resource's id"),
        ({"resource_id": f"resource/{RID}"}, r"ckan\.resource_id must be the resource's id"),
        ({"page_size": 0}, r"ckan\.page_size must be a whole number from 1 to 32000"),
        ({"page_size": 50000}, r"ckan\.page_size must be a whole number from 1 to 32000"),
        ({"page_size": "100"}, r"ckan\.page_size must be a whole number"),
        ({"delimiter": "|"}, r"ckan\.delimiter must be \",\", \";\" or \"tab\""),
        ({"encoding": "klingon"}, r"ckan\.encoding: no encoding 'klingon'"),
        ({"sheet": ""}, r"ckan\.sheet must be a text"),
        ({"resource": RID}, r"ckan: unknown key 'resource': did you mean 'resource_id'\?"),
        ({"pagesize": 10}, r"ckan: unknown key 'pagesize': did you mean 'page_size'\?"),
    ],
)
def test_a_bad_ckan_section_is_refused_naming_file_and_key(tmp_path, ckan, message):
    with pytest.raises(CatalogError, match=message) as caught:
        CKANHarvester.validate_spec(spec_of(tmp_path, **ckan))
    assert str(caught.value).startswith(str(tmp_path / "demo.yaml"))


def test_a_missing_key_is_named(tmp_path):
    spec = replace(spec_of(tmp_path), query={"url": "https://data.inhilkab.go.id"})
    with pytest.raises(CatalogError, match=r"demo\.yaml: ckan\.resource_id is missing"):
        CKANHarvester.validate_spec(spec)


def test_the_table_description_is_required_and_checked(tmp_path):
    with pytest.raises(CatalogError, match=r"demo\.yaml: the key 'table' is missing"):
        CKANHarvester.validate_spec(spec_of(tmp_path, table=None))
    bad = {**TABLE, "decimal": ";"}
    with pytest.raises(CatalogError, match=r"demo\.yaml: table\.decimal must be"):
        CKANHarvester.validate_spec(spec_of(tmp_path, table=bad))


def test_the_catalog_loads_a_ckan_entry(tmp_path):
    (tmp_path / "panjang-jalan-inhil.yaml").write_text(
        f"""
id: panjang-jalan-inhil
title: Panjang jalan menurut kelas jalan, Indragiri Hilir
source: ckan
ckan:
  url: https://data.inhilkab.go.id/ro
  resource_id: {RID}
table:
  region: {{code: 1403}}
  periods: across
  dimensions:
    - {{column: Kelas Jalan, id: kelas_jalan, label: Kelas jalan}}
  indicator: {{code: panjang_jalan, name: Panjang jalan, unit: km}}
""",
        encoding="utf-8",
    )
    (spec,) = load_catalog(tmp_path).values()
    query, table = parse_query(spec)
    assert query.api == "https://data.inhilkab.go.id/api/3/action"
    assert table.dimensions[0].id == "kelas_jalan"


def test_the_harvester_imports_neither_the_store_the_web_app_nor_openpyxl():
    # the catalog loader imports harvester modules to validate entries, and the web app loads
    # the catalog: heavy libraries are imported only where a file is read
    code = "import sys, harvesters.ckan; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    forbidden = ("opendata.store", "opendata.catalog", "opendata.api", "flask", "openpyxl")
    bad = [m for m in out.stdout.split() if m.startswith(forbidden)]
    assert not bad, f"harvesters.ckan imports {bad}"
