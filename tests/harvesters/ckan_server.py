"""A local stand-in for a CKAN "Satu Data" portal, for the CKAN harvester's tests.

It serves, on 127.0.0.1 (a free port, a thread of its own), what the harvester asks of a portal,
the way CKAN answers (see ../shared/sources/bappeda/SOURCES.md, §1):

- ``GET <mount>/api/3/action/<action>`` (also ``/api/action/...``, and either under a locale
  segment, ``/tr/api/...``, as CKAN routes them) with ``resource_show?id=`` and
  ``datastore_search?resource_id=&offset=&limit=&sort=``;
- ``datastore_search`` pages by ``offset``/``limit`` (CKAN's default limit 100); ``page_max``
  serves fewer rows than asked (a portal's ``rows_max``); the body echoes ``limit``, holds
  ``total`` and always a ``_links.next``, even past the end, as CKAN's do; ``records_format``
  is ``objects``;
- ``resource_show`` says ``datastore_active`` and gives the resource's file ``url``, served by
  the same server under ``<mount>/dataset/<package>/resource/<id>/download/<name>``;
- errors as CKAN words them: an unknown resource (or one without an active DataStore, for
  ``datastore_search``) is HTTP 404 ``{"success": false, "error": {"__type": "Not Found Error",
  "message": ...}}``; a path outside the portal is an HTML 404 page;
- ``failures``: the first requests answer HTTP 500 with an HTML page (then the portal recovers);
- ``hang``: a request it matches is never answered (the server holds it until it stops);
- ``script``: called with each request before the default answer, it may answer instead
  (``(status, content type, body)``, e.g. a proxy's 502 page or a recorded body) or change the
  portal's state (a record added between two pages).

Records keep their numbers' exact text: a value given as a :class:`~decimal.Decimal` is written
as that JSON number, digit for digit.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from harvesters.transport import ExactNumber, dumps_exact
from opendata.model import DatasetSpec

DEFAULT_LIMIT = 100  #: CKAN's datastore_search limit when none is asked
INTERNAL_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
    "<body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p>"
    "</body></html>"
)
BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0 (Ubuntu)</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html lang='id'><head><title>Halaman tidak ditemukan - Satu Data</title>"
    "</head><body><h1>404 Not Found</h1></body></html>"
)
_LOCALE = re.compile(r"[a-z]{2}(?:_[A-Za-z]{2,4})?")

#: what the stand-in answers: (HTTP status, content type, body as bytes, text or a JSON value)
Answer = tuple[int, str, Any]


@dataclass
class PortalFile:
    """A resource's file, served for download."""

    name: str
    body: bytes
    content_type: str = "text/csv"


@dataclass
class Resource:
    """One CKAN resource: its DataStore table (fields, records) and/or its file."""

    id: str
    fields: list[dict[str, Any]] = field(default_factory=list)  #: without ``_id``
    records: list[dict[str, Any]] = field(default_factory=list)  #: without ``_id``
    datastore_active: bool = True
    file: PortalFile | None = None
    package_id: str = "3f1c9a52-paket-data"
    name: str = "Tabel"
    format: str = "CSV"
    last_modified: str = "2024-03-05T08:09:10.123456"

    @classmethod
    def wide(
        cls,
        resource_id: str,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[Any]],
        **kwargs: Any,
    ) -> Resource:
        """A resource of (field id, type) columns and rows of values in that order."""
        fields = [{"id": fid, "type": ftype} for fid, ftype in columns]
        records = [dict(zip((fid for fid, _ in columns), row, strict=True)) for row in rows]
        return cls(resource_id, fields, records, **kwargs)

    def all_fields(self) -> list[dict[str, Any]]:
        return [{"id": "_id", "type": "int"}, *self.fields]

    def all_records(self) -> list[dict[str, Any]]:
        return [{"_id": i, **record} for i, record in enumerate(self.records, start=1)]


@dataclass
class Seen:
    """One request the stand-in received: its path, action (or None), parameters, status."""

    path: str
    action: str | None
    params: dict[str, str]
    user_agent: str
    status: int = 0  #: 0: never answered (``hang``)


