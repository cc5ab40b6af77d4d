"""Parsing CKAN payloads is pure: bodies in, a grid of field ids and records, records out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from harvesters.ckan import CKANHarvester
from harvesters.ckan_records import RecordGrid, json_grid
from harvesters.exceptions import ParseError
from harvesters.table import Cell
from opendata.model import Payload
from tests.harvesters.ckan_server import SETTINGS, ckan_spec, json_body

RID = "0c1e5d8a-4b7e-4f0e-9d1a-2b6c3f4e5a6b"
PORTAL = "https://satudata.example.go.id"
TABLE = {
    "region": {"column": "kode_wilayah", "by": "code"},
    "periods": "across",
    "indicator": {"code": "ipm", "name": "Indeks Pembangunan Manusia"},
}
FIELDS = [
    {"id": "_id", "type": "int"},
    {"id": "kode_wilayah", "type": "text"},
    {"id": "2022", "type": "numeric", "info": {"label": "", "notes": "", "type_override": ""}},
    {"id": "2023", "type": "text"},
]


def payload(body, **params) -> Payload:
    raw = body if isinstance(body, bytes) else json_body(body)
    return Payload(
        url=f"{PORTAL}/api/3/action/x",
        body=raw,
        status=200,
        content_type="application/json",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        params=params,
    )


def shown(**resource) -> Payload:
    result = {"id": RID, "package_id": "ipm-kabkota", "datastore_active": True, **resource}
    return payload({"success": True, "result": result}, action="resource_show", id=RID)


def page(records, total, offset=0, fields=FIELDS) -> Payload:
    result = {"fields": fields, "records": records, "total": total, "limit": 2}
    body = {"success": True, "result": result}
    return payload(body, action="datastore_search", resource_id=RID, offset=str(offset))


RECORDS = [
    # keys in another order than the fields: the grid follows the fields
    {"2023": "70.10", "_id": 1, "2022": Decimal("69.80"), "kode_wilayah": "6303"},
    {"_id": 2, "kode_wilayah": "6371", "2022": 80, "2023": "80.53"},
    {"_id": 3, "kode_wilayah": "6372", "2022": Decimal("81.2"), "2023": None},
]


def parse(payloads, table=TABLE, regions=None):
    spec = ckan_spec(Path("/catalog"), PORTAL, RID, table)
    return CKANHarvester(SETTINGS).parse(spec, payloads, regions)


def test_the_grid_is_the_field_ids_then_the_records_in_the_fields_order():
    grid = RecordGrid([f["id"] for f in FIELDS], RECORDS, "here")
    rows = list(grid.rows)
    assert rows[0] == [Cell("_id"), Cell("kode_wilayah"), Cell("2022"), Cell("2023")]
    assert rows[1] == [Cell(1), Cell("6303"), Cell(Decimal("69.80")), Cell("70.10")]
    assert rows[3] == [Cell(3), Cell("6372"), Cell(Decimal("81.2")), Cell(None)]


def test_pages_are_read_in_order_as_one_table(regions):
    result = parse([shown(), page(RECORDS[:2], 3), page(RECORDS[2:], 3, offset=2)], regions=regions)
    assert [(r.region, r.period, r.value) for r in result.records] == [
        ("6303", "2022", Decimal("69.80")),
        ("6303", "2023", Decimal("70.10")),
        ("6371", "2022", Decimal("80")),
        ("6371", "2023", Decimal("80.53")),
        ("6372", "2022", Decimal("81.2")),  # a null cell is no observation
    ]
    assert (
        f"{PORTAL}/dataset/ipm-kabkota/resource/{RID}: 3 record(s) read from the DataStore "
        in (result.messages[0])
    )
    assert "in 2 page(s)" in result.messages[0]


def test_parsing_is_stable(regions):
    payloads = [shown(), page(RECORDS, 3)]
    assert parse(payloads, regions=regions).records == parse(payloads, regions=regions).records


def test_the_indicator_cites_the_resource_page_and_its_last_change(regions):
    result = parse(
        [shown(last_modified="2024-03-05T08:09:10.123456"), page(RECORDS, 3)], regions=regions
    )
    (indicator,) = result.indicators
    assert indicator.source_ref == f"{PORTAL}/dataset/ipm-kabkota/resource/{RID}"
    assert indicator.source_last_update == datetime(2024, 3, 5, 8, 9, 10, 123456)


def test_a_bad_cell_is_named_by_its_records_id_and_field(regions):
    records = [
        {"_id": 1, "kode_wilayah": "6303", "2022": 1, "2023": "1"},
        {"_id": 7, "kode_wilayah": "6371", "2022": 1, "2023": "1.234"},  # rows were deleted
    ]
    with pytest.raises(ParseError) as caught:
        parse([shown(), page(records, 2)], regions=regions)
    assert str(caught.value).startswith(
        f"{PORTAL}/dataset/ipm-kabkota/resource/{RID}, record 2 (_id 7), field '2023': '1.234' "
        "is ambiguous"
    )


def test_rows_are_counted_as_records(regions):
    records = [dict(RECORDS[0]), {**RECORDS[1], "kode_wilayah": "6303"}]
    with pytest.raises(
        ParseError,
        match=r"record 2 gives region 6303, period 2022 again "
        r"\(first in row 1\)",
    ):
        parse([shown(), page(records, 2)], regions=regions)


def test_text_fields_follow_the_declared_decimal_mark(regions):
    records = [{"_id": 1, "kode_wilayah": "6303", "2022": 1, "2023": "1.234,56"}]
    result = parse([shown(), page(records, 1)], table={**TABLE, "decimal": ","}, regions=regions)
    assert result.records[1].value == Decimal("1234.56")


def test_a_column_the_table_names_that_the_resource_lacks_is_named(regions):
    table = {**TABLE, "region": {"column": "Kode Wilayah BPS", "by": "code"}}
    with pytest.raises(ParseError, match=r"no column is named 'Kode Wilayah BPS'.*'kode_wilayah'"):
        parse([shown(), page(RECORDS, 3)], table=table, regions=regions)


def test_without_a_page_or_a_file_parse_says_so(regions):
    with pytest.raises(ParseError, match="no DataStore page and no file"):
        parse([shown()], regions=regions)


def test_a_datastore_dump_in_lists_is_read_by_its_fields():
    body = {
        "fields": [{"id": "_id"}, {"id": "b"}, {"id": "a"}],
        "records": [[1, "x", Decimal("0.50")]],
    }
    rows = list(json_grid(json_body(body), "dump.json").rows)
    assert rows == [
        [Cell("_id"), Cell("b"), Cell("a")],
        [Cell(1), Cell("x"), Cell(Decimal("0.50"))],
    ]


def test_a_saved_datastore_search_answer_is_read_as_a_file():
    body = {"success": True, "result": {"fields": FIELDS, "records": RECORDS[:1]}}
    rows = list(json_grid(json_body(body), "saved.json").rows)
    assert rows[1] == [Cell(1), Cell("6303"), Cell(Decimal("69.80")), Cell("70.10")]


def test_records_missing_keys_read_as_empty_cells_and_keys_in_the_order_met():
    rows = list(json_grid(b'[{"a": 1}, {"b": "x", "a": 2}]', "f.json").rows)
    assert rows == [[Cell("a"), Cell("b")], [Cell(1), Cell(None)], [Cell(2), Cell("x")]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1, 2]", r"f\.json is JSON but not a table"),
        (b'{"a": 1}', r"f\.json is JSON but not a table"),
        (b"[{", r"f\.json is not readable JSON"),
    ],
)
def test_json_that_is_no_table_is_refused(body, message):
    with pytest.raises(ParseError, match=message):
        json_grid(body, "f.json")
