"""``/healthz``: is this worker able to serve (store reachable, catalog loaded)?

``/readyz``: should it be sent traffic, too: the store's schema is the one this code reads,
and (with ``OPENDATA_READY_MAX_FAILING_HOURS``) no dataset's harvests have been failing for
longer than that. Both are cheap (a few indexed queries) and never cached: a load balancer or
an orchestrator asks them every few seconds.
"""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import state, utcnow
from opendata.api.errors import problem
from opendata.store import queries
from opendata.store.schema import SCHEMA_REVISION

blp = Blueprint("health", __name__, description="For load balancers and monitoring")


class StoreCheckSchema(ma.Schema):
    """Whether the store answers, and its data version."""

    reachable = ma.fields.Boolean(required=True)
    data_version = ma.fields.Integer(
        allow_none=True, metadata={"description": "Bumped by every harvest that changes data."}
    )
    error = ma.fields.String()


class CatalogCheckSchema(ma.Schema):
    """Whether the dataset catalog loaded, and its size."""

    loaded = ma.fields.Boolean(required=True)
    datasets = ma.fields.Integer(allow_none=True, metadata={"description": "Catalog entries."})
    error = ma.fields.String()


class HealthSchema(ma.Schema):
    """All is well."""

    status = ma.fields.String(required=True, metadata={"description": "`ok`."})
    store = ma.fields.Nested(StoreCheckSchema, required=True)
    catalog = ma.fields.Nested(CatalogCheckSchema, required=True)


def _store_check() -> dict:
    try:
        with state().engine.connect() as conn:
            return {"reachable": True, "data_version": queries.data_version(conn)}
    except SQLAlchemyError as exc:
        return {"reachable": False, "data_version": None, "error": type(exc).__name__}


def _catalog_check() -> dict:
    app_state = state()
    if app_state.catalog is None:
        return {"loaded": False, "datasets": None, "error": app_state.catalog_error or "unknown"}
    return {"loaded": True, "datasets": len(app_state.catalog)}


@blp.route("/healthz")
class Health(MethodView):
    @blp.arguments(QueryArgs, location="query")
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, _args):
        """Check that the store is reachable and the catalog loaded

        503 (problem details with `checks`) when either is not.
        """
        checks = {"store": _store_check(), "catalog": _catalog_check()}
        passed = (("store", "reachable"), ("catalog", "loaded"))
        failing = [name for name, key in passed if not checks[name][key]]
        headers = {"Cache-Control": "no-store"}
        if failing:
            detail = f"not ready: the {' and the '.join(failing)} failed; see checks"
            return problem(503, detail, checks=checks), headers
        return {"status": "ok", **checks}, headers


class SchemaCheckSchema(ma.Schema):
    """Whether the store's schema is the one this code reads."""

    current = ma.fields.Boolean(required=True)
    revision = ma.fields.String(
        allow_none=True,
        metadata={"description": "The store's Alembic revision (null: never migrated)."},
    )
    expected = ma.fields.String(
        required=True, metadata={"description": "The revision this code reads (Alembic head)."}
    )


class FailingDatasetSchema(ma.Schema):
    """A dataset whose harvests failed since its last successful check."""

    dataset = ma.fields.String(required=True)
    last_checked = ma.fields.String(
        required=True, metadata={"description": "End of its last successful check (RFC 3339)."}
    )
    failures_in_a_row = ma.fields.Integer(required=True)
    last_error = ma.fields.String(allow_none=True)


class HarvestCheckSchema(ma.Schema):
    """The datasets failing, and the threshold past which the node is not ready."""

    ok = ma.fields.Boolean(
        required=True,
        metadata={"description": "False when a dataset has failed for `max_failing_hours`."},
    )
    datasets = ma.fields.Integer(required=True, metadata={"description": "Harvested datasets."})
    max_failing_hours = ma.fields.Float(
        allow_none=True,
        metadata={"description": "`OPENDATA_READY_MAX_FAILING_HOURS`; null: not checked."},
    )
    failing = ma.fields.List(
        ma.fields.Nested(FailingDatasetSchema),
        required=True,
        metadata={"description": "Datasets whose harvests failed since their last check."},
    )


