"""Conformance on the shared samples of real CKAN answers (../shared/sources/bappeda/, §1, §3).

The stand-in portal serves each recorded ``datastore_search`` body byte for byte (and the
Kabupaten Semarang resource download as the resource's file); the harvester fetches and parses
them as it would the portal's. Each test names the quirk of SOURCES.md it holds us to.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import requests

from harvesters.ckan import CKANHarvester
from harvesters.ckan_records import json_grid
from harvesters.exceptions import ParseError
from harvesters.table import Cell
from tests.harvesters.ckan_server import SETTINGS, CKANStandIn, PortalFile, Resource, ckan_spec

BAPPEDA = Path(__file__).resolve().parents[2].parent / "shared" / "sources" / "bappeda"
KALTIM = "ckan/kaltimprov_datastore_search_retribusi.json"
INHIL = "ckan/inhilkab_datastore_search_kelas_jalan_2008_2010.json"
SEMARANG = "rpjmd/semarangkab_lppd2019_capaian_2018_2019_ckan_resource.json"


@pytest.fixture
def bappeda() -> Path:
    """The shared Bappeda samples; the test skips, saying why, where they are absent."""
    if not BAPPEDA.is_dir():
        pytest.skip(f"the shared Bappeda samples are not here: {BAPPEDA}")
    return BAPPEDA


def serve_recorded(body: bytes):
    """A script answering every datastore_search with the recorded body, as it was served."""

    def script(portal, seen):
        if seen.action == "datastore_search":
            return 200, "application/json;charset=utf-8", body
        return None

    return script


def harvest(portal_url, resource_id, table, clock, tmp_path, regions):
    spec = ckan_spec(tmp_path, portal_url, resource_id, table)
    kept = []
    with requests.Session() as http:
        harvester = CKANHarvester(SETTINGS, session=http, clock=clock)
        payloads = harvester.fetch(spec, kept.append)
    return harvester.parse(spec, payloads, regions), kept


def test_kaltim_all_text_fields_wide_by_year_with_a_locale_url(bappeda, clock, tmp_path, regions):
    body = (bappeda / KALTIM).read_bytes()
    rid = "f08781dd-b541-4790-9c58-b329d01e4cbf"
    table = {
        "region": {"code": "6400"},
        "periods": "across",
        "dimensions": [{"column": "Daftar Data", "id": "jenis_retribusi", "label": "Jenis"}],
        "indicator": {"code": "retribusi", "name": "Realisasi retribusi daerah", "unit": "Rp"},
    }
    with CKANStandIn([Resource(rid)], script=serve_recorded(body)) as portal:
        # the URL as the sample's provenance has it: a locale prefix (/tr/)
        result, kept = harvest(portal.url + "/tr", rid, table, clock, tmp_path, regions)
    # total (3) < limit (100) and _links.next is present: one page, never a second
    assert portal.actions() == ["resource_show", "datastore_search"]
    assert portal.requests[1].path == "/api/3/action/datastore_search"
    assert kept[1].body == body  # kept byte for byte
    # all fields typed text: dot-decimal and integer strings, read exactly
    values = {(r.dimensions[0][1], r.period): r.value for r in result.records}
    assert len(values) == 3 * 5
    assert str(values["retribusi_jasa_umum", "2017"]) == "8002269316.91"
    assert str(values["retribusi_jasa_umum", "2016"]) == "6915012900"
    assert str(values["retribusi_jasa_usaha", "2019"]) == "17549731329.92"
    assert str(values["retribusi_perizinan_tertentu", "2020"]) == "1053299600"
    # No, Satuan and _id are not declared: ignored; the unit comes from the catalog
    assert {r.region for r in result.records} == {"6400"}
    assert [d.id for d in result.dimensions] == ["jenis_retribusi"]
    assert result.indicators[0].unit == "Rp"


def test_inhil_numeric_fields_with_info_and_double_spaced_labels(bappeda, clock, tmp_path, regions):
    body = (bappeda / INHIL).read_bytes()
    rid = "d9fbaddb-4995-4dd1-bd93-d2732998e3ac"
    table = {
        "region": {"code": "1403"},
        "periods": "across",
        "dimensions": [{"column": "Kelas Jalan", "id": "kelas_jalan", "label": "Kelas jalan"}],
        "indicator": {"code": "panjang_jalan", "name": "Panjang jalan", "unit": "km"},
    }
    with CKANStandIn([Resource(rid)], script=serve_recorded(body)) as portal:
        result, _ = harvest(portal.url + "/ro/", rid, table, clock, tmp_path, regions)
    assert portal.offsets() == ["0"]
    # JSON numbers keep their text (ints and floats mixed); structural zeros are zeros
    values = {(r.dimensions[0][1], r.period): r.value for r in result.records}
    assert len(values) == 7 * 3
    assert str(values["kelas_ii", "2008"]) == "164.43"
    assert str(values["kelas_ii", "2009"]) == "166.6"
    assert values["kelas_i", "2010"] == Decimal(0) and values["kelas_i", "2010"] is not None
    # double spaces in labels ("Kelas  III") are one label, spaced once
    labels = [(v.code, v.label) for v in result.dimensions[0].values]
    assert ("kelas_iii", "Kelas III") in labels and ("kelas_iii_a", "Kelas III A") in labels
    assert len(labels) == 7


def test_semarang_resource_download_json_as_the_file(bappeda, clock, tmp_path, regions):
    body = (bappeda / SEMARANG).read_bytes()
    rid = "a4613b79-6cfb-4705-beac-c7f2acd52145"
    file = PortalFile("lppd-2019.json", body, "application/json")
    table = {
        "region": {"code": "3322"},
        "periods": {"Capaian_Tahun_2018": 2018, "Capaian_Tahun_2019": 2019},
        "dimensions": [{"column": "Indikator_Kinerja", "id": "indikator", "label": "Indikator"}],
        "decimal": ",",
        "indicator": {"code": "capaian_lppd", "name": "Capaian kinerja LPPD"},
    }
    resource = Resource(rid, datastore_active=False, file=file, format="JSON")
    with CKANStandIn([resource]) as portal:
        spec = ckan_spec(tmp_path, portal.url, rid, table)
        harvester = CKANHarvester(SETTINGS, clock=clock)
        payloads = harvester.fetch(spec, lambda payload: None)
    assert portal.actions() == ["resource_show", "download"]
    assert payloads[1].body == body
    # 18 rows share one indicator name (the kecamatan was lost): two rows would give the same
    # observation, so the run fails naming the rows rather than keep one of them silently
    with pytest.raises(ParseError) as caught:
        harvester.parse(spec, payloads, regions)
    text = str(caught.value)
    assert text.startswith(f"{portal.file_url(resource)}, record 4 gives region 3322")
    assert "period 2018, indikator persentase_pemenuhan_pelayanan_kesehatan_masyarakat" in text
    assert "again (first in row 3)" in text


def test_semarang_file_as_a_grid_keeps_every_cell_as_published(bappeda):
    grid = json_grid((bappeda / SEMARANG).read_bytes(), "lppd-2019.json")
    rows = list(grid.rows)
    header = ("_id", "Indikator_Kinerja", "Capaian_Tahun_2018", "Capaian_Tahun_2019")
    assert rows[0] == [Cell(text) for text in header]
    assert len(rows) == 1 + 83
    by_id = {row[0].value: row for row in rows[1:]}
    assert by_id[1][2:] == [Cell("75,57"), Cell("75,00")]  # decimal comma, as text
    assert by_id[33][2:] == [Cell("WTP"), Cell("WTP")]  # Opini BPK: no number
    assert by_id[57][1].value.endswith("perhari (m\ufffd)")  # the mangled ³, kept as sent
