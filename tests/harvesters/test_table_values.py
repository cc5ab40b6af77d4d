"""Cells read exactly: text numbers under a decimal mark, spreadsheet formats, marks, markers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from harvesters.exceptions import ParseError
from harvesters.table_spec import TableSpec, parse_table_spec
from harvesters.table_values import ValueReader, format_decimals, number_of_cell, parse_number

BASE = {"region": {"code": "6300"}, "period": 2024, "value": {"column": "B"}}


def reader(**table) -> ValueReader:
    spec: TableSpec = parse_table_spec(
        {**BASE, "indicator": {"code": "x", "name": "X"}, **table}, "t.yaml: table"
    )
    return ValueReader(spec.decimal, spec.missing, spec.marks)


def read(value, number_format=None, **table):
    return reader(**table).read(value, number_format, lambda: "t.csv, row 7, column C")


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("1.234,56", ",", "1234.56"),
        ("9.674.468,00", ",", "9674468.00"),
        ("6,00", ",", "6.00"),
        ("0,326", ",", "0.326"),
        ("1.234", ",", "1234"),
        ("1,234.56", ".", "1234.56"),
        ("1,234", ".", "1234"),
        ("-14,32", ",", "-14.32"),
        ("\u22122,5", ",", "-2.5"),
        ("12 345,6", ",", "12345.6"),
        ("391.98", None, "391.98"),
        ("8002269316.91", None, "8002269316.91"),
        ("0,326", None, "0.326"),
        ("1.234.567", None, "1234567"),
        ("6915012900", None, "6915012900"),
        ("1,234.5", None, "1234.5"),
    ],
)
def test_text_numbers_read_exactly(text, decimal, expected):
    value, decided = parse_number(text, decimal)
    assert str(value) == expected


@pytest.mark.parametrize("text", ["1.234", "12,345", "-1.000"])
def test_an_ambiguous_text_number_fails_naming_the_cell(text):
    with pytest.raises(
        ParseError, match=r"t\.csv, row 7, column C: .* is ambiguous.*table\.decimal"
    ):
        read(text)


@pytest.mark.parametrize(("text", "decimal"), [("98.7", ","), ("1.23.4", ","), ("1,5", ".")])
def test_a_number_against_the_declared_mark_fails(text, decimal):
    with pytest.raises(ParseError, match=rf"row 7, column C: '{text}' is not a number written"):
        read(text, decimal=decimal)


def test_a_table_mixing_decimal_marks_fails_naming_both_cells():
    values = reader()
    values.read("1,5", None, lambda: "t.csv, row 2, column B")
    with pytest.raises(
        ParseError, match=r"row 3, column B writes '\.'.*row 2, column B writes ','"
    ):
        values.read("2.5", None, lambda: "t.csv, row 3, column B")


@pytest.mark.parametrize(
    ("text", "value", "flag"),
    [
        ("4,85*", "4.85", "*"),
        ("7,16**", "7.16", "**"),
        ("12,3 r)", "12.3", "r"),
        ("5 (e)", "5", "e"),
        ("71,74***)", "71.74", "***"),
    ],
)
def test_footnote_marks_are_split_into_the_flag(text, value, flag):
    assert read(text, decimal=",") == (Decimal(value), flag, None)


def test_marks_say_the_note():
    assert read("4,85*", decimal=",", marks={"*": "angka sementara"}) == (
        Decimal("4.85"),
        "*",
        "angka sementara",
    )


@pytest.mark.parametrize(
    ("text", "flag"),
    [("-", "M"), ("\u2013", "M"), ("\u2026", "L"), ("...", "L"), ("x", "C"), ("X", "C")],
)
def test_default_missing_markers_are_flags(text, flag):
    assert read(text) == (None, flag, None)


def test_an_empty_cell_is_no_observation():
    assert read("  ") is None
    assert read(None) is None


def test_without_the_empty_marker_an_empty_cell_fails():
    with pytest.raises(ParseError, match=r"row 7, column C is empty"):
        read("", missing=["-"])


def test_declared_markers_and_flags():
    assert read("0,00", missing={"0,00": "L", "": ""}, decimal=",") == (None, "L", None)
    assert read("n.a.", missing=["n.a."]) == (None, "n.a.", None)
    assert read(0, missing=["0"]) == (None, "0", None)
    assert read(0.0, "0.00", missing={"0": "M"}) == (None, "M", None)
    assert read(0, missing={"0,00": "L"}, decimal=",") == (None, "L", None)
    assert read(0.5, "0.00", missing={"0": "M"}) == (Decimal("0.50"), None, None)


@pytest.mark.parametrize("text", ["WTP", "6,0-6,9", "0,22-0,18", "< 6,9", "a5", "R5", "~4"])
def test_text_that_is_no_number_is_kept_as_the_note(text):
    assert read(text) == (None, "L", text)


@pytest.mark.parametrize("value", [True, datetime(2024, 3, 1)])
def test_a_date_or_boolean_value_fails(value):
    with pytest.raises(ParseError, match="row 7, column C holds .*, not a number"):
        read(value)


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        (7.1, "0.00", "7.10"),
        (683244, "#,##0", "683244"),
        (683244, "General", "683244"),
        (11130.0, "#,##0", "11130"),
        (70.0, "General", "70"),
        (70.1, None, "70.1"),
        (0.1 + 0.2, "General", "0.30000000000000004"),
        (1 / 3, "0.000", "0.333"),
        (0.0712, "0.00%", "7.12"),
        (12.5, "0.0#", "12.5"),
        (12.0, "0.0#", "12.0"),
        (12.345, "0.0#", "12.35"),
        (7.125, "0.00", "7.13"),
        (-1.5, '#,##0.00;[Red]"-"#,##0.00', "-1.50"),
        (1e-05, "General", "0.00001"),
        (7, "0.00", "7.00"),
        (2022.0, "@", "2022"),
    ],
)
def test_spreadsheet_numbers_are_what_the_sheet_shows(value, number_format, expected):
    assert str(number_of_cell(value, number_format)) == expected


def test_number_formats_decimals():
    assert format_decimals("0.00") == (2, 2, False)
    assert format_decimals("#,##0") == (0, 0, False)
    assert format_decimals('0.0#" km"') == (1, 2, False)
    assert format_decimals("0.00%") == (2, 2, True)
    assert format_decimals("General") is None
    assert format_decimals("0.00E+00") is None
