"""XLSX of observations: a ``data`` sheet and a ``metadata`` sheet, in constant memory.

The ``data`` sheet has the long CSV's columns (:mod:`opendata.formats.csv`): ``dataset,
region_code, region_name, period``, ``<id>_code, <id>`` per dimension, ``value`` (a target set's
``value_to`` after it), ``unit, flag, note``; its header row is frozen and bold, the columns
are as wide as their longest cell (up to MAX_WIDTH characters).

Values are the exact decimal texts the store keeps. A value becomes a number cell only when
Excel holds it exactly: at most EXCEL_DIGITS significant digits (Excel keeps and shows 15, and a
double gives back any decimal of 15 digits) within Excel's range; its number format shows the
decimals the source wrote (``7.10`` is the number 7.1 shown ``7.10``). Any other value (more
digits, such as ``0.000000000000000000012345678901234567``) is a text cell with the exact text.
Every other cell (codes, names, periods, flags, notes) is a text cell, never a number or a
formula: ``0001`` stays ``0001``, ``=1+1`` stays those three characters.

Written with XlsxWriter in ``constant_memory`` mode: each row goes to a temporary file as it
comes, whatever the number of rows. The workbook is a ZIP whose parts are assembled when it is
closed, so the writer needs a seekable output (a file, a ``SpooledTemporaryFile``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import IO

import xlsxwriter

from opendata.formats.csv import header
from opendata.store.queries import ObservationRow

#: Excel's rows (1,048,576) less the header row: the most observations a data sheet holds
MAX_ROWS = 1_048_576 - 1
#: the significant digits Excel keeps in a number cell
EXCEL_DIGITS = 15
#: the most decimals a number format shows (Excel's own limit is 30)
MAX_PLACES = 30
#: Excel's largest and smallest magnitudes of a number cell
EXCEL_MAX = Decimal("9.99999999999999E+307")
EXCEL_MIN = Decimal("2.2250738585072E-308")
#: the widest a column is made, in characters; a text cell holds at most 32,767 characters
MAX_WIDTH = 60
MAX_TEXT = 32_767
OPTIONS = {
    "constant_memory": True,
    # a text is a text: never read as a number, a formula or a link
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


class TooManyRows(ValueError):
    """More observations than a data sheet holds (MAX_ROWS)."""


def excel_number(text: str) -> tuple[float, int] | None:
    """The number and decimal places of ``text`` if a number cell holds it exactly, else None."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    places = max(0, -int(value.as_tuple().exponent))
    if places > MAX_PLACES:
        return None
    if value:
        if len(value.normalize().as_tuple().digits) > EXCEL_DIGITS:
            return None
        if not EXCEL_MIN <= abs(value) <= EXCEL_MAX:
            return None
    return float(value), places


class _DataSheet:
    """The data sheet: its columns, the number formats it made, the longest cell of each."""

    def __init__(self, book, dimensions: Sequence[str], ranges: bool):
        self.book, self.sheet = book, book.add_worksheet("data")
        names = header(dimensions, ranges)
        self.widths = [len(name) for name in names]
        self.value_at = 4 + 2 * len(dimensions)
        self.unit_at = self.value_at + (2 if ranges else 1)
        self.ends = (self.value_at, self.value_at + 1) if ranges else (self.value_at,)
        self.number_formats: dict[int, object] = {}
        self.sheet.freeze_panes(1, 0)
        bold = book.add_format({"bold": True})
        for column, name in enumerate(names):
            self.sheet.write_string(0, column, name, bold)

    def see(self, column: int, text: str | None) -> None:
        if text and len(text) > self.widths[column]:
            self.widths[column] = len(text)

    def write_series(self, row: int, cells: Sequence[str]) -> None:
        """``dataset, region_code, region_name``, then the dimensions' codes and labels."""
        for column, cell in enumerate(cells[:3]):
            self.sheet.write_string(row, column, cell)
        for column, cell in enumerate(cells[3:], 4):
            if cell:
                self.sheet.write_string(row, column, cell)

    def write_value(self, row: int, column: int, text: str) -> None:
        """A number cell if Excel holds ``text`` exactly, else a text cell."""
        self.see(column, text)
        number = excel_number(text)
        if number is None:
            self.sheet.write_string(row, column, text)
            return
        value, places = number
        cell_format = self.number_formats.get(places)
        if cell_format is None:
            pattern = "0." + "0" * places if places else "0"
            cell_format = self.number_formats[places] = self.book.add_format(
                {"num_format": pattern}
            )
        self.sheet.write_number(row, column, value, cell_format)

    def write_texts(self, row: int, cells: Iterable[tuple[int, str | None]]) -> None:
        for column, cell in cells:
            if cell:
                self.see(column, cell)
                self.sheet.write_string(row, column, cell[:MAX_TEXT])

    def finish(self) -> None:
        """Set the widths; every column but the values' is text (``@``)."""
        text = self.book.add_format({"num_format": "@"})
        for column, width in enumerate(self.widths):
            number = column in self.ends
            self.sheet.set_column(
                column, column, min(width, MAX_WIDTH) + 2, None if number else text
            )


def write_xlsx(
    out: IO[bytes],
    dataset_id: str,
    dimensions: Sequence[str],
    rows: Iterable[ObservationRow],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    metadata: Sequence[tuple[str, str | None]],
    ranges: bool = False,
) -> int:
    """Write the workbook of ``rows`` to ``out``; return the number of rows written.

    ``metadata``: the (field, value) rows of the metadata sheet. Raise TooManyRows past MAX_ROWS
    (an unclosed book writes nothing to ``out``).
    """
    book = xlsxwriter.Workbook(out, OPTIONS)
    count = _write_data(book, dataset_id, dimensions, rows, series_dimensions, ranges)
    _write_metadata(book, metadata)
    book.close()
    return count


def _write_data(book, dataset_id, dimensions, rows, series_dimensions, ranges) -> int:
    data = _DataSheet(book, dimensions, ranges)
    empty: Mapping[str, tuple[str, str]] = {}
    # What a series fixes (region, dimension values, unit) is measured once per series.
    series_cells: dict[int, tuple[str, ...]] = {}
    count = 0
    for count, row in enumerate(rows, 1):
        if count > MAX_ROWS:
            raise TooManyRows(f"more than {MAX_ROWS} observations")
        region_code, region_name, period, series_id, _s, _e, value, unit, flag, note, to = row
        cells = series_cells.get(series_id)
        if cells is None:
            values = series_dimensions.get(series_id, empty)
            labels: list[str] = []
            for slug in dimensions:
                labels += values.get(slug, ("", ""))
            cells = series_cells[series_id] = (dataset_id, region_code, region_name, *labels)
            for column, cell in enumerate(cells):
                data.see(column if column < 3 else column + 1, cell)
        data.write_series(count, cells)
        data.sheet.write_string(count, 3, period)
        for column, end in zip(data.ends, (value, to), strict=False):
            if end is not None:
                data.write_value(count, column, end)
        at = data.unit_at
        data.write_texts(count, ((at, unit), (at + 1, flag), (at + 2, note)))
    data.finish()
    return count


def _write_metadata(book, metadata: Sequence[tuple[str, str | None]]) -> None:
    sheet = book.add_worksheet("metadata")
    bold = book.add_format({"bold": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, max(len(name) for name, _ in metadata) + 2)
    sheet.set_column(1, 1, 100)
    for number, (name, value) in enumerate(metadata):
        sheet.write_string(number, 0, name, bold)
        if value:
            sheet.write_string(number, 1, value[:MAX_TEXT], wrap)
