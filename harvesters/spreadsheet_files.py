"""Spreadsheet files as grids of cells: CSV and XLSX, told apart by their bytes.

- **What a file is** comes from its first bytes, never its name: BPS and regional sites serve
  HTML pages (Excel's "Save as Web Page", a portal's error page) under ``.xls`` names. XLSX is a
  ZIP holding ``xl/workbook.xml``; legacy ``.xls`` (an OLE2 compound file) and ODS are refused
  with a message saying to save the file as XLSX or CSV; HTML and PDF are refused saying what
  they are; anything else is read as CSV text.
- **CSV**: UTF-8 with or without a byte order mark unless ``encoding`` says otherwise; the
  delimiter is ``,``, ``;`` or TAB, the one that splits the first lines into the same number of
  fields (said in the run log) unless ``delimiter`` says it. The encoding is checked in chunks,
  then rows are decoded as they are read: a large file is never held twice.
- **XLSX**: openpyxl in read-only mode, which streams rows (memory stays flat however long the
  sheet) but does not expose merged cells. A merge spreads its top-left cell over its range: we
  read the ``<mergeCell ref=...>`` elements of the sheet's XML ourselves, with a byte scan of the
  sheet part (they follow the rows), and fill merged cells as rows stream by. Formulas are read
  as their cached values. openpyxl is imported here only when a workbook is read: the web app
  never loads it.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

from harvesters.exceptions import ParseError
from harvesters.table import EMPTY, Cell, Grid, SheetGrid, column_index

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "TAB"}
SNIFF_LINES = 50
SNIFF_BYTES = 64 * 1024
CHUNK = 1 << 20
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
SAVE_AS = "open it in a spreadsheet program and save it as XLSX or CSV"


def kind_of(body: bytes, where: str) -> str:
    """``xlsx`` or ``csv``; raise ParseError saying what the file is when it is neither."""
    if body.startswith(_OLE2):
        raise ParseError(
            f"{where} is a legacy Excel 97-2003 workbook (.xls), which is not read: {SAVE_AS}"
        )
    if body.startswith(_ZIP):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
        except zipfile.BadZipFile as exc:
            raise ParseError(f"{where} is a damaged ZIP file ({exc}), not a workbook") from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            raise ParseError(f"{where} is an OpenDocument spreadsheet (.ods): {SAVE_AS}")
        raise ParseError(f"{where} is a ZIP archive but no XLSX workbook (no xl/workbook.xml)")
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%pdf"):
        raise ParseError(f"{where} is a PDF document, not a table: ask for the CSV or XLSX file")
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<table", b"<body")):
        frameset = b"frameset" in body[:20000].lower() or b"_files/sheet" in body.lower()
        what = (
            "an Excel workbook saved as a web page, whose data lives in other files it links"
            if frameset
            else "an HTML page (a web page or a portal's error page)"
        )
        raise ParseError(
            f"{where} is {what}, not a spreadsheet, although it may be named .xls: "
            f"download the data as XLSX or CSV"
        )
    return "csv"


# --- CSV --------------------------------------------------------------------------------------


def csv_grid(
    body: bytes, where: str, delimiter: str | None, encoding: str | None
) -> tuple[Grid, list[str]]:
    """A CSV file's grid (decoded as it is read), and what the run log should say of it."""
    encoding = _check_encoding(body, where, encoding)
    messages = []
    if delimiter is None:
        delimiter = sniff_delimiter(body[:SNIFF_BYTES].decode(encoding, "ignore"))
        messages.append(
            f"{where}: delimiter {DELIMITERS[delimiter]} ({delimiter!r}) detected; set "
            "spreadsheet.delimiter to override"
        )
    text = io.TextIOWrapper(io.BytesIO(body), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    return Grid(_csv_rows(reader, where), where, bare=True), messages  # rows of text


def _csv_rows(rows: Iterator[list[str]], where: str) -> Iterator[list[str]]:
    try:
        yield from rows
    except csv.Error as exc:
        raise ParseError(f"{where}: not a readable CSV file: {exc}") from None


def _check_encoding(body: bytes, where: str, encoding: str | None) -> str:
    """The codec to read the file with; fail naming the first byte it cannot decode.

    The file is decoded in chunks to check it, never whole: a large file is not held twice.
    """
    codec = encoding or "utf-8-sig"
    try:
        decoder = codecs.getincrementaldecoder(codec)()
    except LookupError:
        raise ParseError(f"{where}: no encoding {encoding!r}") from None
    for start in range(0, len(body), CHUNK):
        try:
            decoder.decode(body[start : start + CHUNK], final=start + CHUNK >= len(body))
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            if encoding is None:
                raise ParseError(
                    f"{where} is not UTF-8 (byte {body[offset]:#04x} at offset {offset}): "
                    "declare its encoding as spreadsheet.encoding (e.g. cp1252 or latin-1)"
                ) from None
            raise ParseError(
                f"{where} cannot be read as {encoding}: byte {body[offset]:#04x} at offset {offset}"
            ) from None
    # a byte order mark is no data in any UTF-8 file
    return "utf-8-sig" if codecs.lookup(codec).name == "utf-8" else codec


def sniff_delimiter(text: str) -> str:
    """The delimiter among ``,``, ``;`` and TAB that splits the first lines most evenly."""
    lines = [line for line in text.splitlines()[: SNIFF_LINES * 2] if line.strip()][:SNIFF_LINES]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        common = max(set(counts), key=lambda n: (counts.count(n), n))
        if common < 2:
            continue
        score = (counts.count(common) / len(counts), common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- XLSX -------------------------------------------------------------------------------------


def xlsx_grid(body: bytes, where: str, sheet: str | None) -> tuple[Grid, list[str]]:
    """An XLSX sheet's grid (streamed); the first sheet unless ``sheet`` names one."""
    import openpyxl  # only where harvesting happens: the web app never loads it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise ParseError(f"{where} is not a readable XLSX workbook: {exc}") from None
    names = workbook.sheetnames
    if sheet is None:
        title = names[0]
    elif sheet in names:
        title = sheet
    else:
        workbook.close()
        raise ParseError(
            f"{where} has no sheet {sheet!r}; its sheets: {', '.join(map(repr, names))}"
        )
    worksheet = workbook[title]
    merges = merged_ranges(body, title, where)
    rows = _sheet_rows(workbook, worksheet, merges)
    return SheetGrid(rows, f"{where}, sheet {title!r}"), []


def _sheet_rows(workbook: Any, worksheet: Any, merges) -> Iterator[list[Cell]]:
    pending = sorted(merges)  # (first row, first column, last row, last column), 0-based cols
    active: list[tuple[int, int, int, int, Cell]] = []
    expected = 1
    try:
        for first, row in _parsed_rows(workbook, worksheet):
            number = expected if first is None else first
            while expected < number:  # a cell's own row number may run ahead of its row's
                yield _merged(expected, [], pending, active)
                expected += 1
            yield _merged(number, row, pending, active)
            expected = number + 1
    finally:
        workbook.close()


def _parsed_rows(workbook: Any, worksheet: Any) -> Iterator[tuple[int | None, list[Cell]]]:
    """The rows of a read-only sheet as ``iter_rows()`` gives them, as lists of our Cells.

    For each row, the row number its first cell tells (None: no cell) and its cells. This is
    openpyxl's ``ReadOnlyWorksheet._cells_by_row`` (3.1) with no ``<dimension>`` to trust (a
    stale one would cut the rows short): its sheet parser's rows, a row missing from the XML
    given as an empty one, a row numbered below the rows before it skipped. It makes our
    :class:`Cell` of each cell's dict itself: a ``ReadOnlyCell`` per cell, and the lookup of
    its number format through the workbook's styles, cost as much as the rest of our reading
    of a sheet. (openpyxl is pinned below 3.2 in pyproject.toml; the XLSX tests read merged
    cells, dates, number formats and gaps through this.)
    """
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    formats: dict[int, str | None] = {}

    def number_format(style_id: int) -> str | None:
        if style_id not in formats:  # as the cell would say it, once per style
            formats[style_id] = ReadOnlyCell(worksheet, 0, 0, None, style_id=style_id).number_format
        return formats[style_id]

    counter = 1
    with worksheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            worksheet._shared_strings,
            data_only=workbook.data_only,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for index, cells in parser.parse():
            while counter < index:  # a row missing from the XML holds nothing
                counter += 1
                yield None, []
            if counter <= index:
                counter += 1
                yield _row_of(index, cells, number_format)


def _row_of(index: int, cells: list[dict[str, Any]], number_format) -> tuple[int | None, list]:
    """A parsed row's cells by column (up to its last cell's), and its first cell's row."""
    if not cells:
        return None, []
    width = cells[-1]["column"]
    row = [EMPTY] * width
    odd = False
    for cell in cells:
        column = cell["column"]
        if column <= width:  # openpyxl drops a cell after the row's last (out of order)
            value = cell["value"]
            if value is None:
                row[column - 1] = EMPTY
            elif value.__class__ is str:
                row[column - 1] = Cell(value)
            else:
                row[column - 1] = Cell(value, number_format(cell["style_id"]))
            odd = odd or cell["row"] != index
    if not odd:
        return index, row
    # a cell whose address names another row: the row is the one of its first cell, as the
    # ReadOnlyCell would tell (its last cell in a column wins, as it does in the row)
    rows = {cell["column"]: cell["row"] for cell in cells if cell["column"] <= width}
    return rows[min(rows)], row


def _merged(number: int, row: list[Cell], pending: list, active: list) -> list[Cell]:
    """Spread each merge's top-left cell over its range as rows stream by."""
    while pending and pending[0][0] == number:
        first_row, first_col, last_row, last_col = pending.pop(0)
        top = row[first_col] if first_col < len(row) else EMPTY
        active.append((first_row, first_col, last_row, last_col, top))
    if not active:
        return row
    for first_row, first_col, last_row, last_col, top in active:
        if first_row <= number <= last_row:
            if len(row) <= last_col:
                row.extend([EMPTY] * (last_col + 1 - len(row)))
            for col in range(first_col, last_col + 1):
                row[col] = top
    active[:] = [item for item in active if item[2] > number]
    return row


def merged_ranges(body: bytes, title: str, where: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a sheet: (first row, first column, last row, last column)."""
    archive = zipfile.ZipFile(io.BytesIO(body))
    part = _sheet_part(archive, title)
    if part is None:
        return []
    ranges = []
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            data = tail + chunk
            end = 0
            # most chunks hold no merge: a plain search first, the pattern only where it helps
            for match in _MERGE.finditer(data) if b"mergeCell" in data else ():
                first_col, first_row, last_col, last_row = match.groups()
                last_col, last_row = last_col or first_col, last_row or first_row
                ranges.append(
                    (
                        int(first_row),
                        column_index(first_col.decode()),
                        int(last_row),
                        column_index(last_col.decode()),
                    )
                )
                end = match.end()
            tail = data[max(end, len(data) - 512) :]  # an element cut by the chunk's end
    return sorted(set(ranges))


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str | None:
    """The ZIP path of the sheet called ``title`` (from the workbook and its relationships)."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_NS_PKG}Relationship")}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        if sheet.get("name") == title:
            target = targets.get(sheet.get(f"{_NS_REL}id"), "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    return None
