"""``/healthz``: is this worker able to serve (store reachable, catalog loaded)?"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy.exc import SQLAlchemyError

from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import state
from opendata.api.errors import problem
from opendata.store import queries

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
