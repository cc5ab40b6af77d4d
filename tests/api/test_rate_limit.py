"""Rate limits per client: a 429 problem with Retry-After; loopback and health never limited."""

from __future__ import annotations

import pytest
import redis

from opendata.exceptions import ConfigurationError

CLIENT = {"REMOTE_ADDR": "203.0.113.5"}
OTHER = {"REMOTE_ADDR": "198.51.100.7"}


def test_a_client_over_the_limit_gets_a_429_problem_saying_when_to_retry(make_app, store):
    client = make_app(RATE_LIMIT="2 per minute").test_client()
    for _ in range(2):
        ok = client.get("/api/v1/datasets", environ_base=CLIENT)
        assert ok.status_code == 200 and ok.headers["X-RateLimit-Limit"] == "2"
    over = client.get("/api/v1/datasets/demo/observations", environ_base=CLIENT)
    assert over.status_code == 429
    assert over.mimetype == "application/problem+json"
    assert (
        over.get_json()["status"] == 429 and "at most 2 per 1 minute" in over.get_json()["detail"]
    )
    assert 0 < int(over.headers["Retry-After"]) <= 60
    # another client, loopback clients and the health check are not counted against it
    assert client.get("/api/v1/datasets", environ_base=OTHER).status_code == 200
    assert client.get("/api/v1/datasets").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/healthz", environ_base=CLIENT).status_code == 200
    assert client.get("/readyz", environ_base=CLIENT).status_code == 200
    assert client.get("/metrics", environ_base=CLIENT).status_code in (200, 403)  # not 429


def test_no_limit_when_it_is_empty(make_app, store):
    client = make_app(RATE_LIMIT="").test_client()
    for _ in range(5):
        assert client.get("/api/v1/datasets", environ_base=CLIENT).status_code == 200


def test_the_counts_can_be_shared_through_redis(make_app, store):
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    first = make_app(RATE_LIMIT="3 per minute", RATE_LIMIT_STORAGE_URL=url).test_client()
    second = make_app(RATE_LIMIT="3 per minute", RATE_LIMIT_STORAGE_URL=url).test_client()
    codes = [
        c.get("/api/v1/datasets", environ_base=CLIENT).status_code for c in (first, second) * 2
    ]
    assert codes == [200, 200, 200, 429]  # two workers (two apps), one budget
    redis.Redis.from_url(url).flushdb()


@pytest.mark.parametrize(
    ("name", "value"), [("RATE_LIMIT", "lots"), ("RATE_LIMIT_STORAGE_URL", "mysql://x")]
)
def test_a_bad_limit_setting_stops_the_app(make_app, name, value):
    with pytest.raises(ConfigurationError, match=name):
        make_app(**{name: value})
