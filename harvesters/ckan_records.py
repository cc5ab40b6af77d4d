"""CKAN records as grids of cells for the table reader: pure, exact, and named as the portal does.

A DataStore table's pages, or a JSON file of records, become a :class:`RecordGrid`: row 0 the
field ids (in the order of ``fields``), then one row per record. A JSON number keeps its exact
text (:func:`harvesters.transport.load_exact`: ``164.43``, ``8002269316.91``), a string stays
text for the reader to read by the table's ``decimal``, ``null`` is an empty cell. A resource's
XLSX or CSV file is read by the spreadsheet reader instead (:func:`file_grid`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from harvesters.ckan_portal import action_result
from harvesters.exceptions import ParseError, UpstreamError
from harvesters.table import Cell, Grid, column_letter
from harvesters.transport import ExactNumber, load_exact
from opendata.model import Payload

if TYPE_CHECKING:
    from harvesters.ckan_query import CKANQuery


class RecordGrid(Grid):
    """Records as a grid: the field ids, then one row per record, in the records' order.

    Rows are counted as records are: the field ids are row 0, the n-th record row n (its
    ``_id`` too, unless rows were deleted: then a message gives both), so the reader's messages
    ("rows 1-83", "first in row 3") and the portal's preview agree.
    """

    def __init__(self, fields: Sequence[str], records: Sequence[Any], where: str):
        self.fields = list(fields)
        self.ids = [r.get("_id") if isinstance(r, Mapping) else None for r in records]
        rows = (_row(self.fields, record) for record in records)
        header = [Cell(fid) for fid in self.fields]
        super().__init__(_chain(header, rows), where, first_row=0)

    def row_name(self, row: int) -> str:
        if row == 0:
            return f"{self.where}, the field ids"
        ident = self.ids[row - 1] if row <= len(self.ids) else None
        same = ident is None or str(ident) == str(row)
        return f"{self.where}, record {row}{'' if same else f' (_id {ident})'}"

    def cell_name(self, row: int, column: int) -> str:
        name = self.fields[column] if column < len(self.fields) else column_letter(column)
        return f"{self.row_name(row)}, field {name!r}"


def _chain(first: list[Cell], rest: Any) -> Any:
    yield first
    yield from rest


def _row(fields: Sequence[str], record: Any) -> list[Cell]:
    if isinstance(record, Mapping):
        return [cell_of(record.get(fid)) for fid in fields]
    if isinstance(record, list):  # records_format: lists
        return [cell_of(value) for value in record]
    raise ParseError(f"a record is not an object: {record!r:.80}")


def cell_of(value: Any) -> Cell:
    """A record's value as a cell: a JSON number keeps its exact text, text stays text."""
    if isinstance(value, ExactNumber):  # a fractional JSON number (ExactNumber is a str)
        try:
            return Cell(Decimal(value))
        except InvalidOperation:
            return Cell(str(value))
    if isinstance(value, dict | list):  # a json field: its text (a label, never a number)
        return Cell(json.dumps(value, ensure_ascii=False))
    return Cell(value)


def _records_of(body: Any, where: str) -> tuple[list[str], list[Any]]:
    """Field ids and records of a JSON file: a list of objects, or ``{fields, records}``."""
    if isinstance(body, Mapping) and isinstance(body.get("result"), Mapping):
        body = body["result"]  # a saved datastore_search answer
    if isinstance(body, Mapping) and isinstance(body.get("records"), list):
        records = body["records"]
        fields = [str(f["id"]) for f in body.get("fields", []) if isinstance(f, Mapping)]
        if not fields:
            fields = _keys(records)
        return fields, records
    if isinstance(body, list) and all(isinstance(r, Mapping) for r in body):
        return _keys(body), body
    raise ParseError(
        f"{where} is JSON but not a table: a list of records (objects) or a CKAN DataStore "
        "answer ({fields, records}) is read"
    )


def _keys(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the records, in the order first met."""
    seen: dict[str, None] = {}
    for record in records:
        for key in record:
            seen.setdefault(str(key), None)
    return list(seen)


def json_grid(body: bytes, where: str) -> RecordGrid:
    """A JSON file of records as a grid."""
    try:
        document = load_exact(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"{where} is not readable JSON: {exc}") from None
    fields, records = _records_of(document, where)
    return RecordGrid(fields, records, where)


def looks_json(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def datastore_grid(pages: Sequence[Payload], where: str) -> tuple[RecordGrid, list[str], int]:
    """The DataStore pages' records as one grid, the run log's line, and the table's total."""
    fields: list[str] | None = None
    records: list[Any] = []
    total = 0
    for page in pages:
        result = action_result(page)
        page_fields, page_records, total = search_page(result, page)
        fields = page_fields if fields is None else fields
        records.extend(page_records)
    message = f"{where}: {len(records)} record(s) read from the DataStore in {len(pages)} page(s)"
    return RecordGrid(fields or [], records, where), [message], total


def search_page(result: Mapping[str, Any], payload: Payload) -> tuple[list[str], list[Any], int]:
    """A datastore_search result's field ids, records and total; raise if it has none of them."""
    fields, records, total = result.get("fields"), result.get("records"), result.get("total")
    if (
        not isinstance(fields, list)
        or not all(isinstance(f, Mapping) and "id" in f for f in fields)
        or not isinstance(records, list)
        or isinstance(total, bool)
        or not isinstance(total, int)
    ):
        raise UpstreamError(
            f"{payload.url} answered a datastore_search result without fields, records and a "
            "whole-number total"
        )
    return [str(f["id"]) for f in fields], records, total


def file_grid(payload: Payload, query: CKANQuery) -> tuple[Grid, list[str]]:
    """The resource's file as a grid: JSON records, or an XLSX or CSV file."""
    from harvesters import spreadsheet_files as files

    where = payload.params.get("url") or payload.url
    note = f"{where}: the resource has no active DataStore; its file was read"
    if looks_json(payload.body):
        return json_grid(payload.body, where), [note]
    if files.kind_of(payload.body, where) == "xlsx":
        grid, messages = files.xlsx_grid(payload.body, where, query.sheet)
    else:
        grid, messages = files.csv_grid(payload.body, where, query.delimiter, query.encoding)
    return grid, [note, *messages]
