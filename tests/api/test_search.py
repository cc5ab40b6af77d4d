"""GET /api/v1/search over the bundled demo catalog: the answer, its pages, its cache, its 400s."""

from __future__ import annotations

import pytest

from opendata import create_app
from tests.store.test_search import POVERTY, harvest_demo


@pytest.fixture
def empty_client(store_url):
    """A client of a store nothing was harvested into (a bad question needs no data)."""
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": "", "TESTING": True})
    yield app.test_client()
    app.extensions["opendata"].engine.dispose()


@pytest.fixture
def client(store_url, empty_client):
    harvest_demo(store_url)
    return empty_client


def _get(client, query: str, status: int = 200) -> dict:
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_the_answer_names_each_dataset_found_with_its_links_and_facets(client):
    answer = _get(client, "q=kemiskinan")
    assert answer["query"] == "kemiskinan"
    assert answer["corrected"] is None
    assert answer["total"] == len(answer["data"]) == 5
    assert answer["next"] is None
    assert {hit["id"] for hit in answer["data"][:4]} == POVERTY
    first = answer["data"][0]
    assert first == {
        "id": "garis-kemiskinan-kabkota",
        "title": "Garis kemiskinan menurut kabupaten/kota",
        "description": first["description"],
        "source": {"id": "bps", "title": first["source"]["title"]},
        "tags": ["kemiskinan", "susenas"],
        "frequency": "annual",
        "levels": ["province", "regency"],
        "score": 8.2,
        "matched": ["Garis Kemiskinan Menurut Kabupaten/Kota"],
        "links": {
            "self": "/api/v1/datasets/garis-kemiskinan-kabkota",
            "observations": "/api/v1/datasets/garis-kemiskinan-kabkota/observations",
        },
    }
    assert first["description"].startswith("Garis kemiskinan")
    assert answer["facets"]["source"] == [
        {"value": "spreadsheet", "count": 3},
        {"value": "bps", "count": 2},
    ]
    assert set(answer["facets"]) == {"source", "tag", "level", "frequency"}
    assert client.get(first["links"]["self"]).status_code == 200


def test_accept_language_picks_english_and_says_so(client):
    response = client.get("/api/v1/search?q=ipm", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert (
        response.get_json()["data"][0]["title"] == "Human Development Index (HDI) by regency/city"
    )
    assert response.headers["Content-Language"] == "en"
    assert "Accept-Language" in response.headers["Vary"]


def test_english_titles_with_lang_en_and_a_typo_corrected(client):
    answer = _get(client, "q=kemiskinnan&lang=en")
    assert answer["corrected"] == "kemiskinan"
    assert answer["data"][0]["title"] == "Poverty line by regency/city"
    assert [h["id"] for h in answer["data"]] == [
        h["id"] for h in _get(client, "q=kemiskinan")["data"]
    ]
    assert (
        _get(client, "q=POVERTY")["data"][0]["title"] == "Garis kemiskinan menurut kabupaten/kota"
    )


def test_filters_narrow_and_repeat_like_lists(client):
    answer = _get(client, "q=kemiskinan&source=bps&level=regency")
    assert [hit["id"] for hit in answer["data"]] == ["garis-kemiskinan-kabkota"]
    assert answer["total"] == 1
    both = _get(client, "q=kemiskinan&tag=susenas&tag=target")
    assert both == _get(client, "q=kemiskinan&tag=susenas,target")
    assert both["total"] == 4


def test_pages_follow_next_links_and_keep_the_filters(client):
    whole = _get(client, "q=kalimantan&limit=100")
    seen, query = [], "q=kalimantan&limit=4"
    response = client.get(f"/api/v1/search?{query}")
    while True:
        page = response.get_json()
        seen += [hit["id"] for hit in page["data"]]
        if page["next"] is None:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"] == f'<{page["next"]}>; rel="next"'
        response = client.get(page["next"])
    assert seen == [hit["id"] for hit in whole["data"]]
    assert len(seen) == whole["total"] > 4


def test_an_etag_and_304_as_every_read(client):
    response = client.get("/api/v1/search?q=ipm")
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get("/api/v1/search?q=ipm", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("query", "param", "says"),
    [
        ("", "q", "missing; give words to search for"),
        ("q=", "q", "empty; give words to search for"),
        ("q=%20%20", "q", "empty; give words to search for"),
        ("q=!!!", "q", "no letter or digit"),
        ("q=" + "a" * 201, "q", "give at most 200"),
        ("q=a&q=b", "q", "given 2 times"),
        ("q=ipm&level=kota", "level", "give one or more of: country, province, regency"),
        ("q=ipm&source=", "source", "empty"),
        ("q=ipm&lang=fr", "lang", "use id (Indonesian) or en (English)"),
        ("q=ipm&limit=0", "limit", ""),
        ("q=ipm&limit=101", "limit", "at most 100"),
        ("q=ipm&cursor=xyz", "cursor", "not a cursor of this API"),
        ("q=ipm&page=2", "page", ""),
    ],
)
def test_bad_questions_are_400_problems_naming_the_parameter(empty_client, query, param, says):
    response = empty_client.get(f"/api/v1/search?{query}")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert says in " ".join(response.get_json()["errors"][param])


def test_an_empty_store_finds_nothing(empty_client):
    answer = _get(empty_client, "q=kemiskinan")
    assert (answer["total"], answer["data"], answer["corrected"]) == (0, [], None)
    assert answer["facets"] == {"source": [], "tag": [], "level": [], "frequency": []}


def test_a_cursor_belongs_to_its_question(client):
    cursor = _get(client, "q=kalimantan&limit=2")["next"].rpartition("cursor=")[2]
    answer = _get(client, f"q=kemiskinan&limit=2&cursor={cursor}", 400)
    assert "belongs to other filters" in answer["detail"]
    assert _get(client, f"q=Kalimantan!&limit=2&cursor={cursor}")["data"]  # the same words