class CKANStandIn:
    """The stand-in portal; use it as a context manager, read ``url`` and ``requests``."""

    def __init__(
        self,
        resources: Sequence[Resource] = (),
        *,
        mount: str = "",
        page_max: int | None = None,
        failures: int = 0,
        hang: Callable[[Seen], bool] | None = None,
        script: Callable[[CKANStandIn, Seen], Answer | None] | None = None,
    ):
        self.resources = {r.id: r for r in resources}
        self.mount = mount.rstrip("/")
        self.page_max = page_max
        self.failures = failures
        self.hang = hang
        self.script = script
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()  #: releases the requests held by ``hang``
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def __enter__(self) -> CKANStandIn:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def origin(self) -> str:
        assert self._server is not None, "start the stand-in first (with CKANStandIn(...):)"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The portal's base URL, as a catalog entry gives it."""
        return self.origin + self.mount

    def file_url(self, resource: Resource) -> str:
        assert resource.file is not None
        return (
            f"{self.url}/dataset/{resource.package_id}/resource/{resource.id}/download/"
            f"{resource.file.name}"
        )

    def actions(self) -> list[str]:
        """The action of every request, in order (``download`` for a file)."""
        return [seen.action or "download" for seen in self.requests]

    def offsets(self) -> list[str]:
        """The ``offset`` of every ``datastore_search``, in order."""
        return [s.params.get("offset", "") for s in self.requests if s.action == "datastore_search"]

    # ---- answering

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                seen = stand_in.seen(self.path, self.headers.get("User-Agent", ""))
                if stand_in.hang is not None and stand_in.hang(seen):
                    stand_in._stopping.wait(timeout=30)  # answer nothing until the server stops
                    self.close_connection = True
                    return
                status, content_type, body = stand_in.answer(seen)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output quiet

        return Handler

    def seen(self, raw_path: str, user_agent: str) -> Seen:
        """Record a request (its answer's status is filled in when answered)."""
        parts = urlsplit(raw_path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        seen = Seen(parts.path, self._action(parts.path), params, user_agent)
        with self._lock:
            self.requests.append(seen)
        return seen

    def _action(self, path: str) -> str | None:
        if not path.startswith(self.mount + "/"):
            return None
        segments = path[len(self.mount) + 1 :].split("/")
        if segments and _LOCALE.fullmatch(segments[0]):
            segments = segments[1:]  # CKAN routes every page under a locale too
        if segments[:3] == ["api", "3", "action"] and len(segments) == 4:
            return segments[3]
        if segments[:2] == ["api", "action"] and len(segments) == 3:
            return segments[2]
        return None

    def answer(self, seen: Seen) -> tuple[int, str, bytes]:
        """Return (status, content type, body) for a request; record the status."""
        status, content_type, body = self._answer(seen)
        seen.status = status
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):
            body = dumps_exact(_exact(body)).encode("utf-8")
        return status, content_type, body

    def _answer(self, seen: Seen) -> Answer:
        with self._lock:
            failing = self.failures > 0
            self.failures -= int(failing)
        if failing:
            return 500, "text/html; charset=utf-8", INTERNAL_ERROR_PAGE
        if self.script is not None:
            scripted = self.script(self, seen)
            if scripted is not None:
                return scripted
        if seen.action == "resource_show":
            return self._resource_show(seen)
        if seen.action == "datastore_search":
            return self._datastore_search(seen)
        if seen.action is not None:
            return self.error(seen, 400, "Bad request - Action name not known: " + seen.action)
        return self._download(seen.path)

    def help_url(self, action: str) -> str:
        return f"{self.url}/api/3/action/help_show?name={action}"

    def error(self, seen: Seen, status: int, message: str, kind: str = "") -> Answer:
        """A CKAN error body: ``{"help", "success": false, "error": {"__type", "message"}}``."""
        kinds = {400: "Bad Request", 403: "Authorization Error", 404: "Not Found Error"}
        error = {"__type": kind or kinds.get(status, "Validation Error"), "message": message}
        body = {"help": self.help_url(seen.action or ""), "success": False, "error": error}
        return status, "application/json;charset=utf-8", body

    def _resource_show(self, seen: Seen) -> Answer:
        resource = self.resources.get(seen.params.get("id", ""))
        if resource is None:
            return self.error(seen, 404, "Not found: Resource was not found.")
        result = {
            "id": resource.id,
            "package_id": resource.package_id,
            "name": resource.name,
            "format": resource.format,
            "datastore_active": resource.datastore_active,
            "last_modified": resource.last_modified,
            "url_type": "upload",
            "url": self.file_url(resource) if resource.file else "",
        }
        return 200, "application/json;charset=utf-8", self.ok(seen, result)

    def ok(self, seen: Seen, result: Any) -> dict[str, Any]:
        return {"help": self.help_url(seen.action or ""), "success": True, "result": result}

    def _datastore_search(self, seen: Seen) -> Answer:
        params = seen.params
        rid = params.get("resource_id", "")
        resource = self.resources.get(rid)
        if resource is None or not resource.datastore_active:
            return self.error(seen, 404, f'Not found: Resource "{rid}" was not found.')
        try:
            offset = int(params.get("offset", "0"))
            limit = int(params.get("limit", str(DEFAULT_LIMIT)))
        except ValueError:
            return (
                409,
                "application/json",
                {
                    "help": self.help_url("datastore_search"),
                    "success": False,
                    "error": {"__type": "Validation Error", "offset": ["Invalid integer"]},
                },
            )
        served = limit if self.page_max is None else min(limit, self.page_max)
        records = resource.all_records()
        if params.get("sort") not in (None, "_id", "_id asc"):
            return self.error(seen, 409, f"field {params['sort']!r} is not in the table")
        page = records[offset : offset + served]
        query = {k: v for k, v in params.items() if k != "offset"}
        start = f"{self.mount}/api/3/action/datastore_search?{urlencode(query)}"
        result = {
            "include_total": True,
            "limit": limit,
            "records_format": "objects",
            "resource_id": rid,
            "total_estimation_threshold": None,
            "records": page,
            "fields": resource.all_fields(),
            "_links": {"start": start, "next": f"{start}&offset={offset + limit}"},
            "total": len(records),
            "total_was_estimated": False,
        }
        if "offset" in params:
            result["offset"] = offset
        return 200, "application/json;charset=utf-8", self.ok(seen, result)

    def _download(self, path: str) -> Answer:
        for resource in self.resources.values():
            if resource.file is not None and self.file_url(resource).endswith(path):
                return 200, resource.file.content_type, resource.file.body
        return 404, "text/html; charset=utf-8", NOT_FOUND_PAGE


