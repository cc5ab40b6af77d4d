"""The wide CSV (``layout=wide``): a row per series, a column per period, every value once."""

from __future__ import annotations

import csv
import io

import pytest

from opendata.formats.csv import PLAIN
from opendata.formats.wide import ChangedWhileStreaming, write_wide
from tests.api.conftest import CELLS, harvest_bundled
from tests.store import test_history as history

URL = "/api/v1/datasets/demo/observations.csv"
#: every period of the demo store in time order: by start, then the shorter first
PERIODS = ["2023", "2024-01", "2024-Q1", "2024", "2024-Q3", "2024-S2", "2024-08"]


def read(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def long_rows(client, query: str = "") -> list[dict[str, str]]:
    text = client.get(f"{URL}?{query}").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text)))


def cells_of(table: list[list[str]]) -> dict[tuple[str, str, str], str]:
    """(region, period, sex code) -> value of every non-empty cell of a wide table; fails on a
    cell seen twice."""
    head, *rows = table
    periods = head[5:]
    cells: dict[tuple[str, str, str], str] = {}
    for row in rows:
        for period, value in zip(periods, row[5:], strict=True):
            if value:
                key = (row[0], period, row[2])
                assert key not in cells
                cells[key] = value
    return cells


def test_a_wide_table_has_a_row_per_series_and_a_column_per_period_in_time_order(client):
    response = client.get(f"{URL}?layout=wide")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="demo_wide.csv"'
    head, *rows = read(response)
    assert head[:5] == ["region_code", "region_name", "jenis_kelamin_code", "jenis_kelamin", "unit"]
    assert head[5:] == PERIODS
    series = [(row[0], row[2]) for row in rows]
    assert series == sorted(set(series))  # one row per series, in the stable order
    assert response.headers["X-Total-Count"] == str(len(rows))  # its data rows: series
    assert series == [
        ("6300", "3"),
        ("6371", "1"),
        ("6371", "2"),
        ("6371010", "3"),
        ("6372", "2"),
        ("6372", "3"),
    ]
    by_series = {(row[0], row[2]): row for row in rows}
    assert by_series["6371", "2"][:4] == ["6371", "Kota Banjarmasin", "2", "Perempuan"]
    assert all(len(row) == len(head) for row in rows)


def test_every_long_value_is_in_the_wide_table_once_exactly_as_stored(client):
    wide = cells_of(read(client.get(f"{URL}?layout=wide")))
    long = {
        (r["region_code"], r["period"], r["jenis_kelamin_code"]): r["value"]
        for r in long_rows(client)
        if r["value"]
    }
    assert wide == long
    assert wide == {key: value for key, value in CELLS.items() if value}
    assert wide["6371", "2024-08", "2"] == "7.10"
    assert wide["6372", "2024-Q1", "2"] == "0.000000000000000000012345678901234567"


@pytest.mark.parametrize(
    "query",
    [
        "region=6371",
        "from=2024-Q1&to=2024",
        "dim.jenis_kelamin=2,3",
        "region=63.72&dim.jenis_kelamin=2",
        "region=6371&from=2025",
        "latest=1",
        "within=6300&level=regency",
    ],
)
def test_the_wide_table_has_the_filters_of_the_long_one(client, query):
    response = client.get(f"{URL}?layout=wide&{query}")
    table = read(response)
    assert response.headers["X-Total-Count"] == str(len(table) - 1)
    long = long_rows(client, query)
    wanted = {
        (r["region_code"], r["period"], r["jenis_kelamin_code"]): r["value"]
        for r in long
        if r["value"]
    }
    assert cells_of(table) == wanted
    # only the periods (and series) that the filtered rows have
    periods = [p for p in PERIODS if any(r["period"] == p for r in long)]
    assert table[0][5:] == periods
    assert {(row[0], row[2]) for row in table[1:]} == {
        (r["region_code"], r["jenis_kelamin_code"]) for r in long
    }


def test_an_empty_answer_is_a_header_alone(client):
    assert read(client.get(f"{URL}?layout=wide&from=2030")) == [
        ["region_code", "region_name", "jenis_kelamin_code", "jenis_kelamin", "unit"]
    ]


def test_a_missing_value_is_an_empty_cell(client):
    head, *rows = read(client.get(f"{URL}?layout=wide&region=6371&dim.jenis_kelamin=1"))
    (row,) = rows
    assert dict(zip(head, row, strict=True))["2024"] == ""  # stored without a value (flag M)


