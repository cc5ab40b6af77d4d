"""SDMX: SDMX-ML 2.1, SDMX-JSON and SDMX-CSV messages from a file, a URL or an SDMX web service.

One catalog dataset is one data message (one flow and key), its areas mapped to regions::

    source: sdmx
    sdmx:
      path: files/u5mr.sdmx.csv            # or  url: https://...
                                           # or  source: UNICEF, flow: CME, key: ..., params: {...}
      structure: files/cme.structure.xml   # optional: the DSD and codelists (labels)
      region: {dimension: REF_AREA, map: {IDN: "0000"}}   # or {code: "6300"}
      indicator: {dimension: INDICATOR}    # or {code: u5mr, name: ..., unit: ...}
      dimensions: [SEX]                    # or [{dimension: SEX, id: jenis_kelamin, label: ...}]
      select: {WEALTH_QUINTILE: _T}        # keep only these codes

Fetching: a ``path`` is read from the catalog folder; a ``url`` is fetched with ``requests``; a
``source`` is one of sdmx1's web services, whose request URLs sdmx1 builds (``dry_run``) and we
send, so that every body is kept and tests never touch the network. An offline harvest answers
URLs from the dataset's snapshot folder (:func:`harvesters.transport.file_session`). Parsing is
pure: :mod:`harvesters.sdmx_read` reads each format, :mod:`harvesters.sdmx_decode` makes records.

sdmx1 (and pandas) are imported inside the functions that harvest, never when the catalog loader
imports this module to validate an entry.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import requests

from harvesters.base import Harvester
from harvesters.exceptions import ParseError, UpstreamError
from harvesters.sdmx_decode import Decoder
from harvesters.sdmx_query import SDMXQuery, parse_query
from harvesters.sdmx_read import (
    is_structure_message,
    read_csv,
    read_json,
    read_structure,
    read_xml,
    sniff,
)
from harvesters.transport import Deadline, SystemClock, file_session
from opendata.config import SETTINGS_BY_NAME
from opendata.model import Keep, ParseResult, Payload

if TYPE_CHECKING:
    from opendata.model import DatasetSpec
    from opendata.regions import RegionIndex

log = logging.getLogger(__name__)

SETTING_NAMES = ("HTTP_TIMEOUT", "HTTP_RETRIES", "HARVEST_DATASET_TIMEOUT")
USER_AGENT = "opendata-kalsel/0.1 (SDMX harvester; sdmx1)"
ACCEPT = {
    "xml": "application/vnd.sdmx.structurespecificdata+xml;version=2.1, "
    "application/vnd.sdmx.genericdata+xml;version=2.1, application/xml;q=0.9",
    "json": "application/vnd.sdmx.data+json;version=1.0.0, application/json;q=0.9",
    "csv": "application/vnd.sdmx.data+csv;version=1.0.0, text/csv;q=0.9",
    None: "*/*",
}
RETRY_STATUSES = frozenset({429})  #: retried like every 5xx answer
CHUNK_BYTES = 64 * 1024
_NO_RESULTS = re.compile(rb"no\s*results|no\s*records|norecordsfound|no data", re.IGNORECASE)


# --- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    role: str  #: data | structure
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


class _HTTP:
    """GET requests: User-Agent, timeout, retries of 5xx/429/errors, the dataset's deadline."""

    def __init__(self, session: requests.Session, settings: Mapping[str, Any], clock: Any):
        self.session = session
        self.clock = clock
        self.timeout = float(settings["HTTP_TIMEOUT"])
        self.retries = int(settings["HTTP_RETRIES"])
        self.deadline = Deadline(clock, float(settings["HARVEST_DATASET_TIMEOUT"]))

    def get(self, request: _Request, keep: Keep) -> Payload:
        problem = ""
        for attempt in range(self.retries + 1):
            payload, problem = self._send(request)
            if payload is not None:
                keep(payload)
                if payload.status not in RETRY_STATUSES and payload.status < 500:
                    return payload
            if attempt < self.retries:
                delay = 2.0**attempt
                self.deadline.check(f"retrying {request.url} after {problem}", waiting=delay)
                log.warning("SDMX %s for %s; retrying in %g s", problem, request.url, delay)
                self.clock.sleep(delay)
        raise UpstreamError(
            f"the SDMX source failed with {problem} for {request.url} after "
            f"{self.retries + 1} attempt(s)"
        )

    def _send(self, request: _Request) -> tuple[Payload | None, str]:
        timeout = self.deadline.timeout(self.timeout, f"asking {request.url}")
        headers = {"User-Agent": USER_AGENT, **request.headers}
        response = None
        try:
            response = self.session.get(request.url, headers=headers, timeout=timeout, stream=True)
            chunks = []
            for chunk in response.iter_content(CHUNK_BYTES):
                chunks.append(chunk)
                self.deadline.check(f"reading the answer to {request.url}")
            body = b"".join(chunks)
        except requests.Timeout:
            return None, f"no answer within {timeout:g} s (timeout)"
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            return None, f"a connection error ({exc})"
        finally:
            if response is not None:
                response.close()
        payload = Payload(
            url=request.url,
            body=body,
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            fetched_at=datetime.now(UTC),
            params={"role": request.role},
        )
        return payload, f"HTTP {response.status_code}"


