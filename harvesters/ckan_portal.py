"""Talking to a CKAN portal: its actions and files, every body kept, failures in its own words.

One GET is :func:`harvesters.http.get` (User-Agent, timeout, retries of 5xx/429 answers, timeouts
and dropped connections with backoff, the dataset's deadline, every body kept), after the
portal's rate limit (``OPENDATA_CKAN_REQUESTS_PER_SECOND``). What a portal says when it gives no
data is turned into the run's message (:func:`portal_message`):

- CKAN's error bodies, ``{"success": false, "error": {"__type": "Not Found Error", "message":
  "Not found: Resource was not found."}}`` (HTTP 404, 403, 409, sometimes 200), by their message,
  or by their fields for a validation error (``{"limit": ["Invalid integer"]}``);
- HTML pages (a proxy's 502, a maintenance or login page, a site that is no CKAN) by their title.

Offline, :class:`Snapshots` answers each request from a file of the dataset's snapshot folder.
"""

from __future__ import annotations

import json
import mimetypes
import posixpath
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import requests
from requests.adapters import BaseAdapter

from harvesters import http
from harvesters.ckan_query import CKANQuery
from harvesters.exceptions import HarvestTimeout, UpstreamError
from harvesters.transport import Deadline, RateLimiter, build_response, load_exact, mask_secret
from opendata.model import Keep, Payload


class _Titles(HTMLParser):
    """The text of an HTML page's ``<title>`` and first ``<h1>``."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("title", "h1") and tag not in self.texts:
            self._open = tag
            self.texts[tag] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts[self._open] += data


def looks_html(payload: Payload) -> bool:
    head = payload.body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" in payload.content_type.lower() or head.startswith((b"<!doctype", b"<html"))


def page_title(body: bytes) -> str:
    """What an HTML page says it is: its title (or first heading), spacing collapsed."""
    parser = _Titles()
    parser.feed(body[:20000].decode("utf-8", "replace"))
    text = parser.texts.get("title") or parser.texts.get("h1") or ""
    return " ".join(text.split())[:200]


def portal_message(payload: Payload) -> str:
    """What the portal says in an answer that is not data: its error message, or a page's title.

    A CKAN error is ``{"success": false, "error": {"__type": ..., "message": ...}}``; a
    validation error names fields instead of a message (``{"limit": ["Invalid integer"]}``).
    """
    if looks_html(payload):
        title = page_title(payload.body)
        return f"an HTML page{f' titled {title!r}' if title else ''}"
    try:
        body = json.loads(payload.body)
    except ValueError:
        text = " ".join(payload.body[:300].decode("utf-8", "replace").split())
        return repr(text) if text else "an empty body"
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        message = error.get("message")
        if not message:
            details = [f"{k}: {_joined(v)}" for k, v in error.items() if k != "__type"]
            message = "; ".join(details) or str(error.get("__type") or "an error")
        kind = error.get("__type")
        return repr(f"{kind}: {message}" if kind and kind not in str(message) else str(message))
    return repr(" ".join(payload.body[:300].decode("utf-8", "replace").split()))


def _joined(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class PortalClient:
    """GETs to one portal: its actions and its files, every body kept, errors in its words."""

    def __init__(
        self,
        query: CKANQuery,
        settings: Mapping[str, Any],
        session: requests.Session,
        clock: Any,
        keep: Keep,
        limiter: RateLimiter | None,
    ):
        self.query = query
        self.settings = settings
        self.session = session
        self.clock = clock
        self.keep = keep
        self.limiter = limiter
        self.deadline = Deadline(clock, float(settings["HARVEST_DATASET_TIMEOUT"]))

    def action(self, name: str, params: Mapping[str, str]) -> tuple[Payload, dict[str, Any]]:
        """Call an action; return its payload and its ``result``, or raise saying why not."""
        url = f"{self.query.api}/{name}?{urlencode(params)}"
        payload = self.get(url, {"action": name, **params}, "application/json")
        return payload, action_result(payload)

    def get(self, url: str, params: Mapping[str, str], accept: str) -> Payload:
        """GET ``url`` (rate, retries, deadline); keep every body; fail in the portal's words."""
        shown = mask_secret(url, None)
        if self.limiter is not None:
            self.deadline.check(f"waiting to ask {shown}", waiting=self.limiter.pause())
            self.limiter.wait()
        answers: list[Payload] = []

        def keep(payload: Payload) -> None:
            answers.append(payload)
            self.keep(payload)

        try:
            payload = http.get(
                url,
                session=self.session,
                settings=self.settings,
                clock=self.clock,
                deadline=self.deadline,
                keep=keep,
                params=params,
                accept=accept,
            )
        except HarvestTimeout:
            raise
        except UpstreamError as exc:
            if not answers:
                raise  # no answer at all: timeouts or connection errors, said by http.get
            last = answers[-1]
            if last.status >= 500 or last.status == 429:
                raise UpstreamError(f"{exc}; the last answer was {portal_message(last)}") from None
            raise UpstreamError(self._refused(last, params)) from None
        if looks_html(payload) and accept == "application/json":
            raise UpstreamError(
                f"{payload.url} answered {portal_message(payload)} instead of CKAN's JSON: is "
                f"ckan.url ({self.query.url}) the portal's address? (its action API was asked "
                f"at {self.query.api})"
            )
        return payload

    def _refused(self, payload: Payload, params: Mapping[str, str]) -> str:
        message = portal_message(payload)
        text = f"the portal answered HTTP {payload.status} for {payload.url}: {message}"
        if payload.status == 404 and params.get("action") == "resource_show":
            return f"{text}; check ckan.resource_id ({self.query.resource_id}) and ckan.url"
        if payload.status in (401, 403):
            return f"{text}; the resource is not public (this harvester reads public resources)"
        return text


