"""``count=true`` (``total`` and ``X-Total-Count``) on pages; ``X-Total-Count`` on downloads."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.api.conftest import CELLS

URL = "/api/v1/datasets/demo/observations"


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("", len(CELLS)),
        ("region=6371", 6),
        ("within=6300&level=regency", 9),
        ("latest=1", 10),
        ("from=2030", 0),
        ("dim.jenis_kelamin=3&region=6300", 2),
    ],
)
def test_count_true_gives_the_total_of_every_page(client, query, total):
    response = client.get(f"{URL}?{query}&count=true&limit=2")
    page = response.get_json()
    assert page["total"] == total
    assert response.headers["X-Total-Count"] == str(total)
    assert list(page) == ["data", "next", "warnings", "total"]
    if page["next"]:  # the next pages repeat it (the total of the query, not of what is left)
        following = client.get(page["next"])
        assert following.get_json()["total"] == total
        assert following.headers["X-Total-Count"] == str(total)


def test_without_count_there_is_no_total(client):
    for query in ("", "?count=false"):
        response = client.get(f"{URL}{query}")
        assert "total" not in response.get_json()
        assert "X-Total-Count" not in response.headers


def test_count_works_with_as_of(client):
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    page = client.get(URL, query_string={"count": "true", "as_of": now, "limit": 1}).get_json()
    assert page["total"] == len(CELLS)
    assert "as_of" in page


@pytest.mark.parametrize("value", ["", "1", "yes", "True"])
def test_count_takes_true_or_false_only(client, value):
    response = client.get(f"{URL}?count={value}")
    assert response.status_code == 400
    assert "count" in response.get_json()["errors"]


@pytest.mark.parametrize("query", ["", "region=6371", "latest=1&within=63"])
def test_downloads_always_carry_their_row_count(client, query):
    response = client.get(f"{URL}.csv?{query}")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.headers["X-Total-Count"] == str(len(rows))
    response = client.get(f"{URL}.xlsx?{query}")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)["data"]
    assert response.headers["X-Total-Count"] == str(sheet.max_row - 1)
    response = client.get(f"{URL}.jsonstat?{query}")
    assert response.headers["X-Total-Count"] == str(len(response.get_json()["value"]))


def test_the_total_header_is_exposed_to_browsers(client):
    response = client.get(f"{URL}?count=true", headers={"Origin": "https://example.org"})
    exposed = response.headers.get("Access-Control-Expose-Headers", "")
    assert "X-Total-Count" in exposed