def test_as_of_serves_the_wide_table_of_then(engine, make_app):
    client = make_app().test_client()
    history.harvest(engine, {history.CELL: "4.02", history.OTHER: "1"}, history.DAY[1])
    history.harvest(engine, {history.OTHER: "1", ("6372", "2025", "1"): "9"}, history.DAY[2])
    day1 = history.DAY[1].isoformat().replace("+00:00", "Z")
    head, *rows = read(client.get(f"{URL}?layout=wide&as_of={day1}"))
    assert head[5:] == ["2024"]
    assert [(row[0], row[2], row[5]) for row in rows] == [("6371", "1", "4.02"), ("6371", "2", "1")]
    head, *rows = read(client.get(f"{URL}?layout=wide"))
    assert head[5:] == ["2024", "2025"]
    assert [(row[0], row[2], *row[5:]) for row in rows] == [
        ("6371", "2", "1", ""),
        ("6372", "1", "", "9"),
    ]


def test_updated_after_is_a_400_naming_the_long_layout(client):
    response = client.get(f"{URL}?layout=wide&updated_after=2020-01-01T00:00:00Z")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert "layout=long" in response.get_json()["detail"]


@pytest.mark.parametrize("value", ["", "Wide", "tall"])
def test_an_unknown_layout_is_a_400(client, value):
    response = client.get(f"{URL}?layout={value}")
    assert response.status_code == 400
    assert "layout" in response.get_data(as_text=True)


def test_a_range_is_one_cell_and_a_period_the_header_lacks_breaks_the_stream():
    rows = [
        ("6300", "Kalsel", "2025", 1, None, None, "6.0", "%", None, None, "6.9"),
        ("6300", "Kalsel", "2026", 1, None, None, "-0.5", "%", None, None, "0.5"),
        ("6300", "Kalsel", "2027", 1, None, None, "7", "%", None, None, None),
    ]
    text = "".join(write_wide([], rows, {}, ["2025", "2026", "2027"], PLAIN))
    assert text.splitlines()[1] == "6300,Kalsel,%,6.0-6.9,'-0.5-0.5,7"
    with pytest.raises(ChangedWhileStreaming):
        "".join(write_wide([], rows, {}, ["2025", "2026"], PLAIN))


DEMO = (
    "pengaduan-sp4n-lapor",  # two breakdowns, flags
    "kinerja-makro-kalsel-2014",  # flags and notes
    "target-tpt-kalsel",  # ranges (value_to)
)


@pytest.fixture
def demo_client(store_url, make_app):
    harvest_bundled(store_url, DEMO)
    return make_app().test_client()


@pytest.mark.parametrize("dataset_id", DEMO)
def test_every_long_row_of_the_demo_catalog_is_one_wide_cell(demo_client, dataset_id):
    url = f"/api/v1/datasets/{dataset_id}/observations.csv"
    long = list(csv.DictReader(io.StringIO(demo_client.get(url).get_data(as_text=True))))
    head, *rows = read(demo_client.get(f"{url}?layout=wide"))
    dims = [name.removesuffix("_code") for name in head if name.endswith("_code")][1:]
    fixed = 3 + 2 * len(dims)
    assert head[:fixed] == [
        "region_code",
        "region_name",
        *[c for d in dims for c in (f"{d}_code", d)],
        "unit",
    ]
    periods = head[fixed:]
    assert periods == list(dict.fromkeys(r["period"] for r in sorted(long, key=_start)))
    wide = {}
    for row in rows:
        for period, cell in zip(periods, row[fixed:], strict=True):
            if cell:
                key = (row[0], *row[2 : fixed - 1 : 2], period)
                assert key not in wide
                wide[key] = cell
    expected = {}
    for r in long:
        if r["value"]:
            cell = f"{r['value']}-{r['value_to']}" if r.get("value_to") else r["value"]
            expected[r["region_code"], *(r[f"{d}_code"] for d in dims), r["period"]] = cell
    assert wide == expected
    assert len({(row[0], *row[2 : fixed - 1 : 2]) for row in rows}) == len(rows)


def _start(row: dict) -> tuple:
    """A long row's period as (start, length): the wide table's column order."""
    period = row["period"]
    year = int(period[:4])
    if len(period) == 4:
        return (year, 1, 12)
    part = period[5:]
    if part.startswith("Q"):
        return (year, 3 * int(part[1]) - 2, 3)
    if part.startswith("S"):
        return (year, 6 * int(part[1]) - 5, 6)
    return (year, int(part), 1)
