"""CSV of observations: RFC 4180, comma-separated, ``.`` decimals, UTF-8 without BOM.

Columns: ``dataset, region_code, region_name, period``, then ``<id>_code, <id>`` for each
dimension of the dataset, then ``value, unit, flag, note`` (see :mod:`opendata.columns`; a
header with a column twice is refused). A target set's CSV (``ranges``) has ``value_to`` after
``value``: a range's other end, empty for a single figure; any other dataset's CSV has no such
column. Values are written as the exact decimal text the source
sent. Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) get a leading apostrophe; numeric values such as ``-0.47`` are
never touched.

The writer is a generator of text chunks, so the API can stream it and the command line can
write it to a file without holding the whole table in memory.

A :class:`Profile` says how cells are written. ``plain`` is the above. ``excel-id`` is for Excel
and LibreOffice with an Indonesian locale, which read ``,`` as the decimal mark and so put a
comma-separated file in one column: UTF-8 with a BOM (else Excel reads ANSI), ``;`` between
cells, CRLF, values with a decimal comma in plain decimal notation (``7.10`` -> ``7,10``,
``1.2E-20`` -> ``0,000000000000000000012``; never a thousands separator), and codes and periods
written as the formula ``="0000"``: a spreadsheet evaluates it to the text ``0000``, where a bare
``0000`` becomes the number 0 (and ``6371`` a number, ``2024-03`` a date, ``63.71`` 6371 in an
Indonesian locale). Quoting a cell does not help: Excel converts quoted cells all the same.
Other text that a spreadsheet would take for a number or a date (a digit and no letter: an age
group ``5-9``, a range ``6,0-6,9``) is written the same way, unless it starts like a formula:
other text keeps the apostrophe guard of every CSV. Inside ``="..."`` the text is a string
literal (its ``"`` doubled), so no text of the store ever runs as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from opendata import columns
from opendata.store.queries import ObservationRow

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000


def neutralize(text: str | None) -> str:
    """A text cell made safe from spreadsheet formula injection."""
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


#: text a spreadsheet would read as a number, date or time: a digit and no letter
_NUMBER_LIKE = re.compile(r"^[^A-Za-z]*[0-9][^A-Za-z]*$")
#: the longest string literal Excel takes in a formula
MAX_LITERAL = 255


def as_text_formula(text: str | None) -> str:
    """``="0000"``: a cell that Excel and LibreOffice read as the text ``0000``.

    Longer texts than a formula's string literal takes keep the apostrophe guard instead.
    """
    if not text:
        return ""
    if len(text) > MAX_LITERAL:
        return neutralize(text)
    return '="' + text.replace('"', '""') + '"'


def spreadsheet_text(text: str | None) -> str:
    """A text cell for a spreadsheet: guarded as in every CSV if it starts like a formula, else
    as a text formula if it would read as a number or a date (``5-9``)."""
    if text and not text.startswith(FORMULA_PREFIXES) and _NUMBER_LIKE.match(text):
        return as_text_formula(text)
    return neutralize(text)


def decimal_comma(value: str) -> str:
    """``7.10`` -> ``7,10``: the exact digits, in plain notation, with a decimal comma."""
    if "e" in value or "E" in value:
        try:
            value = format(Decimal(value), "f")
        except InvalidOperation:  # not a number: the store keeps numbers only, but stay safe
            return spreadsheet_text(value)
    return value.replace(".", ",")


@dataclass(frozen=True)
class Profile:
    """How a CSV writes its cells: the dialect, and a function per kind of cell."""

    name: str
    delimiter: str = ","
    bom: bool = False
    #: a value's exact text -> its cell; None: the text as it is (the plain CSV's fast path)
    number: Callable[[str], str] | None = None
    code: Callable[[str | None], str] = neutralize  #: region and dimension value codes
    #: a period's text -> its cell; None: as it is (no period starts like a formula)
    period: Callable[[str], str] | None = None
    text: Callable[[str | None], str] = neutralize  #: names, labels, units, flags, notes

    def value(self, text: str | None) -> str:
        """The cell of a value (empty for none)."""
        if not text:
            return ""
        return self.number(text) if self.number else text

    def writer(self, buffer: io.StringIO):
        """A csv writer of this dialect into ``buffer``."""
        return csv.writer(buffer, delimiter=self.delimiter, lineterminator="\r\n")


PLAIN = Profile("plain")
EXCEL_ID = Profile(
    "excel-id",
    delimiter=";",
    bom=True,
    number=decimal_comma,
    code=as_text_formula,
    period=as_text_formula,
    text=spreadsheet_text,
)
PROFILES = {profile.name: profile for profile in (PLAIN, EXCEL_ID)}
BOM = "\ufeff"


def header(dimensions: Sequence[str], ranges: bool = False) -> list[str]:
    """The CSV's columns; ValueError if a dimension id would give a column twice."""
    names = columns.header(dimensions, ranges)
    columns.check_header(names)  # the catalog and the harvesters never make one: a last defence
    return names


