"""The table reader on grids written in the tests: header, layouts, regions, shape, messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from harvesters.exceptions import ParseError
from harvesters.table import Cell, Grid, SheetGrid, parse_table_spec, read_table
from opendata.model import Record
from opendata.regions import RegionIndex

INDICATOR = {"code": "ppk", "name": "Pengeluaran per kapita", "unit": "Ribu Rupiah"}


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return RegionIndex.reference()


def grid(rows, where="t.csv", sheet=False):
    cells = [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in rows]
    return (SheetGrid if sheet else Grid)(iter(cells), where)


def read(rows, regions, sheet=False, **table):
    spec = parse_table_spec({"indicator": INDICATOR, **table}, "t.yaml: table")
    return read_table(grid(rows, sheet=sheet), spec, regions)


def values(result):
    return [(r.region, r.period, r.dimensions, r.value, r.flag, r.note) for r in result.records]


WIDE = [
    ["Tabel 1. Pengeluaran per kapita"],
    [],
    ["No", "Kabupaten/Kota", "2023", 2024.0],
    ["1", "Tanah Laut", "12.345,67", "12.890,12"],
    ["2", "Kota Banjarmasin", "17.210,50*", "-"],
    ["", "Jumlah", "13.000,10", "x"],
    [],
    ["Sumber: BPS Provinsi Kalimantan Selatan"],
    ["Kepala Bappeda", "", "NIP 19700101 199001 1 001"],
]


def test_a_wide_table_with_periods_across(regions):
    result = read(
        WIDE,
        regions,
        skip_rows=2,
        region={"column": "Kabupaten/Kota"},
        periods="across",
        decimal=",",
    )
    assert values(result) == [
        ("6301", "2023", (), Decimal("12345.67"), None, None),
        ("6301", "2024", (), Decimal("12890.12"), None, None),
        ("6371", "2023", (), Decimal("17210.50"), "*", None),
        ("6371", "2024", (), None, "M", None),
        ("6300", "2023", (), Decimal("13000.10"), None, None),
        ("6300", "2024", (), None, "C", None),
    ]
    indicator = result.indicators[0]
    assert (indicator.code, indicator.name, indicator.unit) == (
        "ppk",
        INDICATOR["name"],
        "Ribu Rupiah",
    )


def test_what_follows_the_table_is_counted_never_quoted(regions):
    result = read(
        WIDE,
        regions,
        skip_rows=2,
        region={"column": "Kabupaten/Kota"},
        periods="across",
        decimal=",",
    )
    log = "\n".join(result.messages)
    assert "the table ends at row 7 (an empty row); 2 non-empty row(s) below it (rows 8-9" in log
    assert "1970" not in log and "Sumber" not in log and "Kepala" not in log
    assert "read 3 row(s) (rows 4-6): 6 observation(s)" in log


def test_a_sources_row_right_below_the_data_ends_the_table(regions):
    rows = [["Wilayah", "2024"], ["Tanah Laut", "5"], ["Sumber: Susenas", ""], ["NIP 1970", ""]]
    result = read(rows, regions, region={"column": "Wilayah"}, periods="across")
    assert [r.region for r in result.records] == ["6301"]
    assert "the table ends at row 3 (a row of notes or sources); 2 non-empty row(s)" in (
        "\n".join(result.messages)
    )


def test_a_long_table_with_period_value_and_dimension_columns(regions):
    rows = [
        ["_id", "tahun", "wilayah", "Kelas Jalan", "jumlah"],
        ["1", "2023", "Banjar", "Kelas  III A", "164.43"],
        ["2", "2023", "Banjar", "Kelas III A ", "1.5"],
        ["3", "2024", "Banjar", "Jumlah Total", "200"],
    ]
    table = {
        "region": {"column": "wilayah", "within": "6300"},
        "period": {"column": "tahun"},
        "value": {"column": "jumlah"},
        "dimensions": [{"column": "Kelas Jalan", "id": "kelas_jalan", "label": "Kelas jalan"}],
    }
    with pytest.raises(
        ParseError,
        match=r"t\.csv, row 3 gives region 6303, period 2023, "
        r"kelas_jalan kelas_iii_a again \(first in row 2\)",
    ):
        read(rows, regions, **table)
    rows[2][1] = "2024"
    result = read(rows, regions, **table)
    assert values(result) == [
        ("6303", "2023", (("kelas_jalan", "kelas_iii_a"),), Decimal("164.43"), None, None),
        ("6303", "2024", (("kelas_jalan", "kelas_iii_a"),), Decimal("1.5"), None, None),
        ("6303", "2024", (("kelas_jalan", "_T"),), Decimal("200"), None, None),
    ]
    (dimension,) = result.dimensions
    assert (dimension.id, dimension.label) == ("kelas_jalan", "Kelas jalan")
    assert [(v.code, v.label, v.is_total) for v in dimension.values] == [
        ("kelas_iii_a", "Kelas III A", False),
        ("_T", "Jumlah Total", True),
    ]


def test_a_two_row_header_with_a_wide_dimension_from_a_header_row(regions):
    rows = [
        ["Wilayah", "2023", "", "2024", ""],
        ["", "Laki-laki", "Perempuan", "Laki-laki", "Jumlah"],
        ["Tapin", "1", "2", "3", "4"],
    ]
    result = read(
        rows,
        regions,
        header_rows=2,
        region={"column": "Wilayah"},
        periods="across",
        dimensions=[{"header_row": 2, "id": "jenis_kelamin", "label": "Jenis kelamin"}],
    )
    assert [(r.period, r.dimensions[0][1], r.value) for r in result.records] == [
        ("2023", "laki_laki", Decimal(1)),
        ("2023", "perempuan", Decimal(2)),
        ("2024", "laki_laki", Decimal(3)),
        ("2024", "_T", Decimal(4)),
    ]


def test_a_wide_dimension_by_columns_with_one_period(regions):
    rows = [["Wilayah", "Laki-laki", "Perempuan", "Catatan"], ["Tapin", "1,5", "2,5", "ok"]]
    result = read(
        rows,
        regions,
        region={"column": "Wilayah"},
        period="2024-Q1",
        decimal=",",
        dimensions=[{"columns": ["Laki-laki", "Perempuan"], "id": "jk"}],
    )
    assert [(r.period, r.dimensions, r.value) for r in result.records] == [
        ("2024-Q1", (("jk", "laki_laki"),), Decimal("1.5")),
        ("2024-Q1", (("jk", "perempuan"),), Decimal("2.5")),
    ]


def test_named_period_columns_and_a_table_of_one_region(regions):
    rows = [
        ["No", "Indikator", "Realisasi 2013", "Realisasi 2014", "Target 2015"],
        ["1", "Pertumbuhan ekonomi", "5,36", "4,85*", "6,0-6,9"],
    ]
    result = read(
        rows,
        regions,
        region={"code": "63"},
        decimal=",",
        marks={"*": "angka sementara"},
        periods={"Realisasi 2013": 2013, "Realisasi 2014": "2014"},
        dimensions=[{"column": "Indikator", "id": "indikator"}],
    )
    assert values(result) == [
        ("6300", "2013", (("indikator", "pertumbuhan_ekonomi"),), Decimal("5.36"), None, None),
        (
            "6300",
            "2014",
            (("indikator", "pertumbuhan_ekonomi"),),
            Decimal("4.85"),
            "*",
            "angka sementara",
        ),
    ]


@pytest.mark.parametrize(
    ("header", "period"),
    [
        (2020, "2020"),
        (2020.0, "2020"),
        ("2020", "2020"),
        ("2024-Q1", "2024-Q1"),
        ("Maret 2024", "2024-03"),
        ("Triwulan II 2024", "2024-Q2"),
        ("Semester 1 2024", "2024-S1"),
    ],
)
def test_header_cells_that_read_as_periods(regions, header, period):
    result = read(
        [["Wilayah", header, "Realisasi 2014"], ["Tapin", "1", "2"]],
        regions,
        region={"column": "Wilayah"},
        periods="across",
    )
    assert [(r.period, r.value) for r in result.records] == [(period, Decimal(1))]


def test_columns_named_by_letter_by_lowest_cell_or_by_joined_header(regions):
    rows = [["Kode", "IPM", "IPM"], ["", "2022", "2023"], [6371.0, "80,1", "80,5"]]
    table = {"header_rows": 2, "decimal": ",", "period": 2024}
    for value_column, expected in (("C", "80.5"), ("IPM / 2022", "80.1"), ("2023", "80.5")):
        result = read(
            rows,
            regions,
            region={"column": "A", "by": "code"},
            value={"column": value_column},
            **table,
        )
        assert [(r.region, str(r.value)) for r in result.records] == [("6371", expected)]
    twins = [["Kode", "Nilai", "Nilai"], [6371.0, "1", "2"]]
    with pytest.raises(ParseError, match=r"table\.value\.column: 'nilai' names 2 columns \(B, C\)"):
        read(
            twins,
            regions,
            region={"column": "A", "by": "code"},
            value={"column": "nilai"},
            period=2024,
        )
    with pytest.raises(
        ParseError,
        match=r"no column is named 'Nilai'; the header \(rows 1-2\) "
        r"has 'Kode', 'IPM / 2022', 'IPM / 2023'",
    ):
        read(
            rows,
            regions,
            region={"column": "Kode", "by": "code"},
            value={"column": "Nilai"},
            **table,
        )


def test_region_codes_numbers_and_unknown_codes(regions):
    rows = [["kode", "2024"], [6371.0, "1"], ["63.72", "2"], [0, "3"], ["6399", "4"], [9, "5"]]
    with pytest.raises(
        ParseError,
        match=r"2 region code\(s\) match no region: '6399' \(row 5\), "
        r"'9' \(row 6\)",
    ):
        read(rows, regions, region={"column": "kode", "by": "code"}, periods="across")
    result = read(rows[:4], regions, region={"column": "kode", "by": "code"}, periods="across")
    assert [r.region for r in result.records] == ["6371", "6372", "0000"]


def test_unmatched_names_fail_with_every_name(regions):
    rows = [["Wilayah", "2024"], ["Tanah Laut", "1"], ["Atlantis", "2"], ["Mu", "3"]]
    with pytest.raises(ParseError, match=r"t\.csv: 2 region name\(s\).*'Atlantis'.*'Mu'"):
        read(rows, regions, region={"column": "Wilayah"}, periods="across")
    result = read(
        rows,
        regions,
        periods="across",
        region={"column": "Wilayah", "aliases": {"Atlantis": "6372", "Mu": "63.71"}},
    )
    assert [r.region for r in result.records] == ["6301", "6372", "6371"]


def test_a_heading_row_without_values_that_names_no_region_is_passed_over(regions):
    rows = [
        ["Wilayah", "2024"],
        ["Kabupaten", ""],
        ["Tanah Laut", "1"],
        ["Kota", None],
        ["Kota Banjarmasin", "2"],
    ]
    result = read(rows, regions, region={"column": "Wilayah"}, periods="across")
    assert [r.region for r in result.records] == ["6301", "6371"]


def test_a_total_row_needs_one_parent_or_within(regions):
    rows = [["Wilayah", "2024"], ["Tanah Laut", "1"], ["Kota Padang", "2"], ["Jumlah", "3"]]
    with pytest.raises(
        ParseError,
        match=r"t\.csv, row 4: 'Jumlah' is a total row, but .*"
        r"declare table\.region\.within",
    ):
        read(rows, regions, region={"column": "Wilayah"}, periods="across")
    result = read(
        rows,
        regions,
        region={"column": "Wilayah", "aliases": {"Kota Padang": "1371"}, "within": "0000"},
        periods="across",
    )
    assert [r.region for r in result.records] == ["6301", "1371", "0000"]


def test_a_row_with_values_but_no_region_fails_naming_the_cell(regions):
    rows = [["Wilayah", "2024"], ["Tanah Laut", "1"], ["", "2"]]
    with pytest.raises(ParseError, match=r"t\.xlsx, cell A3 is empty: the row has values"):
        spec = parse_table_spec(
            {"indicator": INDICATOR, "region": {"column": "Wilayah"}, "periods": "across"},
            "t.yaml: table",
        )
        read_table(grid(rows, where="t.xlsx", sheet=True), spec, regions)


def test_two_columns_of_one_period_fail_naming_both(regions):
    rows = [["Wilayah", "2024", "Jumlah 2024", "2024"], ["Tapin", "1", "2", "3"]]
    with pytest.raises(
        ParseError, match=r"columns B \('2024'\) and D \('2024'\) would give the same"
    ):
        read(rows, regions, region={"column": "Wilayah"}, periods="across")


def test_no_period_in_the_header_fails(regions):
    with pytest.raises(ParseError, match=r"periods: across, but no header cell \(row 1\) reads"):
        read(
            [["Wilayah", "Nilai"], ["Tapin", "1"]],
            regions,
            region={"column": "Wilayah"},
            periods="across",
        )


def test_a_bad_period_cell_fails_naming_it(regions):
    rows = [["tahun", "nilai"], ["2023", "1"], ["dua ribu", "2"]]
    with pytest.raises(ParseError, match=r"t\.csv, row 3, column A: 'dua ribu' is not a period"):
        read(
            rows,
            regions,
            region={"code": "6300"},
            period={"column": "tahun"},
            value={"column": "nilai"},
        )


def test_no_data_rows_fails(regions):
    with pytest.raises(ParseError, match=r"no data rows below the header \(row 3\)"):
        read(
            [["x"], [], ["Wilayah", "2024"], [], []],
            regions,
            skip_rows=2,
            region={"column": "Wilayah"},
            periods="across",
        )
    with pytest.raises(ParseError, match=r"the table has no header at rows 3-4"):
        read(
            [["x"], []],
            regions,
            skip_rows=2,
            header_rows=2,
            region={"column": "Wilayah"},
            periods="across",
        )


def test_text_values_are_counted_in_the_run_log(regions):
    rows = [["Indikator", "2019"], ["Opini BPK", "WTP"], ["Skor", "75,57"]]
    result = read(
        rows,
        regions,
        region={"code": "6300"},
        periods="across",
        decimal=",",
        dimensions=[{"column": "Indikator", "id": "indikator"}],
    )
    assert [(r.value, r.flag, r.note) for r in result.records] == [
        (None, "L", "WTP"),
        (Decimal("75.57"), None, None),
    ]
    assert (
        "t.csv: 1 value cell(s) hold text that is not a number (the first: t.csv, row 2, "
        "column B); kept as notes with flag L"
    ) in result.messages


def test_two_labels_of_one_code_fail(regions):
    rows = [["Jenis", "2024"], ["Sekolah-Dasar", "1"], ["Sekolah Dasar", "2"]]
    with pytest.raises(ParseError, match=r"labels 'Sekolah-Dasar' and 'Sekolah Dasar' both give"):
        read(
            rows,
            regions,
            region={"code": "6300"},
            periods="across",
            dimensions=[{"column": "Jenis", "id": "jenis"}],
        )


def test_parsing_is_stable(regions):
    table = {
        "skip_rows": 2,
        "region": {"column": "Kabupaten/Kota"},
        "periods": "across",
        "decimal": ",",
    }
    first, second = read(WIDE, regions, **table), read(WIDE, regions, **table)
    assert first.records == second.records and isinstance(first.records[0], Record)
