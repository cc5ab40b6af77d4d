"""Harvest runs: what ran when, how it ended, what it fetched, and each body as it came.

Runs change with every harvest even when the data does not (a run that finds nothing new still
adds a row), so the list and a run are versioned with the last finished run too
(``versioned(runs=True)``). A payload's body never changes: its ETag is its sha256 and it may be
cached for good.
"""

from __future__ import annotations

import hashlib
import json
import re

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest import abort

from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import connection
from opendata.api.cursor import MAX_ID, checked, pack, unpack
from opendata.api.fields import Codes, Count, Text, UtcTime
from opendata.api.links import LINK_HEADER, link, next_link
from opendata.store import run_log
from opendata.store.run_log import STATUSES

blp = Blueprint(
    "runs",
    __name__,
    description="The harvest run log: every run, what it fetched, and the bodies as they came",
)

PAGE_SIZE = 100  #: runs per page by default
MAX_PAGE_SIZE = 1000
DATASET_PATTERN = r"[a-z0-9][a-z0-9-]{0,79}"  #: a catalog id (opendata.catalog)
SHA256 = re.compile(r"[0-9a-f]{64}")
#: a payload body's ETag is its sha256, so it may be kept for a year without asking again
IMMUTABLE = "public, max-age=31536000, immutable"


