"""Revisions of a dataset: every version of each cell, with the runs that wrote them."""

from __future__ import annotations

import hashlib

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from opendata.api import history
from opendata.api.base import Blueprint
from opendata.api.context import connection, dataset_meta, state
from opendata.api.cursor import decode_cursor, encode_cursor, filters_digest
from opendata.api.links import link
from opendata.api.observations import (
    LINK_HEADER,
    WARNINGS_HEADER,
    DimensionValueRefSchema,
    PageArgs,
    RegionRefSchema,
    filter_query,
    next_link,
    region_warnings,
    warn_header,
)
from opendata.formats.json import write_revisions
from opendata.store import history as store_history

blp = Blueprint(
    "revisions",
    __name__,
    description="What each figure of a dataset said over time: its versions and their runs",
)


class VersionLinksSchema(ma.Schema):
    """Where a version came from."""

    run = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "`/api/v1/runs/{run}`: the harvest run that wrote it."},
    )


class VersionSchema(ma.Schema):
    """One version of a cell: what it said from one run until the next change."""

    value = ma.fields.Decimal(
        required=True,
        allow_none=True,
        metadata={"description": "As on the observations; null for a withdrawal."},
    )
    value_to = ma.fields.Decimal(metadata={"description": "Only for a range: its second end."})
    flag = ma.fields.String(required=True, allow_none=True)
    note = ma.fields.String(required=True, allow_none=True)
    withdrawn = ma.fields.Boolean(
        required=True,
        metadata={"description": "A withdrawal: the cell was not served in this version."},
    )
    valid_from = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "When it was first served: the end of its run, RFC 3339 UTC.",
            "format": "date-time",
        },
    )
    valid_to = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "When the next version replaced it; null for the current one.",
            "format": "date-time",
        },
    )
    run = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The id of the harvest run that wrote it."},
    )
    links = ma.fields.Nested(VersionLinksSchema, required=True)


class CellSchema(ma.Schema):
    """A cell (region, period, dimension values) and its versions, oldest first."""

    region = ma.fields.Nested(RegionRefSchema, required=True)
    period = ma.fields.String(required=True)
    dimensions = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(DimensionValueRefSchema), required=True
    )
    versions = ma.fields.List(ma.fields.Nested(VersionSchema), required=True)


class RevisionPageSchema(ma.Schema):
    """A page of cells, the link to the next one, and warnings about the request."""

    data = ma.fields.List(ma.fields.Nested(CellSchema), required=True)
    next = ma.fields.String(required=True, allow_none=True)
    warnings = ma.fields.List(ma.fields.String(), required=True)


def _run_link(run_id: int) -> str:
    return link("runs.RunDetail", run_id=run_id)


@blp.route("/datasets/<dataset_id>/revisions")
class RevisionList(MethodView):
    @blp.versioned
    @blp.arguments(PageArgs, location="query")
    @blp.response(
        200,
        RevisionPageSchema,
        headers={"Link": LINK_HEADER, "Opendata-Warnings": WARNINGS_HEADER},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """Every version of each figure of a dataset, a page of cells at a time

        The same filters, order and paging as the observations; every cell that matches, also
        one withdrawn since or of a breakdown no longer published, with its versions oldest
        first: value, flag, note, whether it was a withdrawal, when it was served from and
        until, and the harvest run that wrote it.
        """
        query = filter_query(dataset_id, args)
        text = f"{filters_digest(query)} revisions"
        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        if args.get("cursor"):
            query.after = decode_cursor(args["cursor"], digest)
        limit = args.get("limit") or state().settings.PAGE_SIZE
        query.limit = limit + 1
        conn = connection()
        cells = store_history.page_of_cells(conn, query)
        next_url = None
        if len(cells) > limit:
            cells = cells[:limit]
            next_url = next_link(encode_cursor(cells[-1].keyset(), digest))
        meta = dataset_meta(dataset_id)
        warnings = region_warnings(dataset_id, query)
        series = history.series_of(conn, meta, {cell.series_id for cell in cells})
        body = write_revisions(
            cells, meta.slugs, series, next_url, warnings, history.rfc3339, _run_link
        )
        response = Response(body, mimetype="application/json")
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return warn_header(response, warnings)
