"""Schemathesis over the OpenAPI spec, in-process: no 5xx, responses as documented.

The spec needs no store; the app that answers the generated calls has one (the ``store``
fixture, on SQLite and PostgreSQL). Path parameters are steered to the store's dataset and
regions (and one unknown of each), so that the calls reach real data, not only 404s.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from opendata import create_app

KNOWN = {"dataset_id": ["demo", "nope"], "code": ["6371", "63.71", "6300", "0000", "9998"]}


def _spec() -> dict:
    app = create_app({"DATABASE_URL": "sqlite://", "CATALOG_DIR": "/nonexistent"})
    spec = app.test_client().get("/openapi.json").get_json()
    app.extensions["opendata"].engine.dispose()
    for path in spec["paths"].values():
        for parameter in path.get("parameters", ()):
            if parameter["name"] in KNOWN:
                parameter["schema"] = {"type": "string", "enum": KNOWN[parameter["name"]]}
    return spec


# schemathesis' lazy loader (schemathesis.pytest.from_fixture) fails under pytest 9.
schema = schemathesis.openapi.from_dict(_spec())


@pytest.fixture
def served(store, make_app):
    return make_app(TESTING=False)


@schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_does_what_its_spec_says(case, served):
    # Every other check runs. This one expects any request the spec allows to succeed, but
    # whether a region code, a dimension value or a cursor exists depends on the data: the
    # spec cannot say it, and such a request is rightly a 400.
    case.call_and_validate(app=served, excluded_checks=[positive_data_acceptance])
