"""The app's own request limits, checked before any view runs, answered with problem+json.

gunicorn's limits are set high (``gunicorn.conf.py``), because what gunicorn refuses it answers
with an HTML page of its own; the app refuses first, within them, in the API's error shape:

- a request target (path and query string) over ``OPENDATA_MAX_URL_LENGTH`` bytes: ``414``;
- a parameter holding more than ``OPENDATA_MAX_CODES`` comma-separated codes (``region``,
  ``dim.<dimension id>``, its repeats counted together): ``400`` naming it.
"""

from __future__ import annotations

from flask import Flask, Response, request

from opendata.api.errors import problem
from opendata.config import Settings
from opendata.exceptions import clip


def _target_length() -> int:
    """Bytes of the request target as sent (gunicorn and werkzeug keep it in ``RAW_URI``)."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return len(raw.encode("latin-1", "replace"))
    query = environ.get("QUERY_STRING", "")
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return len(path.encode("latin-1", "replace")) + (len(query) + 1 if query else 0)


def _too_many_codes(max_codes: int) -> dict[str, list[str]]:
    errors = {}
    for name, values in request.args.lists():
        count = sum(1 for value in values for code in value.split(",") if code.strip())
        if count > max_codes:
            errors[clip(name)] = [
                f"{count} codes; at most {max_codes} per request: split the request into "
                f"several of {max_codes} codes or fewer"
            ]
    return errors


def init_limits(app: Flask, settings: Settings) -> None:
    """Refuse requests over the app's limits before routing, with problem+json."""
    max_url, max_codes = settings.MAX_URL_LENGTH, settings.MAX_CODES

    @app.before_request
    def check_limits() -> Response | None:
        length = _target_length()
        if length > max_url:
            return problem(
                414,
                f"the URL is {length} bytes long; this API reads URLs of up to {max_url} bytes. "
                "Ask for fewer codes (region=, dim.<dimension id>=) in one request, or split it "
                "into several requests",
            )
        errors = _too_many_codes(max_codes)
        if errors:
            detail = "; ".join(f"{name}: {' '.join(m)}" for name, m in errors.items())
            return problem(400, detail, errors)
        return None
