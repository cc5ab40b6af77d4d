"""The response cache shared through Redis (``OPENDATA_REDIS_URL``): two apps stand for two
nodes (or two workers) on one store and one Redis.

A page one node made is served by the other without running its view; a harvest on any machine
is seen by both on their next request; a restored store never revives an entry; Redis down is
no error. Needs Redis at 127.0.0.1:6379 (``.ci/run`` starts one); skipped without it, except
in CI.
"""

from __future__ import annotations

import logging

import pytest
import redis

from opendata.api.shared_cache import PREFIX, SharedResponses, decode, encode
from opendata.store import queries
from opendata.store.writer import bump_data_version
from tests.api.conftest import CELLS, harvest

PAGE = "/api/v1/datasets/demo/observations?region=6371"


@pytest.fixture
def shared(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def nodes(store, make_app, shared, redis_url):
    return [make_app(REDIS_URL=redis_url).test_client() for _ in range(2)]


def test_a_page_one_node_made_is_served_by_the_other(nodes, shared, monkeypatch):
    first = nodes[0].get(PAGE)
    assert first.status_code == 200
    assert shared.keys(f"{PREFIX}*")  # kept in Redis for everyone
    # the other node cannot read observations any more: only the shared cache can answer
    monkeypatch.setattr(queries, "page_of_observations", _refuse)
    second = nodes[1].get(PAGE)
    assert second.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]


def _refuse(*_args, **_kwargs):
    raise AssertionError("the view ran: the shared cache did not answer")


def test_a_harvest_anywhere_is_seen_by_every_node_on_its_next_request(nodes, store):
    before = [node.get(PAGE) for node in nodes]
    assert before[0].get_data() == before[1].get_data()
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "4.20"})  # another machine's harvest
    after = [node.get(PAGE) for node in nodes]
    for old, new in zip(before, after, strict=True):
        assert new.headers["ETag"] != old.headers["ETag"]
        assert b"4.20" in new.get_data() and b"4.20" not in old.get_data()
        stale = {"If-None-Match": old.headers["ETag"]}
        assert nodes[0].get(PAGE, headers=stale).status_code == 200
    assert after[0].headers["ETag"] == after[1].headers["ETag"]


def test_a_restored_store_never_revives_an_entry(nodes, store, shared, monkeypatch):
    """A restore takes the store back to a version it had; a harvest then reaches the version
    number the cached entries were made at, with other data: its new token keeps them apart."""
    cached = nodes[0].get(PAGE)
    with store.begin() as conn:
        number = queries.data_version(conn)
        back = f"UPDATE store_meta SET value = '{number - 1}' WHERE key = 'data_version'"
        conn.exec_driver_sql(back)
        bump_data_version(conn)  # the same number, a new token: what the restore's harvest does
        assert queries.data_version(conn) == number
    monkeypatch.setattr(queries, "page_of_observations", _refuse)
    with pytest.raises(AssertionError, match="the view ran"):
        nodes[1].get(PAGE)
    assert len(shared.keys(f"{PREFIX}*")) >= 1
    assert cached.status_code == 200


def test_redis_down_is_no_error(store, make_app, caplog):
    node = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="opendata.api.shared_cache"):
        first = node.get(PAGE)
        second = node.get(PAGE)  # from the worker's own cache, Redis not asked again
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    warnings = [r for r in caplog.records if "shared response cache" in r.getMessage()]
    assert len(warnings) == 1


def test_entries_round_trip_and_other_bytes_are_misses():
    value = (b'{"data":[]}', [("Content-Type", "application/json"), ("ETag", '"abc"')])
    assert decode(encode(value)) == value
    assert decode(b"not ours") is None
    assert decode(b"ODR1\x00\x00\x00\x05{bad}") is None


def test_redis_keys_differ_by_state_and_url():
    key = SharedResponses.redis_key
    assert key("3.aa", "/a") != key("3.bb", "/a") != key("3.aa", "/b")
    assert key("3.aa", "/a").startswith(PREFIX) and len(key("3.aa", "/" + "x" * 5000)) < 80
