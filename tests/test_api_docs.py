"""docs/api.md documents exactly the endpoints of the OpenAPI spec, and their parameters."""

from __future__ import annotations

import re

import pytest

from opendata import create_app
from opendata.config import PROJECT_DIR

HEADING = re.compile(r"^#{2,4} `(GET|HEAD|POST|PUT|PATCH|DELETE) (/[^`]*)`\s*$", re.MULTILINE)
METHODS = {"get", "head", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> dict:
    """The served spec (no store needed to serve it)."""
    path = tmp_path_factory.mktemp("spec") / "unused.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "CATALOG_DIR": path.parent})
    yield app.test_client().get("/openapi.json").get_json()
    app.extensions["opendata"].engine.dispose()


@pytest.fixture(scope="module")
def docs() -> str:
    return (PROJECT_DIR / "docs" / "api.md").read_text("utf-8")


def test_docs_and_spec_list_the_same_endpoints(spec, docs):
    documented = set(HEADING.findall(docs))
    in_spec = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    }
    assert in_spec, "the spec lists no endpoint"
    assert documented - in_spec == set(), "docs/api.md documents endpoints the API lacks"
    assert in_spec - documented == set(), "endpoints missing from docs/api.md"


def _documented_as(parameter: dict) -> str:
    """How the docs' parameter tables name a parameter: ``| `region` |``.

    An object parameter exploded into its properties (``dim``) is never sent by its name but
    as one parameter per property, documented by their pattern: ``| `dim.<dimension id>` |``.
    """
    name = parameter["name"]
    exploded = parameter.get("explode") and parameter.get("style", "form") == "form"
    if exploded and parameter.get("schema", {}).get("type") == "object":
        return f"| `{name}.<"
    return f"| `{name}` |"


def test_every_query_parameter_of_the_spec_is_documented(spec, docs):
    parameters = [
        parameter
        for operations in spec["paths"].values()
        for method, operation in operations.items()
        if method in METHODS
        for parameter in operation.get("parameters", ())
        if parameter.get("in") == "query"
    ]
    assert parameters
    missing = {p["name"] for p in parameters if _documented_as(p) not in docs}
    assert missing == set()
    assert "| `dim.<" in {_documented_as(p) for p in parameters}
