"""A local stand-in for the BPS WebAPI that enforces BPS's rules, for the harvester's tests.

It serves ``GET /v1/api/list`` with ``model=data``, ``model=th`` and ``model=turvar`` on
127.0.0.1 (a free port, a thread of its own), answering the way BPS does (see
../shared/sources/bps/README.md):

- a missing key answers ``"Parameter Key is Missing."``, a wrong one "You are not Allowed ...";
- a User-Agent that does not look like a browser answers HTTP 403 with the firewall's HTML page;
- ``th`` is required; more years than the domain's maximum (3 on ``0000``, 2 elsewhere, both
  configurable) answers the "maximum allowed number of years" error;
- a window of more than ``null_above`` years answers the JSON body ``null``;
- a table it does not have, or years without data, answer ``list-not-available``;
- the first ``failures`` requests answer HTTP 503;
- a request ``hang`` matches (a predicate on its parameters) is never answered: the server holds
  the connection until it stops (a hung upstream);
- ``model=th`` lists a table's years, newest first, 10 a page; ``model=turvar`` lists its
  columns with their group name (or ``list-not-available`` when it has no group).

Data bodies are built for the requested years from a small table, with datacontent keys made
the way BPS makes them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WAF_PAGE = """<!doctype html>
<head><title> Perimeter WAF Block </title></head>
<body><article><div><table><tbody>
<tr><td colspan="2"> This access is blocked by our security system. </td></tr>
</tbody></table><p> &mdash; Badan Pusat Statistik (BPS-Statistics Indonesia) </p></div></article>
</body>
"""
NOT_ALLOWED = "You are not Allowed to take this action. Please re-check your key"
KEY_MISSING = "Parameter Key is Missing."
TH_REQUIRED = (
    "'th' parameter is required and must be an integer, separated by colon (:) for range or "
    "semicolon (;) for multiple values."
)
NOT_AVAILABLE = {"status": "OK", "data-availability": "list-not-available", "data": ""}


def default_value(row: int, column: Any, year: int, sub: int) -> float | int:
    """A deterministic figure for a cell: readable in test failures, exact as a JSON number."""
    return round((year - 2000) + (row % 100) / 100 + int(column) / 1000 + sub / 10000, 4)


@dataclass
class StandInTable:
    """One dynamic table (a var on a domain) the stand-in serves."""

    domain: str
    var: int
    label: str
    unit: str
    labelvervar: str
    vervar: list[tuple[int, str]]
    years: Sequence[int]
    turvar: list[tuple[int | str, str]] = field(default_factory=lambda: [("0", "Tidak ada")])
    turtahun: list[tuple[int, str]] = field(default_factory=lambda: [(0, "Tahun")])
    turvar_group: str | None = None
    decimal: int | None = 2
    note: str = "<p>Sumber: stand-in<br /></p>"
    value: Callable[[int, Any, int, int], Any] = default_value

    def body(self, years: Sequence[int]) -> dict[str, Any]:
        """The BPS body of this table for the given years (those it has)."""
        have = [y for y in years if y in self.years]
        content = {}
        for (row, _), (column, _), year, (sub, _) in (
            (r, c, y, s)
            for r in self.vervar
            for c in self.turvar
            for y in have
            for s in self.turtahun
        ):
            key = f"{row}{self.var}{column}{year - 1900}{sub}"
            content[key] = self.value(row, column, year, sub)
        return {
            "status": "OK",
            "data-availability": "available",
            "last_update": f"{max(have)}-12-01 10:00:00",
            "subject": [{"val": 520, "label": "Tenaga Kerja"}],
            "var": [
                {
                    "val": self.var,
                    "label": self.label,
                    "unit": self.unit,
                    "subj": "Tenaga Kerja",
                    "def": "",
                    "decimal": self.decimal,
                    "note": self.note,
                }
            ],
            "turvar": [{"val": v, "label": label} for v, label in self.turvar],
            "labelvervar": self.labelvervar,
            "vervar": [{"val": v, "label": label} for v, label in self.vervar],
            "tahun": [{"val": y - 1900, "label": str(y)} for y in have],
            "turtahun": [{"val": v, "label": label} for v, label in self.turtahun],
            "datacontent": content,
            "related": [],
        }


@dataclass
class Seen:
    """One request the stand-in answered."""

    params: dict[str, str]
    user_agent: str
    status: int


class BPSStandIn:
    """The stand-in server; use it as a context manager, read ``base_url`` and ``requests``."""

    def __init__(
        self,
        key: str,
        tables: Sequence[StandInTable],
        max_years_national: int = 3,
        max_years_other: int = 2,
        null_above: int | None = None,
        failures: int = 0,
        hang: Callable[[dict[str, str]], bool] | None = None,
    ):
        self.key = key
        self.hang = hang
        self.tables = {(t.domain, str(t.var)): t for t in tables}
        self.max_years_national = max_years_national
        self.max_years_other = max_years_other
        self.null_above = null_above
        self.failures = failures
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()  #: releases the requests held by ``hang``
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def __enter__(self) -> BPSStandIn:
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
    def base_url(self) -> str:
        assert self._server is not None, "start the stand-in first (with BPSStandIn(...):)"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1/api"

    def data_windows(self) -> list[str]:
        """The ``th`` of every ``model=data`` request, in order."""
        return [s.params.get("th", "") for s in self.requests if s.params.get("model") == "data"]

    # ---- answering

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if stand_in.hangs(self.path):
                    stand_in._stopping.wait(timeout=30)  # answer nothing until the server stops
                    self.close_connection = True
                    return
                status, content_type, body = stand_in.answer(
                    self.path, self.headers.get("User-Agent", "")
                )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output quiet

        return Handler

    def hangs(self, path: str) -> bool:
        """Whether the request to ``path`` is to go unanswered (recorded with status 0)."""
        params = {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}
        if self.hang is None or not self.hang(params):
            return False
        with self._lock:
            self.requests.append(Seen(params, "", 0))
        return True

    def answer(self, path: str, user_agent: str) -> tuple[int, str, bytes]:
        """Return (status, content type, body) for a request path and User-Agent."""
        parts = urlsplit(path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        status, content_type, body = self._answer(parts.path, params, user_agent)
        with self._lock:
            self.requests.append(Seen(params, user_agent, status))
        if isinstance(body, str):
            return status, content_type, body.encode("utf-8")
        return status, content_type, json.dumps(body).encode("utf-8")

    def _answer(self, path: str, params: dict[str, str], user_agent: str) -> tuple[int, str, Any]:
        with self._lock:
            failing = self.failures > 0
            self.failures -= int(failing)
        if failing:
            return 503, "text/html", "<html><body>503 Service Temporarily Unavailable</body></html>"
        if "Mozilla/" not in user_agent or "python-requests" in user_agent.lower():
            return 403, "text/html", WAF_PAGE
        if path.rstrip("/") != "/v1/api/list":
            return 404, "text/html", "<html><body>404 Not Found</body></html>"
        if not params.get("key"):
            return 200, "application/json", {"status": "Error", "message": KEY_MISSING}
        if params["key"] != self.key:
            return 200, "application/json", {"status": "Error", "message": NOT_ALLOWED}
        table = self.tables.get((params.get("domain", ""), params.get("var", "")))
        model = params.get("model")
        if model == "data":
            return 200, "application/json", self._data(table, params)
        if model == "th":
            return 200, "application/json", self._th(table, int(params.get("page", "1")))
        if model == "turvar":
            return 200, "application/json", self._turvar(table)
        return 200, "application/json", {"status": "Error", "message": "Model not found."}

    def _data(self, table: StandInTable | None, params: dict[str, str]) -> Any:
        years = parse_th(params.get("th", ""))
        if not years:
            return {"status": "Error", "message": TH_REQUIRED}
        limit = self.max_years_national if params.get("domain") == "0000" else self.max_years_other
        if len(years) > limit:
            return {
                "status": "Error",
                "message": f"The maximum allowed number of years for the 'th' parameter is "
                f"{limit}. You provided {len(years)}. Please reduce the number of years "
                "accordingly.",
            }
        if self.null_above is not None and len(years) > self.null_above:
            return None
        if table is None or not any(y in table.years for y in years):
            return NOT_AVAILABLE
        return table.body(years)

    def _th(self, table: StandInTable | None, page: int) -> Any:
        if table is None:
            return NOT_AVAILABLE
        items = [{"th_id": y - 1900, "th": str(y)} for y in sorted(table.years, reverse=True)]
        return _paged(items, page)

    def _turvar(self, table: StandInTable | None) -> Any:
        if table is None or table.turvar_group is None:
            return NOT_AVAILABLE
        items = [
            {
                "turvar_id": val,
                "turvar": label,
                "group_turvar_id": 3,
                "name_group_turvar": table.turvar_group,
            }
            for val, label in table.turvar
        ]
        return _paged(items, 1)


def _paged(items: list[dict[str, Any]], page: int, per_page: int = 10) -> dict[str, Any]:
    pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    meta = {"page": page, "pages": pages, "per_page": per_page, "count": len(chunk)}
    meta["total"] = len(items)
    return {"status": "OK", "data-availability": "available", "data": [meta, chunk]}


def parse_th(text: str) -> list[int]:
    """Return the years a ``th`` parameter names (``123:125``, ``119;124``, ``124``), or []."""
    if re.fullmatch(r"\d+:\d+", text):
        first, last = (int(part) for part in text.split(":"))
        return [code + 1900 for code in range(first, last + 1)]
    if re.fullmatch(r"\d+(;\d+)*", text):
        return [int(code) + 1900 for code in text.split(";")]
    return []
