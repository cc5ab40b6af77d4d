"""Schemathesis over the achievement operations, with a target dataset in the store.

``test_schemathesis`` runs every operation against the ``demo`` store, where no dataset holds
targets: the achievement answers only its documented 404 there. Here the store also has
``demo-target`` (targets of ``demo``'s figures, with the same dimension), so that every check
runs on real pages and CSV files too.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests import fakes
from tests.api import target_stores as ts
from tests.api.conftest import CELLS, DISTRICT
from tests.api.test_schemathesis import _spec

TARGETS = ["demo-target", "demo", "nope"]


def _achievement_spec() -> dict:
    spec = _spec()
    spec["paths"] = {path: ops for path, ops in spec["paths"].items() if "/achievement" in path}
    assert len(spec["paths"]) == 2
    for operations in spec["paths"].values():
        for parameter in operations.get("parameters", ()):
            if parameter.get("name") == "dataset_id":
                parameter["schema"] = {"type": "string", "enum": TARGETS}
    return spec


schema = schemathesis.openapi.from_dict(_achievement_spec())


@pytest.fixture
def served(store, make_app):
    parsed = fakes.result(CELLS)
    parsed.regions.append(DISTRICT)
    target = {"of": {"dataset": "demo"}, "better": "higher", "document": "Rencana"}
    ts.write(store, ts.spec("demo-target", target), parsed)
    return make_app(TESTING=False)


@schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_achievement_does_what_its_spec_says(case, served):
    # identity: the in-process client does not decode gzip (test_compression covers it)
    case.call_and_validate(app=served, headers={"Accept-Encoding": "identity"})


def test_the_steered_dataset_has_an_achievement(served):
    """So that the cases above meet real pages, not only 404s."""
    page = served.test_client().get("/api/v1/datasets/demo-target/achievement").get_json()
    assert len(page["data"]) == len(CELLS)
    assert any(item["achievement"] is not None for item in page["data"])
