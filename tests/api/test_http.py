"""HTTP around the resources: OPTIONS answers with Allow, and / leads to the docs."""

from __future__ import annotations

import pytest

from tests.api.test_errors import assert_problem

ROUTES = [
    "/api/v1/datasets",
    "/api/v1/datasets/demo",
    "/api/v1/datasets/demo/observations",
    "/api/v1/datasets/demo/observations.csv",
    "/api/v1/regions",
    "/api/v1/regions/6371",
    "/healthz",
    "/openapi.json",
    "/docs",
]


@pytest.mark.parametrize("url", ROUTES)
def test_options_is_204_with_allow(client, url):
    response = client.options(url)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    cors = response.headers.get("Access-Control-Allow-Origin")  # tests/api/test_cors.py
    assert cors == (None if url.startswith("/docs") else "*")  # reads, not the docs page


@pytest.mark.parametrize("url", ["/nope", "/api/v1/nope", "/api/v1/datasets/demo/nope"])
def test_options_on_an_unknown_path_is_a_404_problem(client, url):
    assert_problem(client.options(url), 404)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_root_is_the_web_catalog(client, method):
    response = client.open("/", method=method)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert client.get("/docs").status_code == 200  # the API's docs stay where they were


def test_the_root_answers_options_too(client):
    response = client.options("/")
    assert response.status_code == 204
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
