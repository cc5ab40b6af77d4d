"""The catalog's ``spreadsheet:`` and ``table:`` sections: each mistake named with its key."""

from __future__ import annotations

import pytest

from opendata.catalog import load_catalog
from opendata.exceptions import CatalogError

GOOD = """\
id: ppk
title: Pengeluaran per kapita
source: spreadsheet
spreadsheet: {path: files/ppk.csv}
table:
  region: {column: Wilayah}
  periods: across
  indicator: {code: ppk, name: Pengeluaran per kapita}
"""


def load(tmp_path, text):
    (tmp_path / "ppk.yaml").write_text(text, encoding="utf-8")
    return load_catalog(tmp_path)


def test_a_good_entry_loads(tmp_path):
    spec = load(tmp_path, GOOD)["ppk"]
    assert spec.source == "spreadsheet"
    assert spec.extra["table"]["periods"] == "across"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{path: files/ppk.csv}",
            "{path: a.csv, url: 'https://x/a.csv'}",
            r"spreadsheet: give either 'path' .* or 'url'",
        ),
        (
            "{path: files/ppk.csv}",
            "{path: a.csv, shet: x}",
            r"spreadsheet: unknown key 'shet': did you mean 'sheet'\?",
        ),
        ("{path: files/ppk.csv}", "{url: 'ftp://x/a.csv'}", r"spreadsheet\.url must be an http"),
        (
            "{path: files/ppk.csv}",
            "{path: a.csv, delimiter: '|'}",
            r"spreadsheet\.delimiter must be",
        ),
        (
            "{path: files/ppk.csv}",
            "{path: a.csv, encoding: klingon}",
            r"spreadsheet\.encoding: no encoding 'klingon'",
        ),
        ("table:", "tabel:", r"the key 'table' is missing \('tabel' is misspelt\?\)"),
        (
            "  periods: across",
            "  periods: across\n  period: 2024",
            r"table: say where the periods are .*; both are given",
        ),
        ("  periods: across", "  periods: down", r"table\.periods must be 'across' or a mapping"),
        (
            "  periods: across",
            "  period: {column: tahun}",
            r"table: with 'period' say which column holds the values",
        ),
        ("  periods: across", "  period: tahun", r"table\.period: 'tahun' is not a period"),
        (
            "  periods: across",
            "  periods: {Realisasi 2014: dua}",
            r"table\.periods\.Realisasi 2014: 'dua' is not a period",
        ),
        (
            "  periods: across",
            "  periods: across\n  value: {column: x}",
            r"table\.value: with 'periods' the period columns hold the values",
        ),
        (
            "{column: Wilayah}",
            "{column: Wilayah, code: '6300'}",
            r"table\.region: give either 'column' .* or 'code'",
        ),
        (
            "{column: Wilayah}",
            "{column: Wilayah, by: nama}",
            r"table\.region\.by must be 'name' or 'code'",
        ),
        (
            "{column: Wilayah}",
            "{colum: Wilayah}",
            r"table\.region: unknown key 'colum': did you mean 'column'\?",
        ),
        (
            "  periods: across",
            "  periods: across\n  skip_rows: -1",
            r"table\.skip_rows must be a whole number, 0 or more",
        ),
        (
            "  periods: across",
            "  periods: across\n  header_rows: 0",
            r"table\.header_rows must be a whole number, 1 or more",
        ),
        (
            "  periods: across",
            "  periods: across\n  decimal: ';'",
            r'table\.decimal must be "," or "\."',
        ),
        (
            "  periods: across",
            "  periods: across\n  dimensions: [{column: Kelas, id: Kelas}]",
            r"table\.dimensions\[0\]\.id must be lowercase",
        ),
        (
            "  periods: across",
            "  periods: across\n  dimensions: [{column: Kelas, id: value}]",
            r"table\.dimensions\[0\]\.id: 'value' would repeat a CSV column",
        ),
        (
            "  periods: across",
            "  periods: across\n  dimensions: [{id: kelas}]",
            r"table\.dimensions\[0\]: give one of 'column'",
        ),
        (
            "  periods: across",
            "  periods: across\n  dimensions: [{header_row: 3, id: jk}]",
            r"header_row 3 is below the header \(header_rows: 1\)",
        ),
        (
            "  periods: across",
            "  periods: across\n  dimensions: [{columns: [L, P], id: jk}]",
            r"'columns' names value columns, and so does 'periods'",
        ),
        (
            "  periods: across",
            "  periods: across\n  missing: {'-': a-flag-much-too-long-to-store}",
            r"table\.missing\.-: a flag has at most 16 characters",
        ),
        (
            "  periods: across",
            "  periods: across\n  totl: [Jumlah]",
            r"table: unknown key 'totl': did you mean 'totals'\?",
        ),
        (
            "{code: ppk, name: Pengeluaran per kapita}",
            "{name: Pengeluaran}",
            r"table\.indicator\.code is missing",
        ),
    ],
)
def test_mistakes_are_named_with_file_and_key(tmp_path, old, new, message):
    assert old in GOOD
    with pytest.raises(CatalogError, match=message) as info:
        load(tmp_path, GOOD.replace(old, new))
    assert str(tmp_path / "ppk.yaml") in str(info.value)
