"""Ranges in a table of targets: ``6,0-6,9`` keeps both ends, exactly, in the published order."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from harvesters.exceptions import ParseError
from harvesters.spreadsheet import SpreadsheetHarvester
from harvesters.table import Cell, Grid, parse_table_spec, read_table
from harvesters.table_values import ValueReader
from opendata.catalog import load_catalog
from opendata.model import Payload
from opendata.regions import RegionIndex

BASE = {"region": {"code": "6300"}, "period": 2024, "value": {"column": "B"}}
INDICATOR = {"code": "tpt", "name": "Tingkat pengangguran terbuka", "unit": "Persen"}


def reader(ranges=True, **table) -> ValueReader:
    spec = parse_table_spec({**BASE, "indicator": INDICATOR, **table}, "t.yaml", ranges=ranges)
    return ValueReader(spec.decimal, spec.missing, spec.marks, spec.ranges)


def read(text, ranges=True, **table):
    return reader(ranges, **table).read(text, None, lambda: "t.csv, row 7, column C")


@pytest.mark.parametrize(
    ("text", "decimal", "first", "second"),
    [
        ("6,0-6,9", ",", "6.0", "6.9"),
        ("0,22-0,18", ",", "0.22", "0.18"),  # descending: kept in that order
        ("4.1 - 4.5", ".", "4.1", "4.5"),
        ("6,0\u20136,9", ",", "6.0", "6.9"),  # en dash
        ("6,0 \u2014 6,9", ",", "6.0", "6.9"),  # em dash
        ("6,0 s.d. 6,9", ",", "6.0", "6.9"),
        ("6,0 s/d 6,9", ",", "6.0", "6.9"),
        ("6,0 sampai 6,9", ",", "6.0", "6.9"),
        ("6,0 sampai dengan 6,9", ",", "6.0", "6.9"),
        ("9.200.000-10.600.000", ",", "9200000", "10600000"),
        ("9.200.000,50 - 10.600.000,00", ",", "9200000.50", "10600000.00"),
        ("-1,5-0,5", ",", "-1.5", "0.5"),  # a negative first end
        ("6,00-6,90", ",", "6.00", "6.90"),  # the digits as published
        ("5-6", None, "5", "6"),
        ("0,326-0,4", None, "0.326", "0.4"),  # undeclared, read where it cannot be misread
    ],
)
def test_a_range_reads_both_ends_exactly(text, decimal, first, second):
    table = {"decimal": decimal} if decimal else {}
    value, flag, note, value_to = read(text, **table)
    assert (str(value), str(value_to), flag, note) == (first, second, None, None)


def test_a_footnote_mark_glued_to_a_range_is_its_flag_and_note():
    assert read("6,0-6,9*", decimal=",", marks={"*": "target RPJMD"}) == (
        Decimal("6.0"),
        "*",
        "target RPJMD",
        Decimal("6.9"),
    )
    assert read("6,0 - 6,9 r)", decimal=",")[1] == "r"


def test_a_single_figure_in_a_table_of_targets_is_read_as_ever():
    assert read("4,25", decimal=",") == (Decimal("4.25"), None, None)
    assert read("-1,5", decimal=",") == (Decimal("-1.5"), None, None)
    assert read("-", decimal=",") == (None, "M", None)


@pytest.mark.parametrize(
    "text", ["6,0-tinggi", "6,0 - 6,9 - 7,0", "6,0 -", "antara 6,0 dan 6,9", "6,0 s.d."]
)
def test_what_looks_like_a_range_but_is_not_two_numbers_is_a_note(text):
    assert read(text, decimal=",") == (None, "L", text)


def test_an_end_that_cannot_be_read_exactly_fails_as_a_single_figure_would():
    with pytest.raises(ParseError, match=r"row 7, column C: the range '1\.23\.4-5'.*not a number"):
        read("1.23.4-5", decimal=",")
    with pytest.raises(ParseError, match=r"the range '1\.234-1\.500'.*ambiguous.*table\.decimal"):
        read("1.234-1.500")


def test_an_end_tells_the_undeclared_decimal_mark_like_a_single_figure():
    values = reader()
    values.read("6,5-7,0", None, lambda: "t.csv, row 2, column B")
    with pytest.raises(
        ParseError, match=r"row 3, column B writes '\.'.*row 2, column B writes ','"
    ):
        values.read("2.5", None, lambda: "t.csv, row 3, column B")


def test_outside_a_table_of_targets_a_range_is_text_as_before():
    assert read("6,0-6,9", ranges=False, decimal=",") == (None, "L", "6,0-6,9")
    assert read("0,22-0,18*", ranges=False, decimal=",") == (None, "L", "0,22-0,18*")


# --- the table reader and the harvester ---------------------------------------------------------

ROWS = [
    ["Wilayah", "2024", "2025"],
    ["Kalimantan Selatan", "6,0-6,9", "4,25"],
    ["Kota Banjarmasin", "0,22-0,18*", "-"],
]


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return RegionIndex.reference()


def _records(regions, ranges):
    table = {
        "region": {"column": "Wilayah"},
        "periods": "across",
        "decimal": ",",
        "indicator": INDICATOR,
    }
    spec = parse_table_spec(table, "t.yaml: table", ranges=ranges)
    grid = Grid(iter([[Cell(v) for v in row] for row in ROWS]), "t.csv")
    return read_table(grid, spec, regions)


def test_a_range_gives_the_record_its_value_to(regions):
    result = _records(regions, ranges=True)
    assert [(r.region, r.period, r.value, r.value_to, r.flag) for r in result.records] == [
        ("6300", "2024", Decimal("6.0"), Decimal("6.9"), None),
        ("6300", "2025", Decimal("4.25"), None, None),
        ("6371", "2024", Decimal("0.22"), Decimal("0.18"), "*"),
        ("6371", "2025", None, None, "M"),
    ]
    assert not any("not a number" in m for m in result.messages)


def test_a_table_that_is_no_target_keeps_ranges_as_notes(regions):
    result = _records(regions, ranges=False)
    assert [(r.value, r.value_to, r.flag, r.note) for r in result.records[::2]] == [
        (None, None, "L", "6,0-6,9"),
        (None, None, "L", "0,22-0,18*"),
    ]
    assert any("2 value cell(s) hold text that is not a number" in m for m in result.messages)


ACTUAL = """\
id: tpt-provinsi
title: TPT
source: spreadsheet
spreadsheet: {path: tpt.csv}
table:
  region: {column: Wilayah}
  periods: across
  decimal: ","
  indicator: {code: tpt, name: TPT, unit: Persen}
