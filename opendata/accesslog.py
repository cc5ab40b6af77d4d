"""gunicorn's access log as JSON lines, for a log shipper (``OPENDATA_ACCESS_LOG_FORMAT=json``).

gunicorn formats its access log with an Apache-style template into one text message; a log
shipper would have to parse it back. This logger class (``logger_class`` in
``gunicorn.conf.py``) writes each request as one JSON object instead, through
python-json-logger as ``opendata --log-format json`` does: ``time`` (RFC 3339, UTC),
``method``, ``path``, ``query``, ``status``, ``bytes``, ``duration`` (seconds), ``remote``,
``forwarded_for``, ``user_agent``, ``referer`` and ``request_id`` (the ``X-Request-ID`` a proxy
set, if any). Absent values are null. gunicorn's error log stays as it is.
"""

from __future__ import annotations

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter

#: the request headers logged, by field
HEADERS = {
    "user_agent": "user-agent",
    "referer": "referer",
    "forwarded_for": "x-forwarded-for",
    "request_id": "x-request-id",
}


def _headers(req) -> dict[str, str]:
    """The request's headers by lower-case name (gunicorn gives a list of pairs)."""
    pairs = getattr(req, "headers", None) or []
    return {name.lower(): value for name, value in pairs}


class JsonAccessLogger(Logger):
    """gunicorn's logger whose access log lines are JSON objects (see the module)."""

    def setup(self, cfg) -> None:
        """gunicorn's handlers, with a JSON formatter on the access log's."""
        super().setup(cfg)
        formatter = JsonFormatter("%(message)s", timestamp="time")
        for handler in self.access_log.handlers:
            handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time) -> None:
        """Log one request as a JSON object."""
        if not self.access_log_enabled:
            return
        headers = _headers(req)
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration": round(request_time.total_seconds(), 6),
            "remote": environ.get("REMOTE_ADDR"),
            **{field: headers.get(name) for field, name in HEADERS.items()},
        }
        try:
            self.access_log.info(
                "%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields
            )
        except Exception:  # noqa: BLE001 - as gunicorn's own: a log line never fails a request
            self.exception("access log")