def action_result(payload: Payload) -> dict[str, Any]:
    """The ``result`` of a CKAN action's answer; raise UpstreamError with the portal's message."""
    try:
        body = load_exact(payload.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise UpstreamError(
            f"{payload.url} answered {portal_message(payload)}, not CKAN's JSON"
        ) from None
    if not isinstance(body, Mapping) or body.get("success") is not True:
        raise UpstreamError(f"the portal refused {payload.url}: {portal_message(payload)}")
    result = body.get("result")
    if not isinstance(result, Mapping):
        raise UpstreamError(f"{payload.url} answered success without a result object")
    return dict(result)


# --- offline snapshots ------------------------------------------------------------------------


def snapshot_name(url: str, api: str) -> str:
    """The snapshot file that answers ``url`` offline (docs/harvesters.md, "CKAN").

    ``resource_show.json``; ``datastore_search_offset-<n>.json`` for each page; the resource's
    file by the name its URL ends with (``.../download/ppk.xlsx`` -> ``ppk.xlsx``).
    """
    parts = urlsplit(url)
    if url.startswith(api + "/"):
        action = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if action == "datastore_search":
            offset = dict(parse_qsl(parts.query, keep_blank_values=True)).get("offset", "0")
            return f"datastore_search_offset-{_safe(offset)}.json"
        return f"{_safe(action)}.json"
    return _safe(posixpath.basename(unquote(parts.path))) or "index"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", "-", text)


class Snapshots(BaseAdapter):
    """Answer a portal's requests from a snapshot folder's files (404 naming a missing one)."""

    def __init__(self, directory: Path, api: str):
        super().__init__()
        self.directory = Path(directory)
        self.api = api

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        name = snapshot_name(request.url or "", self.api)
        path = self.directory / name
        if path.is_file():
            body = path.read_bytes()
            head = body.lstrip()[:1]
            if head == b"<":
                content_type = "text/html"
            elif head in (b"{", b"["):
                content_type = "application/json"
            else:
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return build_response(request, 200, body, content_type)
        message = (
            f"no snapshot file {name} in {self.directory} (offline harvest): record this "
            "response there"
        )
        return build_response(request, 404, message.encode("utf-8"), "text/plain")

    def close(self) -> None:
        """Nothing to release: files are read whole and closed at once."""