def _service_requests(query: SDMXQuery) -> list[_Request]:
    """The requests of an sdmx1 web service's flow: its structure (if asked), then its data."""
    import sdmx  # noqa: PLC0415 - heavy (pandas); only where harvesting happens

    with requests.Session() as session:  # only prepares requests (dry_run); sends nothing
        client = sdmx.Client(query.source, session=session)
        wanted = []
        if query.fetch_structure:
            wanted.append(
                (
                    "structure",
                    {
                        "resource_type": "dataflow",
                        "resource_id": query.flow,
                        "params": {"references": "all"},
                    },
                )
            )
        data = {"resource_type": "data", "resource_id": query.flow, "params": dict(query.params)}
        if query.key:
            data["key"] = query.key
        wanted.append(("data", data))
        found = []
        for role, kwargs in wanted:
            try:
                prepared = client.get(dry_run=True, **kwargs)
            except (ValueError, KeyError, NotImplementedError) as exc:
                raise ParseError(
                    f"sdmx1 cannot build the {role} request of {query.source} {query.flow}: {exc}"
                ) from exc
            headers = {
                k: v
                for k, v in prepared.headers.items()
                if k.lower() not in {"user-agent", "connection", "accept-encoding"}
            }
            found.append(_Request(role, prepared.url or "", headers))
        return found


# --- the harvester ----------------------------------------------------------------------------


