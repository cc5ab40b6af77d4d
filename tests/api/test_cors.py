"""CORS: a dashboard on another origin reads the API from the browser (flask-cors)."""

from __future__ import annotations

import pytest

from opendata.exceptions import ConfigurationError

EXPOSED = (
    "Content-Disposition, Content-Language, ETag, Link, Opendata-As-Of, Opendata-Warnings, "
    "Repr-Digest, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
    "X-Total-Count"
)
PAGE = {"Origin": "https://dashboard.example"}


@pytest.mark.parametrize(
    "path", ["/api/v1/datasets", "/api/v1/datasets/demo/observations", "/healthz", "/openapi.json"]
)
def test_every_read_may_be_read_from_any_origin_by_default(client, path):
    response = client.get(path, headers=PAGE)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Expose-Headers"] == EXPOSED
    assert "Vary" not in response.headers or "Origin" not in response.headers["Vary"]


def test_a_preflight_is_answered_for_a_conditional_get(client):
    response = client.options(
        "/api/v1/datasets/demo/observations",
        headers={
            **PAGE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"].lower() == "if-none-match"
    assert response.headers["Access-Control-Max-Age"] == "86400"


def test_a_problem_can_be_read_by_the_page_too(client):
    response = client.get("/api/v1/datasets/nope", headers=PAGE)
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_configured_origins_only(make_app, store):
    client = make_app(CORS_ORIGINS="https://a.example, https://b.example").test_client()
    for origin in ("https://a.example", "https://b.example"):
        response = client.get("/api/v1/datasets", headers={"Origin": origin})
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert "Origin" in response.headers["Vary"]
    other = client.get("/api/v1/datasets", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    none = make_app(CORS_ORIGINS="").test_client().get("/api/v1/datasets", headers=PAGE)
    assert "Access-Control-Allow-Origin" not in none.headers


def test_a_cached_answer_gets_the_headers_of_its_own_request(make_app, store):
    client = make_app(CORS_ORIGINS="https://a.example,https://b.example").test_client()
    first = client.get(
        "/api/v1/datasets/demo/observations", headers={"Origin": "https://a.example"}
    )
    second = client.get(
        "/api/v1/datasets/demo/observations", headers={"Origin": "https://b.example"}
    )
    assert first.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert second.headers["Access-Control-Allow-Origin"] == "https://b.example"


@pytest.mark.parametrize("value", ["https://a.example/path", "ftp://a.example", "dashboard"])
def test_an_origin_that_is_no_origin_stops_the_app(make_app, value):
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS"):
        make_app(CORS_ORIGINS=value)
