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
5. Each value cell is read exactly by :mod:`harvesters.table_values`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from harvesters.exceptions import ParseError
from harvesters.table_spec import TOTAL_CODE, TableSpec, normalize, parse_table_spec
from harvesters.table_values import Reading, ValueReader, text_of
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
    ``first_row``.
    """

    def __init__(self, rows: Iterable[Sequence[Cell]], where: str, first_row: int = 1):
        self.rows = rows
        self.where = where
        self.first_row = first_row

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


def _header_text(cell: Cell) -> str:
    value = cell.value
    if isinstance(value, datetime) and value.day == 1 and value.time().hour == 0:
        return f"{value.year:04d}-{value.month:02d}"  # a month heading typed as a date
    return text_of(value)


def read_header(rows: Sequence[Sequence[Cell]]) -> list[Column]:
    """The header's columns; upper rows' empty cells take the text on their left."""
    width = max((len(row) for row in rows), default=0)
    levels: list[list[str]] = []
    for depth, row in enumerate(rows):
        texts = [_header_text(row[i]) if i < len(row) else "" for i in range(width)]
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


@dataclass
class Row:
    """A data row as read: its number, region text, period, labels, value readings."""

    number: int
    region: str
    period: str | None
    labels: tuple[str, ...]  #: the long dimensions' labels
    readings: list[tuple[ValueColumn, Reading]]


def _is_empty(row: Sequence[Cell]) -> bool:
    for cell in row:
        value = cell.value
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return False
    return True


def _first_text(row: Sequence[Cell]) -> str:
    return next((text_of(c.value) for c in row if text_of(c.value)), "")


def _cell(row: Sequence[Cell], column: Column) -> Cell:
    return row[column.index] if column.index < len(row) else EMPTY


class _Reader:
    """One table's read: rows in, records out."""

    def __init__(self, grid: Grid, spec: TableSpec, regions: RegionIndex):
        self.grid = grid
        self.spec = spec
        self.regions = regions
        self.values = ValueReader(spec.decimal, spec.missing, spec.marks)
        self.messages: list[str] = []

    def read(self) -> ParseResult:
        rows = self._numbered()
        for _ in range(self.spec.skip_rows):
            next(rows, None)
        header_rows = [row for _, row in _take(rows, self.spec.header_rows)]
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

    def _numbered(self) -> Iterator[tuple[int, Sequence[Cell]]]:
        return enumerate(self.grid.rows, start=self.grid.first_row)

    def _rows(self, rows: Iterator[tuple[int, Sequence[Cell]]], layout: Layout, last: int):
        data: list[Row] = []
        end, why = None, ""
        for number, row in rows:
            if _is_empty(row):
                if data:
                    end, why = number, "an empty row"
                    break
                continue
            if data and self._no_values(row) and _TRAILER.match(_first_text(row).casefold()):
                end, why = number, "a row of notes or sources"
                break
            data.append(self._row(number, row, layout))
        if not data:
            raise ParseError(
                f"{self.grid.where}: no data rows below the header (row {last}); check "
                "skip_rows, header_rows and the sheet"
            )
        if end is not None:
            self._after(end, why, rows)
        return data

    def _no_values(self, row: Sequence[Cell]) -> bool:
        return all(_cell(row, v.column).value in (None, "") for v in self.layout.values)

    def _after(self, end: int, why: str, rows: Iterator[tuple[int, Sequence[Cell]]]) -> None:
        """Count what lies below the table, to say so; its text is never kept."""
        below = [number for number, row in rows if not _is_empty(row)]
        if why != "an empty row":
            below.insert(0, end)
        if below:
            span = f"row {below[0]}" if len(below) == 1 else f"rows {below[0]}-{below[-1]}"
            self.messages.append(
                f"{self.grid.where}: the table ends at row {end} ({why}); {len(below)} "
                f"non-empty row(s) below it ({span}: notes, sources or a signature block) "
                "were not read, and none of their text is stored"
            )

    def _row(self, number: int, row: Sequence[Cell], layout: Layout) -> Row:
        spec, grid = self.spec, self.grid
        region = text_of(_cell(row, layout.region).value) if layout.region else ""
        labels = tuple(text_of(_cell(row, column).value) for _, column in layout.long)
        readings = []
        for value in layout.values:
            cell = _cell(row, value.column)
            index = value.column.index
            reading = self.values.read(
                cell.value, cell.number_format, lambda i=index: grid.cell_name(number, i)
            )
            if reading is not None:
                readings.append((value, reading))
        period = spec.period
        if layout.period is not None and readings:
            cell = _cell(row, layout.period)
            period = read_period(_header_text(cell))
            if period is None:
                raise ParseError(
                    f"{grid.cell_name(number, layout.period.index)}: "
                    f"{text_of(cell.value)!r} is not a period (2024, 2024-Q1, 2024-03, "
                    "Maret 2024)"
                )
        if readings:
            for (dimension_id, column), label in zip(layout.long, labels, strict=True):
                if not label:
                    raise ParseError(
                        f"{grid.cell_name(number, column.index)} is empty: the row has values, "
                        f"so it needs a label of dimension {dimension_id}"
                    )
            if layout.region is not None and not region:
                raise ParseError(
                    f"{grid.cell_name(number, layout.region.index)} is empty: the row has "
                    "values, so it needs a region"
                )
        return Row(number, region, period, labels, readings)

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
        totals = [normalize(row.region) in self.spec.totals for row in data]
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
        for row, code in zip(data, codes, strict=True):
            if not row.readings:
                continue
            long = dict(zip((d for d in spec.dimensions if d.column), row.labels, strict=True))
            for value_column, reading in row.readings:
                labels = {d.id: label for d, label in long.items()}
                labels.update(value_column.labels)
                dimensions = dims.codes(labels)
                period = value_column.period or row.period
                key = (code, period, dimensions)
                if key in seen:
                    raise ParseError(
                        f"{self.grid.row_name(row.number)} gives region {code}, period {period}"
                        f"{_describe(dimensions)} again (first in row {seen[key]}): two rows "
                        "name the same region; tell them apart with a dimension, or fix the file"
                    )
                seen[key] = row.number
                value, flag, note = reading  # type: ignore[misc]
                records.append(
                    Record(indicator, code, period, dimensions, value, flag, note)  # type: ignore[arg-type]
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
    return _Reader(grid, spec, regions).read()