class Statuses(Codes):
    """Run statuses, comma-separated or repeated; an unknown one is a 400 naming the valid ones."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = ma.fields.String(
            validate=ma.validate.OneOf(STATUSES), metadata={"pattern": r"^[^,]*[^\s,][^,]*$"}
        )

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        statuses = super()._deserialize(value, attr, data, **kwargs)
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise ma.ValidationError(
                f"unknown status {', '.join(map(repr, unknown))}; "
                f"give one or more of: {', '.join(STATUSES)}"
            )
        return statuses


class RunQueryArgs(QueryArgs):
    """The filters and the page of the run list."""

    dataset = Text(
        give="a dataset id, e.g. dataset=tpt-provinsi",
        pattern=DATASET_PATTERN,
        error="not a dataset id: lowercase letters, digits and '-', e.g. tpt-provinsi",
        metadata={
            "description": "Only the runs of this dataset (an id of the catalog). A dataset "
            "that never ran has no runs: an empty list, not an error."
        },
    )
    status = Statuses(
        give="run statuses, e.g. status=failed,interrupted",
        metadata={
            "description": "Only runs with these statuses, comma-separated or repeated "
            f"(`status=failed,interrupted`): {', '.join(f'`{s}`' for s in STATUSES)}."
        },
    )
    cursor = Text(
        give="the cursor of a page's next link",
        metadata={"description": "Where the page starts: from the `next` link of a page."},
    )
    limit = Count(
        give="a number of runs, e.g. limit=20",
        metadata={
            "description": f"Runs per page: {PAGE_SIZE} by default, at most {MAX_PAGE_SIZE}, "
            "in ASCII digits (`0`-`9`) only.",
            "default": PAGE_SIZE,
            "maximum": MAX_PAGE_SIZE,
        },
    )

    @ma.validates("limit")
    def _at_most_max(self, value: int, data_key: str) -> None:
        if value > MAX_PAGE_SIZE:
            raise ma.ValidationError(f"at most {MAX_PAGE_SIZE} runs per page")


class CountsSchema(ma.Schema):
    """How many observations the run wrote, by what it did to them."""

    added = ma.fields.Integer(required=True)
    revised = ma.fields.Integer(required=True, metadata={"description": "Values changed."})
    withdrawn = ma.fields.Integer(
        required=True,
        metadata={"description": "Dropped by the source from a period it still publishes."},
    )
    unchanged = ma.fields.Integer(required=True)


class RunLinksSchema(ma.Schema):
    """This run (relative unless the server has a public URL, `OPENDATA_PUBLIC_URL`)."""

    self = ma.fields.String(required=True)


class RunSchema(ma.Schema):
    """A harvest run of one dataset."""

    id = ma.fields.Integer(required=True)
    dataset = ma.fields.String(required=True, metadata={"description": "The dataset's id."})
    batch = ma.fields.String(
        required=True,
        metadata={"description": "One `opendata harvest` invocation: its runs share it."},
    )
    started_at = UtcTime(required=True)
    finished_at = UtcTime(
        required=True, allow_none=True, metadata={"description": "Null while running."}
    )
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(STATUSES),
        metadata={
            "description": "`running`; `ok`; `unchanged` (the source sent the same payloads "
            "as last time); `no-data` (the source had nothing); `failed` (the data served is an "
            "earlier harvest's); `interrupted` (the process was stopped or killed; nothing of "
            "it was written but its payloads)."
        },
    )
    offline = ma.fields.Boolean(
        required=True, metadata={"description": "Harvested from recorded responses."}
    )
    counts = ma.fields.Nested(CountsSchema, required=True)
    error = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "Why it failed, if it did."}
    )
    links = ma.fields.Nested(RunLinksSchema, required=True)


class RunPageSchema(ma.Schema):
    """A page of runs, newest first, and the link to the next one."""

    data = ma.fields.List(ma.fields.Nested(RunSchema), required=True)
    next = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The URL of the next page, null on the last page."},
    )


class PayloadLinksSchema(ma.Schema):
    """The body, exactly as it came."""

    body = ma.fields.String(required=True)


class PayloadSchema(ma.Schema):
    """One request the run made, and the body it got."""

    sha256 = ma.fields.String(required=True, metadata={"description": "The body's SHA-256."})
    url = ma.fields.String(
        required=True, metadata={"description": "The URL asked, with secrets masked (`***`)."}
    )
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status."})
    fetched_at = UtcTime(required=True)
    content_type = ma.fields.String(required=True, allow_none=True)
    size = ma.fields.Integer(required=True, metadata={"description": "Bytes of the body."})
    links = ma.fields.Nested(PayloadLinksSchema, required=True)


class RunDetailSchema(RunSchema):
    """A run with its messages and the payloads it fetched."""

    messages = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Its log, a line each."}
    )
    payloads = ma.fields.List(
        ma.fields.Nested(PayloadSchema),
        required=True,
        metadata={"description": "One per request, in the order made."},
    )


# --- paging --------------------------------------------------------------------------------


def _digest(query: run_log.RunQuery) -> str:
    canonical = json.dumps([query.dataset_id, sorted(set(query.statuses))])
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def _encode_cursor(run_id: int, digest: str) -> str:
    return pack([run_id, digest])


def _position(cursor: str) -> tuple[int, object]:
    """The run id and digest of a runs cursor; ValueError if it is none."""
    run_id, digest = unpack(cursor)
    if type(run_id) is not int or not 1 <= run_id <= MAX_ID:
        raise ValueError("not a run id")
    return run_id, digest


def _decode_cursor(cursor: str, digest: str) -> int:
    """The run id in ``cursor``; raise FilterError if it is not one of ours for these filters."""
    return checked(_position, cursor, digest)


# --- items ---------------------------------------------------------------------------------


def _run_item(run: run_log.RunInfo) -> dict:
    return {
        "id": run.id,
        "dataset": run.dataset_id,
        "batch": run.batch,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "offline": run.offline,
        "counts": {
            "added": run.added,
            "revised": run.changed,
            "withdrawn": run.withdrawn,
            "unchanged": run.unchanged,
        },
        "error": run.error,
        "links": {"self": link("runs.RunDetail", run_id=run.id)},
    }


def _payload_item(run_id: int, fetch: run_log.FetchInfo) -> dict:
    body = link("runs.RunPayload", run_id=run_id, sha256=fetch.sha256)
    return {**vars(fetch), "links": {"body": body}}


def _require_run(run_id: int) -> run_log.RunInfo:
    run = run_log.get_run(connection(), run_id)
    if run is None:
        abort(404, message=f"no harvest run {run_id}; the runs are listed at /api/v1/runs")
    return run


RUN_ID = "<int(min=1, max=2147483647):run_id>"


@blp.route("/runs")
class RunList(MethodView):
    @blp.versioned(runs=True)
    @blp.arguments(RunQueryArgs, location="query")
    @blp.response(
        200,
        RunPageSchema,
        headers={"Link": LINK_HEADER},
    )
    def get(self, args):
        """Harvest runs, newest first, a page at a time

        Filter by `dataset` and `status`; follow `next` (or the `Link` header) for older runs.
        The cursor is bound to the filters: keep them while paging.
        """
        query = run_log.RunQuery(args.get("dataset"), args.get("status", []))
        digest = _digest(query)
        if args.get("cursor"):
            query.before = _decode_cursor(args["cursor"], digest)
        limit = args.get("limit") or PAGE_SIZE
        query.limit = limit + 1
        runs = run_log.list_runs(connection(), query)
        next_url = None
        if len(runs) > limit:
            runs = runs[:limit]
            next_url = next_link(_encode_cursor(runs[-1].id, digest))
        page = {"data": [_run_item(run) for run in runs], "next": next_url}
        return page, {"Link": f'<{next_url}>; rel="next"'} if next_url else {}


@blp.route(f"/runs/{RUN_ID}")
class RunDetail(MethodView):
    @blp.versioned(runs=True)
    @blp.arguments(QueryArgs, location="query")
    @blp.response(200, RunDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, run_id):
        """A harvest run: its messages and the payloads it fetched"""
        run = _require_run(run_id)
        fetches = run_log.run_fetches(connection(), run_id)
        return {
            **_run_item(run),
            "messages": list(run.messages),
            "payloads": [_payload_item(run_id, fetch) for fetch in fetches],
        }


# --- payload bodies ------------------------------------------------------------------------

#: a media type with parameters, as RFC 9110 writes it; anything else is served as bytes
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+"
    r'(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[^"\\\x00-\x1f\x7f]*"))*'
)
OCTET_STREAM = "application/octet-stream"
#: the file name's extension, by the media type (without parameters); else ``.bin``
EXTENSIONS = {
    "application/json": "json",
    "text/json": "json",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/plain": "txt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
}


def _content_type(stored: str | None) -> str:
    """The stored content type if it is a well-formed media type, else octet-stream."""
    return stored.strip() if stored and _MEDIA_TYPE.fullmatch(stored.strip()) else OCTET_STREAM


def _file_name(run_id: int, sha256: str, content_type: str) -> str:
    """``run-12-<sha256>.json``: from the run id, the hash and the type only, never upstream."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    extension = EXTENSIONS.get(media_type, "json" if media_type.endswith("+json") else "bin")
    return f"run-{run_id}-{sha256}.{extension}"