"""
TARGET = """\
id: target-tpt
title: Target TPT
source: spreadsheet
spreadsheet: {path: target.csv}
target:
  of: {dataset: tpt-provinsi}
  better: lower
table:
  region: {column: Wilayah}
  periods: across
  decimal: ","
  indicator: {code: tpt, name: TPT, unit: Persen}
"""


def _parse(tmp_path: Path, dataset: str, regions):
    (tmp_path / "tpt-provinsi.yaml").write_text(ACTUAL, encoding="utf-8")
    (tmp_path / "target-tpt.yaml").write_text(TARGET, encoding="utf-8")
    spec = load_catalog(tmp_path)[dataset]
    body = "\n".join(";".join(row) for row in ROWS).encode()
    payload = Payload("t.csv", body, 200, "text/csv", None, {"path": "t.csv"})  # type: ignore[arg-type]
    return SpreadsheetHarvester({}).parse(spec, [payload], regions)


def test_the_spreadsheet_harvester_reads_ranges_where_the_entry_is_a_target(tmp_path, regions):
    target = _parse(tmp_path, "target-tpt", regions)
    assert (target.records[0].value, target.records[0].value_to) == (
        Decimal("6.0"),
        Decimal("6.9"),
    )
    actual = _parse(tmp_path, "tpt-provinsi", regions)
    assert (actual.records[0].value, actual.records[0].flag, actual.records[0].value_to) == (
        None,
        "L",
        None,
    )