def write_csv(
    dataset_id: str,
    dimensions: Sequence[str],
    rows: Iterable[ObservationRow],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    ranges: bool = False,
    profile: Profile = PLAIN,
) -> Iterator[str]:
    """Yield the CSV text of ``rows`` in chunks; ``dimensions`` are the dataset's slugs;
    ``ranges``: the dataset is a target set (a ``value_to`` column)."""
    buffer = io.StringIO()
    out = profile.writer(buffer)
    if profile.bom:
        buffer.write(BOM)
    out.writerow(header(dimensions, ranges))
    dataset_cell = profile.text(dataset_id)
    empty: Mapping[str, tuple[str, str]] = {}
    code, text, number, period_cell = profile.code, profile.text, profile.number, profile.period
    # What a series fixes (region, dimension values, unit) is written once per series.
    series_cells: dict[int, tuple[tuple[str, ...], tuple[str, ...], str]] = {}
    batch: list[tuple] = []
    for region_code, region_name, period, series_id, _s, _e, value, unit, flag, note, to in rows:
        fixed = series_cells.get(series_id)
        if fixed is None:
            values = series_dimensions.get(series_id, empty)
            cells: list[str] = []
            for slug in dimensions:
                value_code, label = values.get(slug, ("", ""))
                cells += [code(value_code), text(label)]
            region = region_code if profile is PLAIN else code(region_code)
            head = (dataset_cell, region, text(region_name))
            fixed = series_cells[series_id] = (head, tuple(cells), text(unit))
        head, cells, unit_cell = fixed
        flag_cell = text(flag) if flag else ""
        note_cell = text(note) if note else ""
        if period_cell is not None:
            period = period_cell(period)
        if number is not None:
            value = number(value) if value else ""
            to = number(to) if to else ""
        if ranges:
            row = (
                *head,
                period,
                *cells,
                value or "",
                to or "",
                unit_cell,
                flag_cell,
                note_cell,
            )
        else:
            row = (*head, period, *cells, value or "", unit_cell, flag_cell, note_cell)
        batch.append(row)
        if len(batch) == CHUNK_ROWS:
            out.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    out.writerows(batch)
    yield buffer.getvalue()


def write_changes_csv(
    dataset_id: str,
    dimensions: Sequence[str],
    rows: Iterable[Sequence],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    ranges: bool,
    timestamp: Callable[[object], str | None],
    profile: Profile = PLAIN,
) -> Iterator[str]:
    """Yield the CSV of changes (``updated_after``): the observations' columns, then ``change``
    and ``updated_at`` (``timestamp`` of the row's time); a withdrawn cell's value is empty."""
    buffer = io.StringIO()
    out = profile.writer(buffer)
    if profile.bom:
        buffer.write(BOM)
    out.writerow([*header(dimensions, ranges), "change", "updated_at"])
    empty: Mapping[str, tuple[str, str]] = {}
    code, text = profile.code, profile.text
    for count, row in enumerate(rows, 1):
        region_code, region_name, period, series_id, _s, _e, value, unit, flag, note, to = row[:11]
        values = series_dimensions.get(series_id, empty)
        cells: list[str] = []
        for slug in dimensions:
            value_code, label = values.get(slug, ("", ""))
            cells += [code(value_code), text(label)]
        ends = (profile.value(value), profile.value(to)) if ranges else (profile.value(value),)
        out.writerow(
            (
                text(dataset_id),
                region_code if profile is PLAIN else code(region_code),
                text(region_name),
                period if profile.period is None else profile.period(period),
                *cells,
                *ends,
                text(unit),
                text(flag),
                text(note),
                row[11],
                timestamp(row[12]),
            )
        )
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
