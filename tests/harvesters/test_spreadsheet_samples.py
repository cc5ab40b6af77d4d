"""Conformance: the shared Bappeda/BPS table samples, read in place (never copied here).

Each quirk that ``../shared/sources/bappeda/SOURCES.md`` lists for ``tables/`` and ``rpjmd/`` has
a test. They skip, saying why, where the shared folder is absent.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from harvesters.exceptions import ParseError
from harvesters.spreadsheet import SpreadsheetHarvester
from opendata.model import DatasetSpec

BAPPEDA = Path(__file__).resolve().parents[2].parent / "shared" / "sources" / "bappeda"


@pytest.fixture
def samples() -> Path:
    if not BAPPEDA.is_dir():
        pytest.skip(f"the shared Bappeda samples are not here: {BAPPEDA}")
    return BAPPEDA


def harvest(folder: Path, query: dict, table: dict, regions):
    spec = DatasetSpec(
        id="sample",
        title={"id": "Sample"},
        source="spreadsheet",
        query=query,
        path=folder / "sample.yaml",
        extra={"table": {"indicator": {"code": "x", "name": "X"}, **table}},
    )
    harvester = SpreadsheetHarvester({}, offline=True)
    return harvester.parse(spec, harvester.fetch(spec, lambda payload: None), regions)


def by_region(result, period=None):
    return {r.region: r.value for r in result.records if period in (None, r.period)}


SUMBAR = "sumbar_ipm_components_kabkota_2022_multisheet.xlsx"


@pytest.mark.parametrize(
    ("sheet", "province", "last"),
    [
        ("HLS", "14.10", "14.61"),
        ("RLS", "9.18", "10.78"),
        ("Perkapita", "11130", "13150"),
        ("IPM", "73.26", "77.65"),
    ],
)
def test_sumbar_sheets_float_codes_merged_header_and_float_year(
    samples, regions, sheet, province, last
):
    """Codes stored as floats (1300.0) are codes; A1:A2 merged; the year 2022.0 in row 2."""
    result = harvest(
        samples / "tables",
        {"path": SUMBAR, "sheet": sheet},
        {"header_rows": 2, "region": {"column": "Kode", "by": "code"}, "periods": "across"},
        regions,
    )
    values = by_region(result, "2022")
    assert len(values) == 20 and len(result.records) == 20
    assert str(values["1300"]) == province
    assert str(values["1377"]) == last
    assert {r.period for r in result.records} == {"2022"}


def test_sumbar_uhh_text_year_padded_names_and_trailing_empty_row(samples, regions):
    """Sheet UHH: no code column, the year as text '2022' in row 1, names padded with spaces."""
    result = harvest(
        samples / "tables",
        {"path": SUMBAR, "sheet": "UHH"},
        {
            "region": {"column": "Kabupaten/Kota", "within": "1300"},
            "periods": "across",
        },
        regions,
    )
    values = by_region(result, "2022")
    assert len(values) == 20
    assert str(values["1300"]) == "69.90"  # ' SUMATERA BARAT                ', format 0.00
    assert str(values["1301"]) == "64.93"  # ' Kepulauan Mentawai'
    assert "1304" in values  # 'Sijunjung', without the leading space
    assert all(r.value.as_tuple().exponent == -2 for r in result.records)


def test_bps_ipm_provinces_formats_and_zero_for_not_yet_existing(samples, regions):
    """0.00-formatted 2010-2012, General after; 0 for a province not yet existing -> flag M."""
    result = harvest(
        samples / "tables",
        {"path": "bps_ipm_provinsi_2010_2021_studentclean.xlsx"},
        {
            "region": {"column": "Tahun"},
            "periods": "across",
            "missing": {"0": "M", "": ""},
        },
        regions,
    )
    kalsel = {r.period: r.value for r in result.records if r.region == "6300"}
    assert str(kalsel["2010"]) == "69.92"
    assert str(kalsel["2013"]) == "67.17"
    assert str(kalsel["2021"]) == "71.28"
    north = {r.period: (r.value, r.flag) for r in result.records if r.region == "6500"}
    assert north["2010"] == (None, "M") and north["2013"] == (Decimal("67.99"), None)
    assert by_region(result, "2016")["0000"] == Decimal("70.18")
    assert len({r.region for r in result.records}) == 35


def test_kalsel_semicolon_csv_with_upper_case_names(samples, regions):
    """`;` separator (detected and said), dot decimals, KOTABARU and KOTA BANJAR BARU, 12 units."""
    result = harvest(
        samples / "tables",
        {"path": "kalsel_rls_kabkota_studentclean_semicolon.csv"},
        {
            "region": {"column": "Wilayah", "within": "6300"},
            "period": 2023,
            "value": {"column": "Nilai_RLS"},
        },
        regions,
    )
    values = by_region(result)
    assert len(values) == 12 and "6306" not in values  # Hulu Sungai Selatan is missing
    assert values["6372"] == Decimal("11.44") and values["6302"] == Decimal("8.10")
    assert any("delimiter semicolon (';') detected" in m for m in result.messages)


def test_kalsel_apm_long_by_jenjang_with_repeated_names(samples, regions):
    result = harvest(
        samples / "tables",
        {"path": "kalsel_apm_kabkota_by_jenjang_studentclean_semicolon.csv", "delimiter": ";"},
        {
            "region": {"column": "Wilayah", "within": "6300"},
            "period": 2023,
            "dimensions": [
                {"column": "Jenjang", "id": "jenjang"},
                {"columns": ["Nilai_Laki", "Nilai_Perempuan", "Nilai_APM"], "id": "jenis_kelamin"},
            ],
        },
        regions,
    )
    assert len(result.records) == 12 * 3 * 3
    jenjang = result.dimensions[0]
    assert [v.code for v in jenjang.values] == ["sd_mi", "smp_mts", "sma_smk_ma"]
    found = {(r.region, r.dimensions): r.value for r in result.records}
    assert found[("6372", (("jenjang", "sma_smk_ma"), ("jenis_kelamin", "nilai_apm")))] == (
        Decimal("73.78")
    )
    assert not any("detected" in m for m in result.messages)


def test_kesejahteraan_long_csv_by_code_with_an_empty_national_cell(samples, regions):
    """Long by year, codes as text (0000 national), pdrb_kapita empty for Indonesia."""
    result = harvest(
        samples / "tables",
        {"path": "kalsel_kesejahteraan_kabkota_2021_2024_from_bps_api.csv"},
        {
            "region": {"column": "wilayah_id", "by": "code"},
            "period": {"column": "tahun"},
            "value": {"column": "ipm"},
        },
        regions,
    )
    ipm_2024 = by_region(result, "2024")
    assert ipm_2024["6372"] == Decimal("81.65") and ipm_2024["6371"] == Decimal("80.53")
    assert ipm_2024["6300"] == Decimal("75.19")
    pdrb = harvest(
        samples / "tables",
        {"path": "kalsel_kesejahteraan_kabkota_2021_2024_from_bps_api.csv"},
        {
            "region": {"column": "wilayah_id", "by": "code"},
            "period": {"column": "tahun"},
            "value": {"column": "pdrb_kapita"},
        },
        regions,
    )
    assert "0000" not in by_region(pdrb)  # an empty cell is no observation
    assert by_region(pdrb, "2021")["6300"] == Decimal("48066.0")


LKJIP = "kalsel_lkjip2014_tabel1_capaian_kinerja_makro.transcribed.csv"


def test_lkjip_indonesian_numbers_and_glued_footnote_marks(samples, regions):
    """9.674.468,00 and 4,85* with decimal ','; the average row has no realisation."""
    result = harvest(
        samples / "rpjmd",
        {"path": LKJIP},
        {
            "region": {"code": "6300"},
            "decimal": ",",
            "periods": {"Realisasi 2014": 2014},
            "dimensions": [{"column": "Indikator", "id": "indikator"}],
        },
        regions,
    )
    found = {r.dimensions[0][1]: (r.value, r.flag) for r in result.records}
    assert found["pertumbuhan_ekonomi"] == (Decimal("4.85"), "*")
    assert found["pdrb_per_kapita_adhk"] == (Decimal("9674468.00"), "*")
    assert found["laju_inflasi"] == (Decimal("7.16"), "**")
    assert found["indeks_pembangunan_manusia"] == (Decimal("71.74"), "***")
    assert found["indeks_gini"] == (Decimal("0.326"), None)
    assert len(found) == 8  # "Rata-rata capaian" has no realisation: no observation


def test_lkjip_without_a_declared_mark_reads_only_what_cannot_be_misread(samples, regions):
    """Each number of Table 1 shows its mark (6,00; 9.200.000): undeclared reads the same."""
    table = {
        "region": {"code": "6300"},
        "periods": {"Target 2014": 2014},
        "dimensions": [{"column": "Indikator", "id": "indikator"}],
    }
    undeclared = harvest(samples / "rpjmd", {"path": LKJIP}, table, regions)
    declared = harvest(samples / "rpjmd", {"path": LKJIP}, {**table, "decimal": ","}, regions)
    assert undeclared.records == declared.records
    assert Decimal("9200000") in {r.value for r in undeclared.records}
    with pytest.raises(
        ParseError,
        match=r"row 2, column D: '6,00' is not a number "
        r"written with '\.' as the decimal mark",
    ):
        harvest(samples / "rpjmd", {"path": LKJIP}, {**table, "decimal": "."}, regions)


def test_lkjip_range_targets_are_kept_as_notes(samples, regions):
    result = harvest(
        samples / "rpjmd",
        {"path": "kalsel_lkjip2014_tabel2_realisasi_2011_2014_vs_rpjmd.transcribed_partial.csv"},
        {
            "region": {"code": "6300"},
            "decimal": ",",
            "periods": {"Realisasi 2011": 2011, "Target RPJMD 2015": 2015},
            "dimensions": [{"column": "Indikator", "id": "indikator"}],
        },
        regions,
    )
    found = {(r.period, r.dimensions[0][1]): (r.value, r.flag, r.note) for r in result.records}
    assert found[("2011", "pdrb_per_kapita_adhk")] == (Decimal("8801291"), None, None)
    assert found[("2015", "indeks_gini")] == (None, "L", "0,22-0,18")
    assert any("6 value cell(s) hold text that is not a number" in m for m in result.messages)


def test_rkp_target_ranges_with_empty_years(samples, regions):
    """Descending years, empty batas_atas: no observation where nothing is published."""
    result = harvest(
        samples / "rpjmd",
        {"path": "rkp_nasional_target_ipm_2010_2021_range.xlsx"},
        {
            "region": {"code": "0000"},
            "period": {"column": "tahun"},
            "dimensions": [{"columns": ["batas_bawah", "batas_atas"], "id": "batas"}],
        },
        regions,
    )
    found = {(r.period, r.dimensions[0][1]): r.value for r in result.records}
    assert found[("2021", "batas_atas")] == Decimal("72.95")
    assert found[("2020", "batas_bawah")] == Decimal("72.51")
    assert ("2020", "batas_atas") not in found and ("2017", "batas_bawah") not in found


def test_an_html_frameset_named_xls_fails_saying_what_it_is(samples, regions):
    with pytest.raises(
        ParseError,
        match=r"bps_ipm_2016_2020_excel_web_frameset_NO_DATA\.xls is "
        r"an Excel workbook saved as a web page",
    ):
        harvest(
            samples / "tables",
            {"path": "bps_ipm_2016_2020_excel_web_frameset_NO_DATA.xls"},
            {"region": {"column": "A"}, "periods": "across"},
            regions,
        )