def _exact(value: Any) -> Any:
    """A JSON value whose Decimals are written as JSON numbers, their text unchanged."""
    if isinstance(value, Decimal):
        return ExactNumber(str(value))
    if isinstance(value, Mapping):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def json_body(value: Any) -> bytes:
    """A JSON value as bytes, Decimals as exact numbers (for scripted answers)."""
    return dumps_exact(_exact(value)).encode("utf-8")


# --- what the tests give the harvester --------------------------------------------------------

#: settings of a harvest against the stand-in (the fake clock makes every wait instant)
SETTINGS = {
    "HTTP_TIMEOUT": 5.0,
    "HTTP_RETRIES": 3,
    "HARVEST_DATASET_TIMEOUT": 900.0,
    "CKAN_REQUESTS_PER_SECOND": 2.0,
}


def ckan_spec(
    path: Path,
    url: str,
    resource_id: str,
    table: Mapping[str, Any] | None,
    dataset_id: str = "demo",
    **ckan: Any,
) -> DatasetSpec:
    """A catalog entry of the CKAN source (its file, ``path/<id>.yaml``, need not exist).

    ``table`` None: the entry has no ``table:`` section.
    """
    return DatasetSpec(
        id=dataset_id,
        title={"id": "Demo"},
        source="ckan",
        query={"url": url, "resource_id": resource_id, **ckan},
        path=path / f"{dataset_id}.yaml",
        extra={} if table is None else {"table": dict(table)},
    )
