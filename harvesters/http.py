"""One GET of a file or document from a source other than BPS, with the shared conventions.

The conventions of :mod:`harvesters.transport` and the BPS client: a User-Agent
(``OPENDATA_HTTP_USER_AGENT``), a timeout per request (``OPENDATA_HTTP_TIMEOUT``, never past the
dataset's :class:`~harvesters.transport.Deadline`), retries with exponential backoff after a
5xx or 429 answer, a timeout or a dropped connection (``OPENDATA_HTTP_RETRIES``), the body read
in chunks with the deadline checked between them, and every body received, error pages
included, handed to ``keep`` before anything else happens.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from harvesters.exceptions import UpstreamError
from harvesters.transport import Deadline, mask_secret
from opendata.config import SETTINGS_BY_NAME
from opendata.model import Keep, Payload

log = logging.getLogger(__name__)

SETTING_NAMES = ("HTTP_USER_AGENT", "HTTP_TIMEOUT", "HTTP_RETRIES", "HARVEST_DATASET_TIMEOUT")
RETRY_STATUSES = frozenset({429})  #: retried like every 5xx answer
CHUNK_BYTES = 64 * 1024


def settings_of(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a GET reads, with their documented defaults."""
    return {
        name: settings[name] if name in settings else SETTINGS_BY_NAME[name].default_value()
        for name in SETTING_NAMES
    }


def get(
    url: str,
    *,
    session: requests.Session,
    settings: Mapping[str, Any],
    clock: Any,
    deadline: Deadline,
    keep: Keep,
    params: Mapping[str, str],
    accept: str = "*/*",
) -> Payload:
    """GET ``url``; keep every body; return the 2xx-3xx payload or raise UpstreamError."""
    options = settings_of(settings)
    retries = int(options["HTTP_RETRIES"])
    shown = mask_secret(url, None)
    problem = ""
    for attempt in range(retries + 1):
        payload, problem = _attempt(url, shown, session, options, deadline, params, accept)
        if payload is not None:
            keep(payload)
            if payload.status < 400:
                return payload
            if payload.status < 500 and payload.status not in RETRY_STATUSES:
                text = payload.body[:200].decode("utf-8", "replace").strip()
                raise UpstreamError(f"{shown} answered HTTP {payload.status}: {text!r}")
            problem = f"HTTP {payload.status}"
        if attempt < retries:
            delay = 2.0**attempt
            deadline.check(f"retrying {shown} after {problem}", waiting=delay)
            log.warning("%s for %s; retrying in %g s", problem, shown, delay)
            clock.sleep(delay)
    raise UpstreamError(f"{shown} failed with {problem} after {retries + 1} attempt(s)")


def _attempt(url, shown, session, options, deadline, params, accept):
    """One request: (the payload, "") or (None, why it failed)."""
    timeout = deadline.timeout(float(options["HTTP_TIMEOUT"]), f"asking {shown}")
    headers = {"User-Agent": str(options["HTTP_USER_AGENT"]), "Accept": accept}
    response = None
    try:
        response = session.get(url, headers=headers, timeout=timeout, stream=True)
        chunks = []
        for chunk in response.iter_content(CHUNK_BYTES):
            chunks.append(chunk)
            deadline.check(f"reading the answer of {shown}")
        return (
            Payload(
                url=shown,
                body=b"".join(chunks),
                status=response.status_code,
                content_type=response.headers.get("Content-Type", ""),
                fetched_at=datetime.now(UTC),
                params=dict(params),
            ),
            "",
        )
    except requests.Timeout:
        return None, f"no answer within {timeout:g} s (timeout)"
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        return None, f"a connection error ({mask_secret(str(exc), None)})"
    finally:
        if response is not None:
            response.close()