BODY_HEADERS = {
    "ETag": {"description": "The body's sha256 (strong).", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": f"`{IMMUTABLE}`: a body never changes.",
        "schema": {"type": "string"},
    },
    "Content-Disposition": {
        "description": "`attachment`, with a file name `run-<id>-<sha256>.<extension>`.",
        "schema": {"type": "string"},
    },
    "X-Content-Type-Options": {"description": "`nosniff`.", "schema": {"type": "string"}},
}


SHA256_PARAMETER = {
    "in": "path",
    "name": "sha256",
    "required": True,
    "description": "The body's SHA-256, as the run lists it.",
    "schema": {"type": "string", "pattern": f"^{SHA256.pattern}$"},
}


@blp.route(f"/runs/{RUN_ID}/payloads/<string(length=64):sha256>")
class RunPayload(MethodView):
    @blp.arguments(QueryArgs, location="query")
    @blp.response(
        200,
        {},  # any bytes, in the media type the source sent: no schema to validate
        content_type="*/*",
        description="The body exactly as the source sent it, with the content type it had "
        "(`application/octet-stream` if it had none that is well formed).",
        headers=BODY_HEADERS,
    )
    @blp.alt_response(304, response="NOT_MODIFIED")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(parameters=[SHA256_PARAMETER, "IF_NONE_MATCH"])
    def get(self, _args, run_id, sha256):
        """A body a run fetched, exactly as it came

        A download (`Content-Disposition: attachment`), never a page of this site: an upstream
        HTML error page is served as a file. `404` when this run did not fetch this body, even
        if another run did.
        """
        _require_run(run_id)
        fetch = (
            run_log.run_payload(connection(), run_id, sha256) if SHA256.fullmatch(sha256) else None
        )
        if fetch is None:
            abort(
                404,
                message=f"run {run_id} fetched no payload {sha256[:64]!r}; its payloads are "
                f"listed at /api/v1/runs/{run_id}",
            )
        content_type = _content_type(fetch.content_type)
        if request.if_none_match.contains_weak(sha256):
            response = Response(status=304)
        else:
            response = Response(run_log.payload_body(connection(), sha256))
            response.headers["Content-Type"] = content_type
            name = _file_name(run_id, sha256, content_type)
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            response.headers["X-Content-Type-Options"] = "nosniff"
            # even opened in a browser, an upstream HTML page runs no script and loads nothing
            response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response.set_etag(sha256)
        response.headers["Cache-Control"] = IMMUTABLE
        return response
