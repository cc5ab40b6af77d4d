"""HTTP plumbing shared by harvesters: a clock, a deadline, a rate limit, secret masking, snapshots.

The deadline
------------
A source that stops answering must not hold the store's harvest lock for long: one dataset's
fetch has a :class:`Deadline` (``OPENDATA_HARVEST_DATASET_TIMEOUT`` seconds, on the harvester's
clock). No request waits past it (its timeout is the smaller of ``OPENDATA_HTTP_TIMEOUT`` and the
time left), no retry backoff or rate-limit pause is begun that would end past it, and a body is
read in chunks with the deadline checked between them. Once it has passed, :class:`HarvestTimeout`
fails that dataset; the runner goes on with the next one. Parsing and writing are not covered:
they are local work, bounded by the size of the data, and a slow write is no hung source.

Offline snapshots
-----------------
An offline harvest reads the dataset's recorded responses from a folder (``spec.snapshot_dir``)
instead of the network. :func:`file_session` returns a ``requests.Session`` whose
:class:`FileAdapter` answers every ``http://`` and ``https://`` request with the file
``directory / snapshot_filename(params)``, so the harvester runs exactly the same code online and
offline. The file holds the raw body the source sent (a snapshot may add top-level keys of its
own, such as ``"_opendata": {...}`` provenance, which parsers ignore).

A snapshot's name is built from the request, never from the order of requests::

    <model>_<domain>_<var>_<th>[_<param>-<value>...].json

- ``model``: the ``model`` query parameter (``data``, ``th``, ``turvar``), or the URL's last path
  segment when there is none (``domain?type=all`` -> ``domain``);
- then ``domain``, ``var`` and ``th`` when present, in that order; in ``th`` a range colon becomes
  ``-`` and a list semicolon ``+`` (``123:125`` -> ``123-125``, ``119;124`` -> ``119+124``);
- then every other parameter, sorted by name, as ``name-value`` (``page-2``, ``turvar-434``);
- ``key`` and ``lang`` are left out; characters other than letters, digits, ``.``, ``+`` and
  ``-`` become ``-``.

Examples: ``list?model=data&domain=0000&var=543&th=123:125`` -> ``data_0000_543_123-125.json``;
``list?model=th&domain=0000&var=543`` -> ``th_0000_543.json`` (its second page
``th_0000_543_page-2.json``); ``list?model=turvar&domain=0000&var=543`` ->
``turvar_0000_543.json``. A missing file is answered with HTTP 404 and a body naming the file
looked for, so the harvest fails loudly instead of silently skipping a window.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

from harvesters.exceptions import HarvestTimeout

#: parameters that never name a snapshot (secrets, presentation)
IGNORED_PARAMS = frozenset({"key", "lang"})
#: parameters named first, in this order, without their name
LEADING_PARAMS = ("domain", "var", "th")
MIN_SECRET_LENGTH = 6
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]")
_KEY_IN_URL = re.compile(r"((?:[?&;/]|%3F|%26)key(?:=|/|%3D))[^&\s'\"/]*", re.IGNORECASE)


class Clock(Protocol):
    """What harvesters need of time: a monotonic reading and a way to wait."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (tests inject a fake one that never waits)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Deadline:
    """The moment one dataset's fetch must have ended by, on ``clock`` (see the module doc)."""

    SETTING = "OPENDATA_HARVEST_DATASET_TIMEOUT"

    def __init__(self, clock: Clock, seconds: float):
        self.clock = clock
        self.seconds = seconds  #: 0: no deadline
        self.ends = clock.monotonic() + seconds if seconds > 0 else None

    def left(self) -> float:
        """Seconds left (infinite without a deadline)."""
        return float("inf") if self.ends is None else self.ends - self.clock.monotonic()

    def check(self, doing: str, waiting: float = 0.0) -> None:
        """Raise HarvestTimeout if the deadline has passed, or would while ``waiting`` more."""
        if waiting >= self.left():
            raise HarvestTimeout(
                f"the fetch exceeded {self.SETTING}={self.seconds:g} s ({doing}): the source "
                "is slow or not answering; the served data stays as it was. Try again later, "
                f"or raise {self.SETTING}"
            )

    def timeout(self, limit: float, doing: str) -> float:
        """The timeout of a request: ``limit``, or the time left if that is less."""
        self.check(doing)
        return min(limit, self.left())


