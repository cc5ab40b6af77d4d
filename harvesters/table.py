"""The table reader: a grid of cells and the catalog's ``table:`` description in, records out.

Every harvester whose data is a table shares it: the spreadsheet harvester hands it a CSV file's
rows or an XLSX sheet's, a CKAN harvester a DataStore resource's records (the header row being
the field ids). A source adapter builds a :class:`Grid` (its rows, streamed, and how a message
names one of its cells) and calls :func:`read_table` with the :class:`TableSpec` that
:func:`parse_table_spec` made of the catalog entry.

How a grid is read (docs/harvesters.md, "The table description", says it for users):

1. ``skip_rows`` rows are passed over (titles, logos); the next ``header_rows`` rows are the
   header. In every header row but the lowest an empty cell takes the text on its left (a
   merged or "centred across" cell spans the columns under it). A column is named by its lowest
   non-empty header cell, by its header cells joined with `` / ``, or by its letter.
2. Data rows follow, to the first empty row after the first data row, or to a row that opens
   with ``Sumber``/``Catatan``/``Keterangan``/``Note``/a footnote mark. What lies below (notes,
   sources, signature blocks with civil servants' ID numbers) is never stored: the run log says
   how many rows there were, never their text.
3. A row's region is in its region column (by name, through :mod:`opendata.region_names`, or
   by code) or is the table's one region; a row labelled as a total (``Jumlah``) is the
   aggregate: ``region.within``, or else the one parent of the table's other regions. A row
   with no value at all is a heading: its name gives the rows below their context.
4. Value columns are the header's period cells (``periods: across``), the columns named in
   ``periods``, the ``value`` column, or a wide dimension's ``columns``. Columns that are none
   of these nor declared (``No``, CKAN's ``_id``) are ignored.
5. Each value cell is read exactly by :mod:`harvesters.table_values`; in a table of targets
   (``TableSpec.ranges``) a cell may be a range, whose second end is the record's ``value_to``.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from harvesters.exceptions import ParseError
from harvesters.table_spec import TOTAL_CODE, TableSpec, normalize, parse_table_spec
from harvesters.table_values import (
    Reading,
    ValueReader,
    format_decimals,
    number_of_cell,
    text_of,
)
from opendata.exceptions import clip
from opendata.model import Dimension, DimensionValue, Indicator, ParseResult, Record
from opendata.periods import read_period
from opendata.region_names import NameMatchError, match_regions

if TYPE_CHECKING:
    from opendata.regions import RegionIndex

__all__ = ["Cell", "Grid", "SheetGrid", "TableSpec", "parse_table_spec", "read_table"]

#: a row that opens with one of these words (or a footnote mark) ends the table
_TRAILER = re.compile(r"(?:sumber|source|catatan|keterangan|ket\s*[.:]|note|notes)\b|\*|\d\)")
_LETTERS = re.compile(r"[A-Z]{1,3}")
MAX_VALUE_CODE = 64


class Cell(NamedTuple):
    """One cell: its value as the source typed it, and (XLSX) its number format.

    ``value`` is text for CSV files and CKAN text fields; a spreadsheet's cell may also hold an
    int, a float, a datetime or a bool, a JSON number a Decimal. (A named tuple: a harvest
    reads millions; a cell's address comes from its position, see :meth:`Grid.cell_name`.)
    """

    value: str | Decimal | int | float | datetime | bool | None
    number_format: str | None = None


EMPTY = Cell(None)


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> ``A``, 27 -> ``AB``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based index of a column letter (``A`` -> 0)."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


class Grid:
    """A table's rows of cells (streamed, each row may be short) and how to name a cell.

    ``where`` names the table in messages: ``datasets/files/ppk.csv``. Row numbers count from
    ``first_row``. A ``bare`` grid's rows hold the cells' values themselves, not :class:`Cell`
    s: a CSV file's text has no number format, and a tuple per cell would be a good part of
    the cost of reading it.
    """

    def __init__(
        self,
        rows: Iterable[Sequence[Cell]] | Iterable[Sequence[object]],
        where: str,
        first_row: int = 1,
        *,
        bare: bool = False,
    ):
        self.rows = rows
        self.where = where
        self.first_row = first_row
        self.bare = bare

    def cell_name(self, row: int, column: int) -> str:
        """Name a cell (1-based row, 0-based column) in a message."""
        return f"{self.where}, row {row}, column {column_letter(column)}"

    def row_name(self, row: int) -> str:
        return f"{self.where}, row {row}"


class SheetGrid(Grid):
    """A spreadsheet's grid: cells are named ``<file>, sheet 'x', cell C7``."""

    def cell_name(self, row: int, column: int) -> str:
        return f"{self.where}, cell {column_letter(column)}{row}"


# --- the header -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the header: its index and the text of each header row over it."""

    index: int
    levels: tuple[str, ...]

    @property
    def name(self) -> str:
        """The lowest non-empty header text."""
        return next((text for text in reversed(self.levels) if text), "")

    @property
    def joined(self) -> str:
        """The header texts joined with `` / `` (a text repeated below itself once)."""
        parts: list[str] = []
        for text in self.levels:
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        return " / ".join(parts)

    @property
    def letter(self) -> str:
        return column_letter(self.index)


def _header_text(value: object) -> str:
    if isinstance(value, datetime) and value.day == 1 and value.time().hour == 0:
        return f"{value.year:04d}-{value.month:02d}"  # a month heading typed as a date
    return text_of(value)


def read_header(rows: Sequence[Sequence[Cell]]) -> list[Column]:
    """The header's columns; upper rows' empty cells take the text on their left."""
    width = max((len(row) for row in rows), default=0)
    levels: list[list[str]] = []
    for depth, row in enumerate(rows):
        texts = [_header_text(row[i].value) if i < len(row) else "" for i in range(width)]
        if depth < len(rows) - 1:
            for i in range(1, width):
                if not texts[i]:
                    texts[i] = texts[i - 1]
        levels.append(texts)
    return [Column(i, tuple(level[i] for level in levels)) for i in range(width)]


class Header:
    """Finds the columns a table description names."""

    def __init__(self, columns: list[Column], where: str, first: int, last: int):
        self.columns = columns
        self.where = where
        self.rows = f"row {first}" if first == last else f"rows {first}-{last}"

    def find(self, ref: str, key: str) -> Column:
        """The column named ``ref`` (header text, or letter); ``key`` names the catalog key."""
        wanted = normalize(ref)
        found = [
            c for c in self.columns if wanted in (normalize(c.name), normalize(c.joined)) and c.name
        ]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            letters = ", ".join(c.letter for c in found)
            raise ParseError(
                f"{self.where}: table.{key}: {ref!r} names {len(found)} columns ({letters}) of "
                f"the header ({self.rows}); name one by its letter"
            )
        if _LETTERS.fullmatch(ref):
            index = column_index(ref)
            if index < len(self.columns):
                return self.columns[index]
        names = ", ".join(repr(c.joined) for c in self.columns if c.joined)
        raise ParseError(
            f"{self.where}: table.{key}: no column is named {ref!r}; the header ({self.rows}) "
            f"has {clip(names, 600) or 'no text'} (check skip_rows and header_rows)"
        )


# --- which columns hold what ------------------------------------------------------------------


@dataclass(frozen=True)
class ValueColumn:
    """A column of values: its period (None: the row's) and its wide dimensions' labels."""

    column: Column
    period: str | None
    labels: tuple[tuple[str, str], ...] = ()  #: (dimension id, label)


@dataclass(frozen=True)
class Layout:
    region: Column | None
    period: Column | None
    long: tuple[tuple[str, Column], ...]  #: (dimension id, column of labels)
    values: tuple[ValueColumn, ...]


def plan(spec: TableSpec, header: Header) -> Layout:
    """Tell which column holds what; fail naming what cannot be found or is twice."""
    used: dict[int, str] = {}

    def take(ref: str, key: str) -> Column:
        column = header.find(ref, key)
        if column.index in used:
            raise ParseError(
                f"{header.where}: table.{key} and table.{used[column.index]} both name column "
                f"{column.letter} ({column.joined!r})"
            )
        used[column.index] = key
        return column

    region = take(spec.region.column, "region.column") if spec.region.column else None
    period = take(spec.period_column, "period.column") if spec.period_column else None
    long = tuple((d.id, take(d.column, f"dimensions.{d.id}")) for d in spec.dimensions if d.column)
    values: list[ValueColumn] = []
    if spec.value_column:
        values.append(ValueColumn(take(spec.value_column, "value.column"), spec.period))
    for dimension in spec.dimensions:
        for ref in dimension.columns:
            column = take(ref, f"dimensions.{dimension.id}.columns")
            values.append(ValueColumn(column, spec.period, ((dimension.id, column.name),)))
    for ref, period_text in spec.period_columns.items():
        column = take(ref, f"periods.{ref}")
        values.append(ValueColumn(column, period_text, _row_labels(spec, column, header)))
    if spec.periods_across:
        values.extend(_across(spec, header, used))
    _refuse_twins(values, header)
    return Layout(region, period, long, tuple(values))


def _row_labels(spec: TableSpec, column: Column, header: Header) -> tuple[tuple[str, str], ...]:
    labels = []
    for dimension in spec.dimensions:
        if dimension.header_row is not None:
            label = column.levels[dimension.header_row - 1]
            if not label:
                raise ParseError(
                    f"{header.where}: column {column.letter} ({column.joined!r}) has no label "
                    f"in header row {dimension.header_row} (dimension {dimension.id})"
                )
            labels.append((dimension.id, label))
    return tuple(labels)


def _across(spec: TableSpec, header: Header, used: dict[int, str]) -> list[ValueColumn]:
    label_rows = {d.header_row - 1 for d in spec.dimensions if d.header_row is not None}
    found = []
    for column in header.columns:
        if column.index in used:
            continue
        for depth in reversed(range(len(column.levels))):
            if depth in label_rows or not column.levels[depth]:
                continue
            period = read_period(column.levels[depth])
            if period is not None:
                found.append(ValueColumn(column, period, _row_labels(spec, column, header)))
                used[column.index] = "periods"
                break
    if not found:
        raise ParseError(
            f"{header.where}: periods: across, but no header cell ({header.rows}) reads as a "
            "period (2020, 2024-Q1, Maret 2024); check skip_rows and header_rows"
        )
    return found


def _refuse_twins(values: list[ValueColumn], header: Header) -> None:
    seen: dict[tuple[str | None, tuple[tuple[str, str], ...]], Column] = {}
    for value in values:
        key = (value.period, tuple((d, normalize(label)) for d, label in value.labels))
        if key in seen:
            first = seen[key]
            raise ParseError(
                f"{header.where}: columns {first.letter} ({first.joined!r}) and "
                f"{value.column.letter} ({value.column.joined!r}) would give the same "
                "observations; describe what tells them apart (a dimension with header_row)"
            )
        seen[key] = value.column


# --- the data rows ----------------------------------------------------------------------------


class Row(NamedTuple):
    """A data row as read: its number, region text, period, labels, value readings."""

    number: int
    region: str
    period: str | None
    labels: tuple[str, ...]  #: the long dimensions' labels
    #: (position of the column in Layout.values, reading), for the cells that gave one
    readings: list[tuple[int, Reading]]


def _is_empty(values: Sequence[object]) -> bool:
    for value in values:
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return False
    return True


def _first_text(values: Sequence[object]) -> str:
    return next((text_of(v) for v in values if text_of(v)), "")


#: how many distinct cell values a parse remembers the reading of (a period column, region
#: totals); a column of distinct values still costs no more memory than this
_MEMO_SIZE = 4096


class _Reader:
    """One table's read: rows in, records out."""

    def __init__(self, grid: Grid, spec: TableSpec, regions: RegionIndex):
        self.grid = grid
        self.spec = spec
        self.regions = regions
        self.values = ValueReader(spec.decimal, spec.missing, spec.marks, spec.ranges)
        self.messages: list[str] = []

    def read(self) -> ParseResult:
        rows = self._numbered()
        for _ in range(self.spec.skip_rows):
            next(rows, None)
        header_rows = [self._cells(row) for _, row in _take(rows, self.spec.header_rows)]
        first = self.grid.first_row + self.spec.skip_rows
        last = first + self.spec.header_rows - 1
        if len(header_rows) < self.spec.header_rows:
            raise ParseError(
                f"{self.grid.where}: the table has no header at rows {first}-{last} "
                f"(skip_rows: {self.spec.skip_rows}, header_rows: {self.spec.header_rows})"
            )
        header = Header(read_header(header_rows), self.grid.where, first, last)
        self.layout = plan(self.spec, header)
        data = self._rows(rows, self.layout, last)
        codes = self._regions(data)
        return self._result(data, codes)

    def _numbered(self) -> Iterator[tuple[int, Sequence[Any]]]:
        return enumerate(self.grid.rows, start=self.grid.first_row)

    def _cells(self, row: Sequence[Any]) -> Sequence[Cell]:
        return [Cell(value) for value in row] if self.grid.bare else row

    def _values(self, row: Sequence[Any]) -> Sequence[object]:
        return row if self.grid.bare else [cell.value for cell in row]

    def _rows(self, rows: Iterator[tuple[int, Sequence[Any]]], layout: Layout, last: int):
        data: list[Row] = []
        end, why = None, ""
        # The loop a parse spends its time in: most rows are read at once (_RowReader.quick)
        bare = self.grid.bare
        value_indexes = [v.column.index for v in layout.values]
        reader = _RowReader(self, layout)
        quick, read_row = reader.quick, reader.read
        for number, row in rows:
            values = row if bare else [cell.value for cell in row]
            found = quick(number, values, row)
            if found is not None:
                data.append(found)
                continue
            if _is_empty(values):
                if data:
                    end, why = number, "an empty row"
                    break
                continue
            if (
                data
                and _no_values(values, value_indexes)
                and _TRAILER.match(_first_text(values).casefold())
            ):
                end, why = number, "a row of notes or sources"
                break
            data.append(read_row(number, values, row))
        if not data:
            raise ParseError(
                f"{self.grid.where}: no data rows below the header (row {last}); check "
                "skip_rows, header_rows and the sheet"
            )
        if end is not None:
            self._after(end, why, rows)
        return data

    def _after(self, end: int, why: str, rows: Iterator[tuple[int, Sequence[Any]]]) -> None:
        """Count what lies below the table, to say so; its text is never kept."""
        below = [number for number, row in rows if not _is_empty(self._values(row))]
        if why != "an empty row":
            below.insert(0, end)
        if below:
            span = f"row {below[0]}" if len(below) == 1 else f"rows {below[0]}-{below[-1]}"
            self.messages.append(
                f"{self.grid.where}: the table ends at row {end} ({why}); {len(below)} "
                f"non-empty row(s) below it ({span}: notes, sources or a signature block) "
                "were not read, and none of their text is stored"
            )

    # --- regions

    def _regions(self, data: list[Row]) -> list[str | None]:
        """The region code of each row (None for a heading row that names no region)."""
        region = self.spec.region
        if region.code is not None:
            found = self.regions.resolve(region.code)
            if found is None:
                raise ParseError(
                    f"{self.grid.where}: table.region.code: no region has code {region.code!r}"
                )
            return [found.code] * len(data)
        totals = self._totals(data)
        if region.by == "code":
            codes = self._by_code(data, totals)
        else:
            codes = self._by_name(data, totals)
        if any(totals):
            aggregate = self._aggregate(data, codes, totals)
            codes = [
                aggregate if total else code for code, total in zip(codes, totals, strict=True)
            ]
        return codes

    def _totals(self, data: list[Row]) -> list[bool]:
        """Whether each row is labelled as a total; each distinct region text is looked at once."""
        known: dict[str, bool] = {}
        totals = self.spec.totals
        flags = []
        for row in data:
            total = known.get(row.region)
            if total is None:
                if len(known) >= _MEMO_SIZE:
                    known.clear()
                total = known[row.region] = normalize(row.region) in totals
            flags.append(total)
        return flags

    def _by_code(self, data: list[Row], totals: list[bool]) -> list[str | None]:
        codes: list[str | None] = []
        unknown = []
        for row, total in zip(data, totals, strict=True):
            text = row.region
            if total or not text:
                codes.append(None)
                continue
            found = self.regions.resolve("0000" if text == "0" else text)
            if found is None:
                unknown.append(f"{text!r} (row {row.number})")
            codes.append(found.code if found else None)
        if unknown:
            raise ParseError(
                f"{self.grid.where}: {len(unknown)} region code(s) match no region: "
                f"{clip(', '.join(unknown), 1500)}"
            )
        return codes

    def _by_name(self, data: list[Row], totals: list[bool]) -> list[str | None]:
        region = self.spec.region
        names = ["" if total else row.region for row, total in zip(data, totals, strict=True)]
        try:
            return match_regions(names, self.regions, within=region.within, aliases=region.aliases)
        except NameMatchError as exc:
            # A heading row (no values) that names no region ("Kabupaten") is no error: it
            # only gave context, and gives none. A row with values must name its region.
            problems = {normalize(name) for name, _why in exc.problems}
            headings = [
                i
                for i, row in enumerate(data)
                if not row.readings and normalize(names[i]) in problems
            ]
            if not headings:
                raise ParseError(f"{self.grid.where}: {exc}") from None
            for i in headings:
                names[i] = ""
            try:
                return match_regions(
                    names, self.regions, within=region.within, aliases=region.aliases
                )
            except NameMatchError as again:
                raise ParseError(f"{self.grid.where}: {again}") from None

    def _aggregate(self, data: list[Row], codes: list[str | None], totals: list[bool]) -> str:
        if self.spec.region.within:
            found = self.regions.resolve(self.spec.region.within)
            if found is None:
                raise ParseError(
                    f"{self.grid.where}: table.region.within: no region has code "
                    f"{self.spec.region.within!r}"
                )
            return found.code
        parents = set()
        for code in codes:
            info = self.regions.get(code) if code else None
            if info is not None:
                parents.add(info.parent)
        if len(parents) == 1 and None not in parents:
            return parents.pop()  # type: ignore[return-value]
        row = data[totals.index(True)]
        raise ParseError(
            f"{self.grid.row_name(row.number)}: {row.region!r} is a total row, but the table's "
            "regions are not all under one region; declare table.region.within (its code)"
        )

    # --- records

    def _result(self, data: list[Row], codes: list[str | None]) -> ParseResult:
        spec = self.spec
        dims = _Dimensions(spec, self.grid.where)
        records: list[Record] = []
        seen: dict[tuple, int] = {}
        indicator = spec.indicator.code
        columns = self.layout.values
        long_ids = [d.id for d in spec.dimensions if d.column]
        # per value column, the dimension codes of each distinct tuple of long labels
        codes_of: list[dict[tuple[str, ...], tuple[tuple[str, str], ...]]] = [{} for _ in columns]
        make_record = Record._make  # tuple.__new__: the named tuple's __new__ without its frame
        for row, code in zip(data, codes, strict=True):
            labels = row.labels
            for position, reading in row.readings:
                dimensions = codes_of[position].get(labels)
                if dimensions is None:
                    named = dict(zip(long_ids, labels, strict=True))
                    named.update(columns[position].labels)
                    dimensions = codes_of[position][labels] = dims.codes(named)
                key = (code, columns[position].period or row.period, dimensions)
                known = len(seen)
                first = seen.setdefault(key, row.number)  # one lookup, not `in` and a store
                if len(seen) == known:
                    raise ParseError(
                        f"{self.grid.row_name(row.number)} gives region {code}, period {key[1]}"
                        f"{_describe(dimensions)} again (first in row {first}): two rows "
                        "name the same region; tell them apart with a dimension, or fix the file"
                    )
                # (value, flag, note); a range's reading has its value_to too
                records.append(
                    make_record(
                        (indicator, *key, *reading, None)  # type: ignore[misc]
                        if len(reading) == 3  # type: ignore[arg-type]
                        else (indicator, *key, *reading)  # type: ignore[misc]
                    )
                )
        self.messages.insert(
            0,
            f"{self.grid.where}: read {len(data)} row(s) (rows {data[0].number}-"
            f"{data[-1].number}): {len(records)} observation(s)",
        )
        if self.values.texts:
            self.messages.append(
                f"{self.grid.where}: {self.values.texts} value cell(s) hold text that is not a "
                f"number (the first: {self.values.first_text}); kept as notes with flag L"
            )
        info = spec.indicator
        return ParseResult(
            indicators=[
                Indicator(
                    code=info.code,
                    name=info.name,
                    unit=info.unit,
                    decimals=info.decimals,
                    definition=info.definition,
                    notes=info.notes,
                    source_ref=self.grid.where,
                )
            ],
            dimensions=dims.dimensions(),
            records=records,
            messages=self.messages,
        )


def _no_values(values: Sequence[object], indexes: list[int]) -> bool:
    count = len(values)
    for i in indexes:  # a loop, not all(...): this runs for every row
        if i < count and values[i] not in (None, ""):
            return False
    return True


class _Memo(dict):
    """A function's results by argument, made on first use: a column repeats a few texts.

    Its hits cost a dict lookup, made in C. Bounded: a column of distinct texts clears it now
    and then. Keys must be of one type (1, 1.0 and True are equal keys): callers pass text.
    """

    def __init__(self, function: Callable[[Any], Any]):
        super().__init__()
        self.function = function

    def __missing__(self, key: Any) -> Any:
        if len(self) >= _MEMO_SIZE:
            self.clear()
        value = self[key] = self.function(key)
        return value


class _RowReader:
    """Reads the data rows' cells where the layout says: the loop a parse spends its time in.

    Written for speed (a harvest reads millions of cells): :meth:`quick` reads a common row at
    once; :meth:`read` reads any row, carefully, in the order of its cells (which decides which
    error a table with many problems reports first). The texts of label, region and period
    cells repeat: each distinct one is read once (a memo per type of cell: ``1``, ``1.0`` and
    ``True`` are equal keys, but their texts differ).
    """

    def __init__(self, reader: _Reader, layout: Layout):
        self.grid = reader.grid
        self.bare = reader.grid.bare
        self.values_reader = reader.values
        self.common = reader.values.common_text
        self.missing = reader.values.missing
        self.period = reader.spec.period
        self.region = layout.region.index if layout.region is not None else None
        self.long = [(dimension_id, column.index) for dimension_id, column in layout.long]
        self.long_columns = [index for _, index in self.long]
        self.pick_labels = itemgetter(*self.long_columns) if self.long_columns else None
        self.values = [(position, v.column.index) for position, v in enumerate(layout.values)]
        self.period_column = layout.period.index if layout.period is not None else None
        used = [*self.long_columns, self.region, self.period_column]
        self.widest = max(i for i in used + [i for _, i in self.values] if i is not None)
        self.texts = {kind: _Memo(text_of) for kind in (str, int, float)}
        self.periods = {kind: _Memo(_period_of) for kind in (str, int, float)}
        self.label_tuples = {kind: _Memo(_labels_of) for kind in (str, int, float)}

    def quick(self, number: int, values: Sequence[object], row: Sequence[Any]) -> Row | None:
        """Row ``number`` read at once if it is a common one; None: :meth:`read` must look.

        A common row has every cell the layout reads: a region and labels that are not empty,
        a period that reads as one, value cells that are plain numbers (:meth:`_quick_number`).
        :meth:`read` would make the same of it: such a row cannot fail, is no heading, no
        empty row, no row of notes, and tells the ValueReader nothing (it is read here before
        anything else is looked at).
        """
        if len(values) <= self.widest:
            return None
        region = ""
        if self.region is not None:
            cell = values[self.region]
            memo = self.texts.get(cell.__class__)
            region = memo[cell] if memo is not None else ""
            if not region:
                return None
        labels: tuple[str, ...] | None = ()
        if self.pick_labels is not None:
            labels = self._quick_labels(values)
            if labels is None:
                return None
        readings = []
        common, missing = self.common, self.missing
        for position, index in self.values:
            cell = values[index]
            if cell.__class__ is str:  # CSV text: as ValueReader.at_once, without the call
                if not common(cell) or cell in missing:
                    return None
                found = Decimal(cell.replace(",", "."))  # type: ignore[attr-defined]
            else:
                found = self._quick_number(cell, row, index)
                if found is None:
                    return None
            readings.append((position, (found, None, None)))
        period = self.period
        if self.period_column is not None:
            cell = values[self.period_column]
            memo = self.periods.get(cell.__class__)
            period = memo[cell] if memo is not None else None
            if period is None:
                return None
        return _make_row((number, region, period, labels, readings)) if readings else None

    def _quick_labels(self, values: Sequence[object]) -> tuple[str, ...] | None:
        if len(self.long_columns) == 1:  # one long dimension (most tables): its labels memoized
            cell = values[self.long_columns[0]]
            memo = self.label_tuples.get(cell.__class__)
            return memo[cell] if memo is not None else None
        labels = []
        cells = self.pick_labels(values)  # type: ignore[misc]
        for cell in cells:
            memo = self.texts.get(cell.__class__)
            label = memo[cell] if memo is not None else ""
            if not label:
                return None
            labels.append(label)
        return tuple(labels)

    def _quick_number(self, cell: object, row: Sequence[Any], index: int) -> Decimal | None:
        """A sheet's or a record's number as ValueReader.read gives it, where that is plain.

        Plain: an int; a float below 1e15 (no exponent to drop) or a Decimal with no positive
        exponent, shown in a format that fixes no decimals; and no missing marker that is a
        number. Anything else (None: read() looks) might need rounding, or fail.
        """
        if self.values_reader.numeric_markers:
            return None
        kind = cell.__class__
        if kind is float:
            if not -1e15 < cell < 1e15:  # type: ignore[operator]
                return None
        elif kind is Decimal:
            if not cell.is_finite() or cell.as_tuple().exponent > 0:  # type: ignore[attr-defined]
                return None
        elif kind is not int:
            return None
        number_format = None if self.bare else row[index].number_format
        if format_decimals(number_format) is not None:  # 0.00, 0%: rounded, scaled
            return None
        return number_of_cell(cell, number_format)  # type: ignore[arg-type]

    def read(self, number: int, values: Sequence[object], row: Sequence[Any]) -> Row:
        """Row ``number``: ``values`` its cells' values, ``row`` its cells as the grid gave them."""
        count = len(values)
        text = self._text
        index = self.region
        region = "" if index is None or index >= count else text(values[index])
        labels = tuple([text(values[i]) if i < count else "" for i in self.long_columns])
        readings = []
        for position, index in self.values:
            reading = self._read_value(number, values, row, index)
            if reading is not None:
                readings.append((position, reading))
        period = self.period
        if readings:
            if self.period_column is not None:
                period = self._read_period(number, values, self.period_column)
            if "" in labels or (self.region is not None and not region):
                self._refuse_unnamed(number, labels, region)
        return _make_row((number, region, period, labels, readings))

    def _text(self, value: object) -> str:
        memo = self.texts.get(value.__class__)
        return memo[value] if memo is not None else text_of(value)

    def _read_value(
        self, number: int, values: Sequence[object], row: Sequence[Any], index: int
    ) -> Reading:
        count = len(values)
        value = values[index] if index < count else None
        number_format = None if self.bare or index >= count else row[index].number_format
        return self.values_reader.read(
            value, number_format, lambda: self.grid.cell_name(number, index)
        )

    def _read_period(self, number: int, values: Sequence[object], index: int) -> str:
        value = values[index] if index < len(values) else None
        memo = self.periods.get(value.__class__)
        period = memo[value] if memo is not None else _period_of(value)
        if period is None:
            raise ParseError(
                f"{self.grid.cell_name(number, index)}: {text_of(value)!r} is not a period "
                "(2024, 2024-Q1, 2024-03, Maret 2024)"
            )
        return period

    def _refuse_unnamed(self, number: int, labels: tuple[str, ...], region: str) -> None:
        """A row with values needs its labels and its region."""
        for (dimension_id, index), label in zip(self.long, labels, strict=True):
            if not label:
                raise ParseError(
                    f"{self.grid.cell_name(number, index)} is empty: the row has values, "
                    f"so it needs a label of dimension {dimension_id}"
                )
        raise ParseError(
            f"{self.grid.cell_name(number, self.region)} is empty: the row has "  # type: ignore[arg-type]
            "values, so it needs a region"
        )


def _labels_of(value: object) -> tuple[str] | None:
    """The labels of a row with one long dimension, or None where its label is empty."""
    text = text_of(value)
    return (text,) if text else None


def _period_of(value: object) -> str | None:
    """The period a cell of a period column names, or None."""
    return read_period(_header_text(value))


_make_row = Row._make  # tuple.__new__: a named tuple without the frame of its __new__


def _describe(dimensions: tuple[tuple[str, str], ...]) -> str:
    return "".join(f", {d} {code}" for d, code in dimensions)


def value_code(label: str) -> str:
    """A dimension value's code made of its label: ``Kelas III A`` -> ``kelas_iii_a``."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:MAX_VALUE_CODE].rstrip("_")


class _Dimensions:
    """The dimensions' values as met, in order; labels to codes (totals are ``_T``)."""

    def __init__(self, spec: TableSpec, where: str):
        self.spec = spec
        self.where = where
        self.values: dict[str, dict[str, DimensionValue]] = {d.id: {} for d in spec.dimensions}
        self.labels: dict[str, dict[str, str]] = {d.id: {} for d in spec.dimensions}
        self._cache: dict[tuple[str, str], str] = {}
        for dimension in spec.dimensions:  # a wide dimension's values in column order
            for label in dimension.columns:
                self._code(dimension.id, label)

    def codes(self, labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
        return tuple((d.id, self._code(d.id, labels[d.id])) for d in self.spec.dimensions)

    def _code(self, dimension_id: str, label: str) -> str:
        key = (dimension_id, label)
        code = self._cache.get(key)
        if code is not None:
            return code
        label = " ".join(label.split())
        is_total = normalize(label) in self.spec.totals
        code = TOTAL_CODE if is_total else value_code(label)
        if not code:
            raise ParseError(
                f"{self.where}: dimension {dimension_id}: the label {label!r} gives no code"
            )
        known = self.values[dimension_id].get(code)
        if known is None:
            self.values[dimension_id][code] = DimensionValue(code, label, is_total)
        elif normalize(known.label) != normalize(label):
            raise ParseError(
                f"{self.where}: dimension {dimension_id}: the labels {known.label!r} and "
                f"{label!r} both give the code {code!r}"
                + ("; both are totals (table.totals)" if is_total else "")
            )
        self._cache[key] = code
        return code

    def dimensions(self) -> list[Dimension]:
        return [
            Dimension(d.id, d.label, list(self.values[d.id].values())) for d in self.spec.dimensions
        ]


def _take(rows: Iterator[tuple[int, Sequence[Cell]]], count: int):
    for _ in range(count):
        item = next(rows, None)
        if item is None:
            return
        yield item


def read_table(grid: Grid, spec: TableSpec, regions: RegionIndex) -> ParseResult:
    """Read a grid as ``spec`` describes it; raise ParseError naming the file, cell or name."""
    with _collector_paused():
        return _Reader(grid, spec, regions).read()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a table is read.

    A parse keeps a few small containers per row (rows, readings, records) and makes no
    reference cycles; with the collector on, every 700 of them start a collection, and the
    full ones walk the whole growing heap again: a third of the time of a large parse. Memory
    is no different: what is freed during a parse is freed by reference counting. The collector
    is resumed at the end (also on an error) unless it was off before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
