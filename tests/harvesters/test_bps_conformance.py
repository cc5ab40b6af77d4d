"""Conformance: the BPS harvester on every recorded BPS response in ../shared/sources/bps.

The recorded files stay outside the project (they are other repositories' fixtures); these tests
read them in place and skip, saying why, where the folder is absent.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from harvesters.bps import BPSHarvester
from harvesters.exceptions import SourceConfigurationError, UpstreamError
from opendata.model import Region
from tests.harvesters.conftest import SHARED, make_spec, payload, recorded, replay_session

RESPONSES = sorted((SHARED / "responses").glob("*.json")) if SHARED.is_dir() else []

#: file -> (domain, var, records, dimension ids)
EXPECTED = {
    "bpslooker_0000_var1804_2017-2019.json": ("0000", 1804, 9, ["jenis_korban"]),
    "cekkemiskinan_0000_var624_garis_kemiskinan_2025.json": ("0000", 624, 552, []),
    "nusaintel_0000_var192_p0_maret_2023-2025.json": ("0000", 192, 113, ["turvar"]),
    "nusaintel_0000_var288_pdrb_per_kapita_2023-2025.json": ("0000", 288, 234, ["harga"]),
    "nusaintel_0000_var543_tpt_agustus_2023-2025.json": ("0000", 543, 113, []),
    "pranata_1273_var1_inflasi_mtm_2024.json": ("1273", 1, 13, []),
    "pranata_1273_var32_penduduk_kec_jk_2024.json": ("1273", 32, 27, ["jenis_kelamin"]),
    "wartoskrw_3215_var570_tpt_2013-2025.json": ("3215", 570, 12, []),
    "wartoskrw_3215_var610_pdrb_triwulan_2026.json": (
        "3215",
        610,
        17,
        ["lapangan_usaha_17_kategori"],
    ),
}
DATA_URL = "https://webapi.bps.go.id/v1/api/list?model=data&domain={}&var={}&th=124&key=***"


def decode(tmp_path, regions, name, *extra, folder="responses"):
    """Parse one recorded file (plus extra payloads) as its dataset; return the ParseResult."""
    domain, var = EXPECTED[name][:2] if name in EXPECTED else ("0000", 1)
    url, body, _, _ = recorded(SHARED / folder / name)
    spec = make_spec(tmp_path, domain=domain, var=var, years=2024)
    payloads = [payload(body, url or DATA_URL.format(domain, var)), *extra]
    return BPSHarvester({}).parse(spec, payloads, regions)


def cells(result):
    return {(r.region, r.period, r.dimensions): r.value for r in result.records}


@pytest.fixture(autouse=True)
def _needs_shared(shared):
    """Every test here reads the shared folder (skipped where it is absent)."""


def test_every_recorded_response_is_covered(shared):
    assert {p.name for p in (shared / "responses").glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.name)
def test_every_cell_of_every_recorded_response_decodes(tmp_path, regions, path):
    _, var, count, dimension_ids = EXPECTED[path.name]
    document = json.loads(path.read_text(encoding="utf-8"))
    body = document.get("body", document)
    result = decode(tmp_path, regions, path.name)
    assert len(result.records) == count == len(body["datacontent"])  # one record per cell
    assert [d.id for d in result.dimensions] == dimension_ids
    assert all(r.indicator == str(var) for r in result.records)
    assert all(isinstance(r.value, Decimal) for r in result.records)
    assert result.indicators[0].code == str(var)
    assert result.indicators[0].source_ref.endswith(f"var={var}")
    assert "key" not in result.indicators[0].source_ref
    assert not result.no_data


def test_var1804_rows_are_victim_types(tmp_path, regions):
    result = decode(tmp_path, regions, "bpslooker_0000_var1804_2017-2019.json")
    (victims,) = result.dimensions
    assert (victims.id, victims.label) == ("jenis_korban", "Jenis Korban")
    assert [v.code for v in victims.values] == ["1", "2", "3"]
    assert {r.region for r in result.records} == {"0000"}
    assert cells(result)[("0000", "2018", (("jenis_korban", "3"),))] == Decimal("10417179")
    assert result.indicators[0].notes == (
        "- Sumber : BNPB (Data Hasil Kunjungan)\n- Data tahun 2019 adalah data sampai Oktober 2019"
    )


def test_var624_regencies_with_bold_province_rows(tmp_path, regions):
    result = decode(tmp_path, regions, "cekkemiskinan_0000_var624_garis_kemiskinan_2025.json")
    values = cells(result)
    assert values[("6371", "2025", ())] == Decimal("752092")  # Kota Banjarmasin
    assert values[("6300", "2025", ())] == Decimal("650675")  # <b>KALIMANTAN SELATAN</b>
    assert values[("9501", "2025", ())] == Decimal("517764")  # Merauke, new Papua Selatan
    kalsel = sorted(r.region for r in result.records if r.region.startswith("63"))
    assert kalsel == ["6300", *[f"63{n:02d}" for n in range(1, 12)], "6371", "6372"]
    assert result.regions == [] and result.messages == []
    assert result.indicators[0].decimals == 2


def test_var192_semester_values_stay_exact(tmp_path, regions):
    result = decode(tmp_path, regions, "nusaintel_0000_var192_p0_maret_2023-2025.json")
    values = cells(result)
    jumlah = (("turvar", "434"),)
    assert str(values[("1500", "2024-S1", jumlah)]) == "7.1"
    assert values[("0000", "2023-S1", jumlah)] == Decimal("9.36")  # 9999: Indonesia
    assert result.dimensions[0].values[0].is_total
    for province in ("9200", "9500", "9600", "9700"):  # the new Papua provinces: from 2024
        periods = sorted(r.period for r in result.records if r.region == province)
        assert periods == ["2024-S1", "2025-S1"]
    assert "dimensions.turvar" in result.messages[0]


def test_var288_price_basis_columns(tmp_path, regions):
    result = decode(tmp_path, regions, "nusaintel_0000_var288_pdrb_per_kapita_2023-2025.json")
    (price,) = result.dimensions
    assert [(v.code, v.label) for v in price.values] == [
        ("530", "Harga Berlaku"),
        ("531", "Harga Konstan 2010"),
    ]
    values = cells(result)
    assert values[("6300", "2023", (("harga", "530"),))] == Decimal("63754.33")
    assert values[("6300", "2023", (("harga", "531"),))] == Decimal("35342.1")


def test_var543_survey_month_is_august(tmp_path, regions):
    result = decode(tmp_path, regions, "nusaintel_0000_var543_tpt_agustus_2023-2025.json")
    assert {r.period for r in result.records} == {"2023-08", "2024-08", "2025-08"}
    values = cells(result)
    assert values[("6300", "2025-08", ())] == Decimal("4.16")
    assert values[("9500", "2024-08", ())] == Decimal("4.05")
    assert values[("0000", "2023-08", ())] == Decimal("5.32")
    regions_2023 = {r.region for r in result.records if r.period == "2023-08"}
    new_papua = {"9200", "9500", "9600", "9700"}  # Papua Barat Daya and the three of 2022
    assert {"9100", "9400"} <= regions_2023 and not new_papua & regions_2023
    assert all(any(r.region == code for r in result.records) for code in new_papua)


def test_var1_months_and_the_annual_total(tmp_path, regions):
    result = decode(tmp_path, regions, "pranata_1273_var1_inflasi_mtm_2024.json")
    assert [r.period for r in result.records] == [
        *(f"2024-{m:02d}" for m in range(1, 13)),
        "2024",
    ]
    values = cells(result)
    assert values[("1273", "2024-01", ())] == Decimal("0.88")
    assert values[("1273", "2024-10", ())] == Decimal("0.39")  # key 12731012410
    assert values[("1273", "2024", ())] == Decimal("2.86")  # Tahunan
    assert result.indicators[0].decimals is None


def test_var32_districts_of_pematangsiantar(tmp_path, regions):
    turvar_url, turvar_body, _, _ = recorded(SHARED / "lists" / "pranata_1273_turvar_var32.json")
    group = payload(turvar_body, turvar_url, model="turvar")
    result = decode(tmp_path, regions, "pranata_1273_var32_penduduk_kec_jk_2024.json", group)
    districts = ["1273010", "1273011", "1273020", "1273030", "1273040", "1273050"]
    assert [r.code for r in result.regions] == [*districts, "1273060", "1273061"]
    assert result.regions[0] == Region("1273010", "Siantar Marihat", "district", "1273")
    (sex,) = result.dimensions
    assert (sex.id, sex.label) == ("jenis_kelamin", "Jenis Kelamin")
    assert result.messages == []  # the turvar list named the group
    values = cells(result)
    assert values[("1273010", "2024", (("jenis_kelamin", "27"),))] == Decimal("10668")
    assert values[("1273", "2024", (("jenis_kelamin", "29"),))] == Decimal("277054")


def test_var570_a_long_series_on_a_regency_domain(tmp_path, regions):
    result = decode(tmp_path, regions, "wartoskrw_3215_var570_tpt_2013-2025.json")
    assert [r.period for r in result.records] == [str(y) for y in range(2013, 2026) if y != 2016]
    assert cells(result)[("3215", "2025", ())] == Decimal("7.99")


def test_var610_quarters_by_business_sector(tmp_path, regions):
    result = decode(tmp_path, regions, "wartoskrw_3215_var610_pdrb_triwulan_2026.json")
    assert {r.period for r in result.records} == {"2026-Q1"}
    (sectors,) = result.dimensions
    assert len(sectors.values) == 17
    key = (("lapangan_usaha_17_kategori", "3"),)
    assert cells(result)[("3215", "2026-Q1", key)] == Decimal("58373.02")
    assert result.indicators[0].definition.startswith("* Angka sementara/Preliminary Figures\n")


# --- recorded no-data answers and errors ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "bpslooker_data_list_not_available.json",
        "nusaintel_var543_list_not_available.json",
        "wartoskrw_3215_var570_2026_empty_datacontent.json",
    ],
)
def test_recorded_no_data_answers(tmp_path, regions, name):
    result = decode(tmp_path, regions, name, folder="errors")
    assert result.no_data and result.records == []


def _answer(name: str, folder: str = "errors") -> tuple[int, str, bytes]:
    _, body, status, content_type = recorded(SHARED / folder / name)
    return status, content_type, body


def _fetch(tmp_path, clock, spec_query, *answers):
    session = replay_session(*answers)
    kept = []
    settings = {"BPS_API_KEY": "recorded-key-0001"}
    spec = make_spec(tmp_path, **spec_query)
    with session:
        harvester = BPSHarvester(settings, session=session, clock=clock)
        try:
            payloads = harvester.fetch(spec, kept.append)
        finally:
            ths = [parse_qs(urlsplit(u).query).get("th", [""])[0] for u in session.replay.urls]
    return payloads, kept, ths


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("bpslooker_error_bad_key.json", "BPS rejected the API key (OPENDATA_BPS_API_KEY)"),
        ("nusaintel_missing_key_error.json", "API key is missing (set OPENDATA_BPS_API_KEY)"),
        ("bpslooker_error_data_missing_th.json", "rejected the years (th)"),
        ("bpslooker_error_waf_block.json", "firewall blocked"),
        ("bpslooker_error_data_too_many_th.json", "at most 3 year(s) per call, but refused 3"),
    ],
)
def test_recorded_errors_fail_with_a_clear_cause(tmp_path, clock, name, words):
    query = {"domain": "0000", "var": 1804, "years": "2017-2019"}
    # a key problem is the operator's to fix (exit 2); the others are upstream failures (exit 1)
    expected = SourceConfigurationError if "API key" in words else UpstreamError
    with pytest.raises(expected) as caught:
        _fetch(tmp_path, clock, query, _answer(name))
    assert words in str(caught.value)
    assert "recorded-key-0001" not in str(caught.value)


def test_the_recorded_maximum_shrinks_the_windows(tmp_path, clock):
    data = _answer("bpslooker_0000_var1804_2017-2019.json", "responses")
    maximum = _answer("bpslooker_error_data_prov_max_2_th.json")
    query = {"domain": "0000", "var": 1804, "years": "2017-2019"}
    payloads, kept, ths = _fetch(tmp_path, clock, query, maximum, data)
    assert ths == ["117:119", "117:118", "119"]
    assert len(kept) == 3 and len(payloads) == 2


def test_the_recorded_null_splits_the_window(tmp_path, clock):
    data = _answer("bpslooker_0000_var1804_2017-2019.json", "responses")
    null = _answer("bpslooker_data_null_too_large.json")
    query = {"domain": "0000", "var": 1804, "years": "2018-2019"}
    payloads, kept, ths = _fetch(tmp_path, clock, query, null, data)
    assert ths == ["118:119", "118", "119"]
    assert kept[0].body == b"null" and len(payloads) == 2


def test_the_recorded_year_list_ends_open_ended_years(tmp_path, clock):
    years = _answer("bpslooker_th_0000_1804.json", "lists")
    data = _answer("bpslooker_0000_var1804_2017-2019.json", "responses")
    query = {"domain": "0000", "var": 1804, "years": "2015-"}
    _, _, ths = _fetch(tmp_path, clock, query, years, data)
    assert ths == ["", "115:117", "118:119"]  # th list (latest 2019), then the windows


def test_the_recorded_paged_year_list_is_read_to_its_last_page(tmp_path, clock):
    page = _answer("nusaintel_tpt_periods_543_live.json", "lists")  # page 1 of 4
    data = _answer("nusaintel_0000_var543_tpt_agustus_2023-2025.json", "responses")
    query = {"domain": "0000", "var": 543, "years": "2025-"}
    _, kept, ths = _fetch(tmp_path, clock, query, page, page, page, page, data)
    assert ths == ["", "", "", "", "125:126"]  # 4 pages, latest 2026
    assert [p.params.get("page") for p in kept[:4]] == [None, "2", "3", "4"]


def test_shared_folder_location():
    assert SHARED == Path(__file__).resolve().parents[2].parent / "shared" / "sources" / "bps"