class SDMXHarvester(Harvester):
    """SDMX data messages (SDMX-ML 2.1, SDMX-JSON, SDMX-CSV): files, URLs, sdmx1 web services."""

    id: ClassVar[str] = "sdmx"
    title: ClassVar[str] = "SDMX (Statistical Data and Metadata eXchange)"
    url: ClassVar[str] = "https://sdmx.org"
    version: ClassVar[str] = "1"  # bump when the same payloads would parse differently

    @classmethod
    def validate_spec(cls, spec: DatasetSpec) -> None:
        """Check the ``sdmx:`` section of a catalog entry; raise CatalogError saying why."""
        parse_query(spec)

    def _settings(self) -> dict[str, Any]:
        return {
            name: self.settings[name]
            if name in self.settings
            else SETTINGS_BY_NAME[name].default_value()
            for name in SETTING_NAMES
        }

    def fetch(self, spec: DatasetSpec, keep: Keep) -> list[Payload]:
        """Read or fetch the structure (if any), then the data; keep every body."""
        query = parse_query(spec)
        requests_: list[_Request | tuple[str, str]] = []
        if query.structure:
            requests_.append(self._location("structure", query.structure))
        if query.source:
            requests_ += _service_requests(query)
        else:
            requests_.append(self._location("data", query.path or query.url or "", query.format))
        payloads = []
        http = None
        session, owned = None, False
        try:
            for request in requests_:
                if isinstance(request, tuple):
                    payloads.append(self._read_file(spec, *request, keep))
                    continue
                if http is None:
                    session, owned = self._session(spec)
                    http = _HTTP(session, self._settings(), self.clock or SystemClock())
                payload = http.get(request, keep)
                self._check(payload, request)
                payloads.append(payload)
        finally:
            if owned and session is not None:
                session.close()
        return payloads

    def _location(
        self, role: str, where: str, fmt: str | None = None
    ) -> _Request | tuple[str, str]:
        if where.startswith(("http://", "https://")):
            accept = ACCEPT["xml"] if role == "structure" else ACCEPT[fmt]
            return _Request(role, where, {"Accept": accept})
        return (role, where)

    def _session(self, spec: DatasetSpec) -> tuple[requests.Session, bool]:
        if self.offline:
            return file_session(spec.snapshot_dir), True
        if self.session is not None:
            return self.session, False
        return requests.Session(), True

    def _read_file(self, spec: DatasetSpec, role: str, where: str, keep: Keep) -> Payload:
        path = spec.path.parent / where
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise UpstreamError(
                f"{spec.path}: sdmx: cannot read {where} (relative to the catalog file's "
                f"folder): {exc.strerror or exc}"
            ) from None
        payload = Payload(
            url=where,
            body=body,
            status=200,
            content_type={"xml": "application/xml", "json": "application/json"}.get(
                sniff(body), "text/csv"
            ),
            fetched_at=datetime.now(UTC),
            params={"role": role},
        )
        keep(payload)
        return payload

    def _check(self, payload: Payload, request: _Request) -> None:
        if payload.status == 404 and request.role == "data" and not self.offline:
            if _NO_RESULTS.search(payload.body[:2000]):
                return  # SDMX REST: 404 "No Results Found" is a query without data
        if payload.status >= 400:
            text = payload.body[:300].decode("utf-8", "replace").strip()
            raise UpstreamError(
                f"the SDMX source answered HTTP {payload.status} for {payload.url}: {text!r}"
            )
        # by the body: offline snapshots are served as text/html whenever they start with "<"
        head = payload.body[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            raise UpstreamError(
                f"the SDMX source answered an HTML page, not an SDMX message, for {payload.url}: "
                f"{payload.body[:120].decode('utf-8', 'replace')!r}"
            )

    def parse(
        self, spec: DatasetSpec, payloads: Sequence[Payload], regions: RegionIndex
    ) -> ParseResult:
        """Read the payloads' messages and decode them; pure, stable and offline."""
        query = parse_query(spec)
        structure = None
        data = []
        for payload in payloads:
            role = payload.params.get("role") or (
                "structure" if is_structure_message(payload.body) else "data"
            )
            if role == "structure":
                structure = read_structure(payload.body, payload.url)
            else:
                data.append(payload)
        messages = []
        for payload in data:
            if payload.status == 404:
                return ParseResult(
                    messages=[
                        f"the SDMX source has no data for {payload.url} (HTTP 404, no results)"
                    ],
                    no_data=True,
                )
            message = self._read(payload, query.format, structure)
            message.apply(structure)
            messages.append((message, payload.url))
        return Decoder(query, regions, str(spec.path)).decode(messages)

    @staticmethod
    def _read(payload: Payload, declared: str | None, structure: Any) -> Any:
        found = sniff(payload.body)
        if declared and declared != found:
            raise ParseError(
                f"{payload.url}: sdmx.format says {declared}, but the body reads as {found}: "
                f"{payload.body[:80].decode('utf-8', 'replace')!r}"
            )
        if found == "xml":
            return read_xml(payload.body, structure, payload.url)
        if found == "json":
            return read_json(payload.body, payload.url)
        return read_csv(payload.body, payload.url)