class RateLimiter:
    """Keep requests at most ``per_second`` apart on average, waiting on the given clock."""

    def __init__(self, clock: Clock, per_second: float):
        if per_second <= 0:
            raise ValueError("per_second must be greater than 0")
        self.clock = clock
        self.interval = 1.0 / per_second
        self._last: float | None = None

    def pause(self) -> float:
        """Seconds to wait before the next request may go out."""
        if self._last is None:
            return 0.0
        return max(0.0, self._last + self.interval - self.clock.monotonic())

    def wait(self) -> None:
        """Sleep until the next request may go out, then mark it as sent."""
        pause = self.pause()
        if pause > 0:
            self.clock.sleep(pause)
        self._last = self.clock.monotonic()


def mask_secret(text: str, secret: str | None) -> str:
    """Replace ``key=...`` values and every occurrence of ``secret`` in ``text`` with ``***``."""
    text = _KEY_IN_URL.sub(r"\1***", text)
    # A real key is long; a short one would mask innocent text ("k" in "key"), and wherever a
    # URL carries it the pattern above already masks it.
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
    return text


class MaskSecrets(logging.Filter):
    """A logging filter that masks ``key=...`` in every record of the logger it is added to.

    urllib3 logs each request line, query string included, at DEBUG level; BPS takes its key in
    the query string, so without this filter ``--log-level DEBUG`` would write the key to logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secret(message, None)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


#: the third-party loggers that write request URLs
URL_LOGGERS = ("urllib3.connectionpool",)


def mask_secrets_in_library_logs() -> None:
    """Add :class:`MaskSecrets` to the loggers of HTTP libraries that log URLs (once)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskSecrets) for f in logger.filters):
            logger.addFilter(MaskSecrets())


def snapshot_filename(params: Mapping[str, str]) -> str:
    """Return the snapshot file name of a request with these query parameters (see module doc)."""
    model = params.get("model")
    if not model:
        raise ValueError("a snapshot name needs the request's 'model' parameter")
    parts = [_safe(model)]
    for name in LEADING_PARAMS:
        if params.get(name):
            parts.append(_safe(params[name]))
    skip = IGNORED_PARAMS | set(LEADING_PARAMS) | {"model"}
    for name in sorted(n for n in params if n not in skip):
        parts.append(f"{_safe(name)}-{_safe(params[name])}")
    return "_".join(parts) + ".json"


def _safe(value: str) -> str:
    return _UNSAFE.sub("-", str(value).replace(":", "-").replace(";", "+"))


def request_params(url: str) -> dict[str, str]:
    """Return a URL's query parameters; ``model`` defaults to the URL's last path segment."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "model" not in params:
        segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
        params["model"] = segment or "index"
    return params


class FileAdapter(BaseAdapter):
    """Answer requests from snapshot files in ``directory`` (HTTP 404 naming a missing file)."""

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = Path(directory)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        name = snapshot_filename(request_params(request.url or ""))
        path = self.directory / name
        if path.is_file():
            body = path.read_bytes()
            sniff = body.lstrip()[:1]
            content_type = "text/html" if sniff == b"<" else "application/json"
            return build_response(request, 200, body, content_type)
        message = (
            f"no snapshot file {name} in {self.directory} (offline harvest): "
            "record this response there, or fix the dataset's years"
        )
        return build_response(request, 404, message.encode("utf-8"), "text/plain")

    def close(self) -> None:
        """Nothing to release: files are read whole and closed at once."""


def build_response(
    request: requests.PreparedRequest, status: int, body: bytes, content_type: str
) -> requests.Response:
    """Return a ``requests`` response to ``request`` with this status, body and content type."""
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    response = requests.Response()
    response.status_code = status
    response.reason = _REASONS.get(status, "")
    response.headers = CaseInsensitiveDict(headers)
    response.raw = HTTPResponse(
        body=io.BytesIO(body), headers=headers, status=status, preload_content=False
    )
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    return response


def file_session(directory: Path) -> requests.Session:
    """Return a session that answers every request from snapshot files in ``directory``."""
    session = requests.Session()
    adapter = FileAdapter(directory)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ExactNumber(str):
    """A JSON number's text, kept as it was written (``7.10`` stays ``7.10``)."""


def load_exact(text: str) -> Any:
    """Load JSON keeping each fractional number's exact text, to write it back unchanged."""
    return json.loads(text, parse_float=ExactNumber)


def dumps_exact(value: Any) -> str:
    """Write JSON loaded by :func:`load_exact` (or plain JSON values), numbers unchanged.

    Snapshot files and test fixtures are written with it, so their figures stay digit for digit
    those of the recorded responses.
    """
    if isinstance(value, ExactNumber):
        return str(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}:{dumps_exact(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps_exact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
