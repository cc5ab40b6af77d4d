"""The OpenAPI 3.1 spec and the interactive docs, served with no network at all."""

from __future__ import annotations

import re

import pytest

from opendata import create_app


@pytest.fixture
def client(tmp_path, catalog_dir):
    """No store is needed to serve the spec and the docs."""
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "CATALOG_DIR": catalog_dir}
    )
    yield app.test_client()
    app.extensions["opendata"].engine.dispose()


def test_the_spec_is_openapi_3_1(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {
        "/api/v1/datasets",
        "/api/v1/datasets/{dataset_id}",
        "/api/v1/datasets/{dataset_id}/observations",
        "/api/v1/datasets/{dataset_id}/observations.csv",
        "/api/v1/datasets/{dataset_id}/observations.xlsx",
        "/api/v1/datasets/{dataset_id}/observations.jsonstat",
        "/api/v1/datasets/{dataset_id}/datapackage.json",
        "/api/v1/datasets/{dataset_id}/achievement",
        "/api/v1/datasets/{dataset_id}/achievement.csv",
        "/api/v1/datasets/{dataset_id}/revisions",
        "/api/v1/regions",
        "/api/v1/regions/{code}",
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/payloads/{sha256}",
        "/api/v1/search",
        "/healthz",
        "/api/v1/observations",
        "/api/v1/observations.csv",
        "/api/v1/datasets/{dataset_id}/structure",
        "/readyz",
    }


def test_the_spec_documents_csv_headers_and_problems(client):
    spec = client.get("/openapi.json").get_json()
    csv = spec["paths"]["/api/v1/datasets/{dataset_id}/observations.csv"]["get"]
    assert "text/csv" in csv["responses"]["200"]["content"]
    assert {"Content-Disposition", "ETag"} <= set(csv["responses"]["200"]["headers"])
    page = spec["paths"]["/api/v1/datasets/{dataset_id}/observations"]["get"]
    assert {"Link", "ETag"} <= set(page["responses"]["200"]["headers"])
    assert "304" in page["responses"]
    xlsx = spec["paths"]["/api/v1/datasets/{dataset_id}/observations.xlsx"]["get"]
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert list(xlsx["responses"]["200"]["content"]) == [media]
    assert {"Content-Disposition", "ETag"} <= set(xlsx["responses"]["200"]["headers"])
    too_large = xlsx["responses"]["413"]["$ref"].rpartition("/")[2]
    assert list(spec["components"]["responses"][too_large]["content"]) == [
        "application/problem+json"
    ]
    bad_request = spec["components"]["responses"]["BAD_REQUEST"]
    assert list(bad_request["content"]) == ["application/problem+json"]
    value = spec["components"]["schemas"]["Observation"]["properties"]["value"]
    assert value["type"] == ["number", "null"]


def test_the_docs_page_uses_only_assets_the_app_serves(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "SwaggerUIBundle" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    assert '"/openapi.json"' in html
    for asset in assets:
        assert asset.startswith("/"), asset  # nothing from another host
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.get_data()) > 1000
        served.close()
    assert not re.search(r"https?://", html)


@pytest.mark.parametrize("path", ["observations", "observations.csv", "observations.xlsx"])
def test_the_spec_documents_dimension_filters_as_an_exploded_object(client, path):
    operation = client.get("/openapi.json").get_json()["paths"][
        f"/api/v1/datasets/{{dataset_id}}/{path}"
    ]["get"]
    [dim] = [p for p in operation["parameters"] if p.get("name") == "dim"]
    assert (dim["in"], dim["style"], dim["explode"]) == ("query", "form", True)
    schema = dim["schema"]
    assert schema["type"] == "object"
    codes = re.compile(schema["additionalProperties"]["pattern"])
    assert all(codes.search(value) for value in ("1", "1,2", "530, 531", "a-b"))
    assert not any(codes.search(value) for value in ("", " ", ",", "1,", ",1", "1,,2"))
    key = re.compile(schema["propertyNames"]["pattern"])
    assert all(key.match(name) for name in ("dim.jenis_kelamin", "dim.harga", "dim.x1"))
    assert not any(key.match(name) for name in ("dim.", "region", "dim.1x", "dim.a.b", "limit"))
    # no example: the dimensions are each dataset's own, and most datasets lack any given one
    assert "example" not in dim and "examples" not in dim
    assert "dim.<dimension id>" in dim["description"]


def test_the_spec_refuses_the_empty_values_the_server_refuses(client):
    """An empty query value is a 400 everywhere: the spec must not call it valid."""
    spec = client.get("/openapi.json").get_json()
    parameters = [
        parameter
        for operations in spec["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", ())
        if parameter.get("in") == "query"
    ]
    assert {p["name"] for p in parameters} >= {"region", "from", "to", "cursor", "limit", "parent"}
    for parameter in parameters:
        schema, name = parameter["schema"], parameter["name"]
        if schema["type"] == "string":
            assert schema.get("minLength", 0) >= 1, name
        elif schema["type"] == "array":
            assert schema["minItems"] >= 1, name
            item = re.compile(schema["items"]["pattern"])
            assert not any(item.search(value) for value in ("", " ", ",", "6371,")), name
            assert item.search("63.71"), name
        elif schema["type"] == "object":  # dim: one parameter per property
            assert schema["additionalProperties"]["pattern"], name
        else:
            assert schema["type"] == "integer", name


def test_every_operation_documents_the_request_limits(client):
    spec = client.get("/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert {"400", "414"} <= set(operation["responses"]), (method, path)