class ReadySchema(ma.Schema):
    """Ready for traffic."""

    status = ma.fields.String(required=True, metadata={"description": "`ok`."})
    store = ma.fields.Nested(StoreCheckSchema, required=True)
    catalog = ma.fields.Nested(CatalogCheckSchema, required=True)
    schema = ma.fields.Nested(SchemaCheckSchema, required=True)
    harvests = ma.fields.Nested(HarvestCheckSchema, required=True)


def _revision(conn: Connection) -> str | None:
    """The store's Alembic revision (None before the first ``opendata db upgrade``)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _schema_check(conn: Connection) -> dict:
    revision = _revision(conn)
    return {
        "current": revision == SCHEMA_REVISION,
        "revision": revision,
        "expected": SCHEMA_REVISION,
    }


def _harvest_check(conn: Connection) -> dict:
    """The datasets failing since their last check; past the threshold, the node is not ready.

    A dataset never checked serves nothing, so its failures (listed by ``opendata status``)
    do not count here. Every node reads the same store: when this check fails, it fails on all
    of them at once, which is why the threshold is off unless the operator sets it.
    """
    from opendata.store.checks import read_checks

    hours = state().settings.READY_MAX_FAILING_HOURS
    now = utcnow()
    failing, late = [], False
    checks = read_checks(conn)
    for dataset_id in sorted(checks):
        check = checks[dataset_id]
        if not check.failures or check.last_checked is None:
            continue
        failing.append(
            {
                "dataset": dataset_id,
                "last_checked": check.last_checked.replace(microsecond=0).isoformat() + "Z",
                "failures_in_a_row": check.failures,
                "last_error": check.last_error,
            }
        )
        late = late or bool(hours and now - check.last_checked >= timedelta(hours=hours))
    return {
        "ok": not late,
        "datasets": len(checks),
        "max_failing_hours": hours or None,
        "failing": failing,
    }


def _ready_checks() -> dict:
    """Every check of ``/readyz``; those the store could not answer are reported failed."""
    checks = {"store": _store_check(), "catalog": _catalog_check()}
    try:
        with state().engine.connect() as conn:
            checks["schema"] = _schema_check(conn)
            checks["harvests"] = _harvest_check(conn)
    except SQLAlchemyError as exc:
        error = type(exc).__name__
        checks["schema"] = {"current": False, "revision": None, "expected": SCHEMA_REVISION}
        checks["harvests"] = {
            "ok": False,
            "datasets": 0,
            "max_failing_hours": state().settings.READY_MAX_FAILING_HOURS or None,
            "failing": [],
        }
        checks["store"].setdefault("error", error)
    return checks


@blp.route("/readyz")
class Ready(MethodView):
    @blp.arguments(QueryArgs, location="query")
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self, _args):
        """Check that this node should be sent traffic

        As `/healthz`, and the store's schema is the one this code reads (`opendata db
        upgrade` has run), and no dataset's harvests have been failing for
        `OPENDATA_READY_MAX_FAILING_HOURS` (when set). 503 (problem details with `checks`)
        when not.
        """
        checks = _ready_checks()
        passed = {
            "store": checks["store"]["reachable"],
            "catalog": checks["catalog"]["loaded"],
            "schema": checks["schema"]["current"],
            "harvests": checks["harvests"]["ok"],
        }
        failing = [name for name, ok in passed.items() if not ok]
        headers = {"Cache-Control": "no-store"}
        if failing:
            detail = f"not ready: the {' and the '.join(failing)} check failed; see checks"
            return problem(503, detail, checks=checks), headers
        return {"status": "ok", **checks}, headers
