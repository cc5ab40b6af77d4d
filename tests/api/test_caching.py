"""ETags follow the store's data version; each worker caches hot responses until it changes."""

from __future__ import annotations

import pytest

from opendata.model import Region
from opendata.store import queries
from tests.api.conftest import CELLS, harvest

URLS = [
    "/api/v1/datasets",
    "/api/v1/datasets/demo",
    "/api/v1/datasets/demo/observations?region=6371&limit=2",
    "/api/v1/datasets/demo/observations.csv?region=6371",
    "/api/v1/regions?level=province",
    "/api/v1/regions/63.71",
]


@pytest.mark.parametrize("url", URLS)
def test_if_none_match_with_the_etag_is_a_304(client, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "if_none_match",
    [
        "W/{etag}",  # a proxy that compresses (nginx gzip) weakens the tag
        '"other", {etag}, "more"',
        '"other", W/{etag}',
        'W/"other",W/{etag}',
        "*",
    ],
)
def test_if_none_match_compares_weakly(client, url, if_none_match):
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": if_none_match.format(etag=etag)})
    assert again.status_code == 304
    assert again.get_data() == b"" and again.headers["ETag"] == etag


@pytest.mark.parametrize("if_none_match", ['W/"other"', '"other", W/"more"', "W/*", '""'])
def test_if_none_match_with_other_tags_is_a_200(client, if_none_match):
    url = "/api/v1/datasets/demo/observations?limit=2"
    response = client.get(url, headers={"If-None-Match": if_none_match})
    assert response.status_code == 200 and response.get_json()["data"]


def test_each_url_has_its_own_etag(client):
    etags = {client.get(url).headers["ETag"] for url in URLS}
    assert len(etags) == len(URLS)


def test_a_harvest_that_changes_data_changes_the_etag(store, client):
    url = "/api/v1/datasets/demo/observations?region=6371&from=2024-08&dim.jenis_kelamin=1"
    first = client.get(url)
    assert first.get_json()["data"][0]["value"] == 4.02
    harvest(store, CELLS)  # nothing changes: same version, same ETag
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "4.05"})
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert changed.get_json()["data"][0]["value"] == 4.05


def test_a_harvest_that_changes_nothing_only_renews_the_datasets_last_harvest(store, client):
    observations = client.get("/api/v1/datasets/demo/observations")
    dataset = client.get("/api/v1/datasets/demo")
    harvest(store, CELLS)
    headers = {"If-None-Match": observations.headers["ETag"]}
    assert client.get("/api/v1/datasets/demo/observations", headers=headers).status_code == 304
    again = client.get("/api/v1/datasets/demo", headers={"If-None-Match": dataset.headers["ETag"]})
    assert again.status_code == 200
    assert again.get_json()["last_harvest"]["run_id"] > dataset.get_json()["last_harvest"]["run_id"]
    assert again.get_json()["last_harvest"]["unchanged"] == len(CELLS)


def test_hot_responses_come_from_the_cache_until_the_data_version_changes(
    store, client, app, monkeypatch
):
    calls = []
    list_datasets = queries.list_datasets

    def counting(conn, *args):
        calls.append(1)
        return list_datasets(conn, *args)

    monkeypatch.setattr(queries, "list_datasets", counting)
    bodies = [client.get("/api/v1/datasets").get_data() for _ in range(3)]
    assert len(calls) == 1 and bodies[0] == bodies[1] == bodies[2]
    assert len(app.extensions["opendata"].responses) == 1
    harvest(store, {**CELLS, ("6372", "2025", "1"): "1"})
    client.get("/api/v1/datasets")
    assert len(calls) == 2


def test_cached_pages_keep_their_headers(client):
    url = "/api/v1/datasets/demo/observations?limit=2"
    first, second = client.get(url), client.get(url)
    assert second.headers["Link"] == first.headers["Link"]
    assert second.headers["Content-Type"] == "application/json"
    assert second.get_data() == first.get_data()


def test_a_new_region_in_the_store_is_served_at_once(store, client):
    assert client.get("/api/v1/regions/6372020").status_code == 404
    district = Region("6372020", "Banjarbaru Utara", "district", "6372")
    harvest(store, {**CELLS, ("6372020", "2024", "3"): "7"}, regions=[district])
    assert client.get("/api/v1/regions/6372020").get_json()["parent_code"] == "6372"
    codes = client.get("/api/v1/datasets/demo/observations?region=6372020").get_json()["data"]
    assert [o["value"] for o in codes] == [7]


def test_without_a_cache_everything_still_works(store, make_app):
    app = make_app(CACHE_MB=0)
    client = app.test_client()
    first = client.get("/api/v1/datasets")
    assert client.get("/api/v1/datasets").get_data() == first.get_data()
    assert len(app.extensions["opendata"].responses) == 0
    headers = {"If-None-Match": first.headers["ETag"]}
    assert client.get("/api/v1/datasets", headers=headers).status_code == 304


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/datasets/demo/observations?from=x", 400),
        ("/api/v1/datasets/demo/observations.csv?region=9998", 400),
        ("/api/v1/datasets/nope", 404),
        ("/api/v1/regions/9998", 404),
    ],
)
def test_a_request_that_fails_is_never_not_modified(client, url, status):
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == status


def test_large_bodies_are_not_kept(store, make_app):
    app = make_app(CACHE_MB=600 * 8 / 1024 / 1024)  # bodies up to 600 bytes are kept
    client = app.test_client()
    responses = app.extensions["opendata"].responses
    small = client.get("/api/v1/datasets/demo/observations?limit=1")
    assert len(small.get_data()) < 600 and len(responses) == 1
    large = client.get("/api/v1/datasets/demo/observations?limit=5")
    assert len(large.get_data()) > 600 and len(responses) == 1
    headers = {"If-None-Match": large.headers["ETag"]}
    assert client.get(large.request.url, headers=headers).status_code == 304


def test_head_answers_like_get_without_a_body(client):
    get, head = client.get("/api/v1/datasets"), client.head("/api/v1/datasets")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == get.headers["ETag"]


def test_the_host_header_neither_splits_the_cache_nor_the_etag(app, client):
    url = "/api/v1/datasets/demo/observations?limit=2"
    tags = {
        client.get(url, headers={"Host": host}).headers["ETag"]
        for host in ("localhost", "evil.example", "x:1")
    }
    assert len(tags) == 1
    assert len(app.extensions["opendata"].responses) == 1
