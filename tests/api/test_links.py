"""Links never echo the Host header: relative, or built from OPENDATA_PUBLIC_URL.

``X-Forwarded-*`` headers count only behind a configured proxy (``OPENDATA_PROXY_COUNT``).
"""

from __future__ import annotations

import pytest

from opendata.config import load_settings
from opendata.exceptions import ConfigurationError

OBS = "/api/v1/datasets/demo/observations"
FORGED = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "gopher",
    "X-Forwarded-Prefix": "/evil",
    "Forwarded": "host=evil.example;proto=gopher",
}
#: every response that carries links, and some that could
URLS = ["/api/v1/datasets", "/api/v1/datasets/demo", f"{OBS}?limit=1", f"{OBS}?limit=1&region=6371"]


def links_of(client, **headers):
    """The dataset's links, and the next link of a page (body and Link header)."""
    detail = client.get("/api/v1/datasets/demo", headers=headers).get_json()
    [listed] = client.get("/api/v1/datasets", headers=headers).get_json()["data"]
    assert listed["links"] == detail["links"]
    page = client.get(f"{OBS}?limit=2", headers=headers)
    assert page.headers["Link"] == f'<{page.get_json()["next"]}>; rel="next"'
    return detail["links"], page.get_json()["next"]


@pytest.mark.parametrize("config", [{}, {"PUBLIC_URL": "https://data.example.org"}])
@pytest.mark.parametrize("url", [*URLS, "/", "/docs", "/openapi.json", "/nope"])
def test_a_forged_host_never_comes_back(store, make_app, config, url):
    client = make_app(**config).test_client()
    response = client.get(url, headers=FORGED)
    assert response.status_code < 500
    assert "evil" not in response.get_data(as_text=True)
    assert not [value for _name, value in response.headers if "evil" in value]
    assert "gopher" not in response.get_data(as_text=True)


def test_without_a_public_url_links_are_relative(client):
    links, next_url = links_of(client)
    assert links == {
        "self": "/api/v1/datasets/demo",
        "observations": "/api/v1/datasets/demo/observations",
        "csv": "/api/v1/datasets/demo/observations.csv",
    }
    assert next_url.startswith(f"{OBS}?limit=2&cursor=")
    assert client.get(next_url).status_code == 200


def test_no_host_header_gives_relative_links_too(client):
    # werkzeug's test client always sends a Host; a raw WSGI environ without one is what
    # gunicorn hands over for an HTTP/1.0 request without Host.
    response = client.get(f"{OBS}?limit=1", environ_base={"HTTP_HOST": ""})
    assert response.get_json()["next"].startswith(f"{OBS}?limit=1&cursor=")
    assert "0.0.0.0" not in response.headers["Link"]


@pytest.mark.parametrize("public", ["https://data.example.org", "https://data.example.org/stats/"])
def test_a_public_url_makes_every_link_absolute(store, make_app, public):
    client = make_app(PUBLIC_URL=load_settings({"OPENDATA_PUBLIC_URL": public}).PUBLIC_URL)
    client = client.test_client()
    base = public.rstrip("/")
    links, next_url = links_of(client, **FORGED)
    assert links["self"] == f"{base}/api/v1/datasets/demo"
    assert links["csv"] == f"{base}/api/v1/datasets/demo/observations.csv"
    assert next_url.startswith(f"{base}{OBS}?limit=2&cursor=")


def test_a_configured_proxy_may_set_the_prefix(store, make_app):
    client = make_app(PROXY_COUNT=1).test_client()
    links, next_url = links_of(client, **{"X-Forwarded-Prefix": "/stats"})
    assert links["self"] == "/stats/api/v1/datasets/demo"
    assert next_url.startswith(f"/stats{OBS}?limit=2&cursor=")


def test_without_a_configured_proxy_forwarded_headers_are_ignored(client):
    links, next_url = links_of(client, **{"X-Forwarded-Prefix": "/stats"})
    assert links["self"] == "/api/v1/datasets/demo"
    assert next_url.startswith(f"{OBS}?")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENDATA_PUBLIC_URL", "data.example.org"),
        ("OPENDATA_PUBLIC_URL", "ftp://data.example.org"),
        ("OPENDATA_PUBLIC_URL", "https://data.example.org/?x=1"),
        ("OPENDATA_PUBLIC_URL", "https://data.example.org/#top"),
        ("OPENDATA_PROXY_COUNT", "-1"),
        ("OPENDATA_PROXY_COUNT", "one"),
    ],
)
def test_a_bad_public_url_or_proxy_count_is_refused(name, value):
    with pytest.raises(ConfigurationError, match=name):
        load_settings({name: value})


@pytest.mark.parametrize(
    "prefix", ["//evil.example", "/stats//evil", "https://evil.example", "/a b"]
)
def test_a_forwarded_prefix_that_is_no_plain_path_is_ignored(store, make_app, prefix):
    client = make_app(PROXY_COUNT=1).test_client()
    headers = {"X-Forwarded-Prefix": prefix}
    page = client.get("/api/v1/datasets/demo/observations?limit=1", headers=headers)
    assert page.get_json()["next"].startswith("/api/v1/datasets/demo/observations?")
    assert page.headers["Link"].startswith("</api/v1/")
    dataset = client.get("/api/v1/datasets/demo", headers=headers).get_json()
    assert dataset["links"]["self"] == "/api/v1/datasets/demo"
    assert 'href="/datasets/demo"' in client.get("/", headers=headers).get_data(as_text=True)
