"""BPS (Badan Pusat Statistik, Statistics Indonesia): dynamic tables of the BPS WebAPI.

One catalog dataset is one ``var`` (a dynamic table) on one ``domain`` (``0000`` national,
``6300`` a province, ``6371`` a kabupaten/kota)::

    source: bps
    bps: {domain: "0000", var: 2263, years: "2020-2024"}   # or 2024, "2020-", [2019, 2024]
    dimensions: {vervar: jenis_korban, turvar: harga}       # optional slug overrides

Fetching follows BPS's rules, each learned the hard way (see docs/harvesters.md):

- the key is a query parameter; it is masked (``key=***``) in logs, payload URLs and errors;
- BPS's firewall answers library User-Agents with a 403 HTML page: we send a browser-like one;
- ``th`` (years, coded year - 1900) is required and limited to 3 years a call on domain 0000 and
  2 elsewhere; an error naming a lower maximum shrinks the windows, a ``null`` body (a window too
  large to serve) splits the window in halves down to single years;
- open-ended years (``"2020-"``) end at the latest year ``list?model=th`` lists;
- ``list-not-available`` and an empty ``datacontent`` mean "no data", not an error;
- when a table has real columns, ``list?model=turvar`` names their group (``Jenis Kelamin``).

Decoding the tables is pure and lives in :mod:`harvesters.bps_decode` (with its label, period
and value readings in :mod:`harvesters.bps_labels`); offline snapshots, the rate limit and key
masking in :mod:`harvesters.transport`.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import requests

from harvesters import bps_decode
from harvesters.base import Harvester
from harvesters.exceptions import ParseError, SourceConfigurationError, UpstreamError
from harvesters.transport import (
    Deadline,
    RateLimiter,
    SystemClock,
    file_session,
    mask_secret,
    mask_secrets_in_library_logs,
)
from opendata.config import SETTINGS_BY_NAME
from opendata.exceptions import CatalogError
from opendata.model import Keep, ParseResult, Payload

if TYPE_CHECKING:
    from opendata.model import DatasetSpec
    from opendata.regions import RegionIndex

log = logging.getLogger(__name__)

#: the settings this harvester reads (names as in opendata/config.py, without the prefix)
SETTING_NAMES = (
    "BPS_BASE_URL",
    "BPS_API_KEY",
    "BPS_USER_AGENT",
    "BPS_REQUESTS_PER_SECOND",
    "HTTP_TIMEOUT",
    "HTTP_RETRIES",
    "HARVEST_DATASET_TIMEOUT",
)
QUERY_KEYS = frozenset({"domain", "var", "years"})
DIMENSION_KEYS = frozenset({"vervar", "turvar"})
FIRST_YEAR = 1900  #: BPS codes a year as year - 1900
LAST_YEAR = 2999
RETRY_STATUSES = frozenset({429})  #: retried like every 5xx answer
MAX_PAGES = 100  #: a guard against a list that never says it has ended
CHUNK_BYTES = 64 * 1024  #: a body is read in chunks of this size, the deadline checked between
_YEARS_RANGE = re.compile(r"^\s*(\d{4})\s*-\s*(\d{4})?\s*$")
_MAX_YEARS = re.compile(r"maximum allowed number of years[^0-9]*(\d+)", re.IGNORECASE)


# --- the catalog query ------------------------------------------------------------------------


@dataclass(frozen=True)
class BPSQuery:
    """A validated ``bps:`` catalog section."""

    domain: str
    var: int
    years: tuple[int, ...]  #: the years to harvest; empty when open-ended
    open_from: int | None = None  #: ``"2020-"``: from this year to the latest BPS lists

    def years_to(self, latest: int) -> tuple[int, ...]:
        """Return the years to harvest when BPS's latest year is ``latest``."""
        if self.open_from is None:
            return self.years
        return tuple(range(self.open_from, latest + 1))


def parse_query(spec: DatasetSpec) -> BPSQuery:
    """Validate a dataset's ``bps:`` section; raise CatalogError naming the file and key."""
    where = f"{spec.path}: bps"
    query = spec.query
    unknown = sorted(set(query) - QUERY_KEYS)
    if unknown:
        raise CatalogError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: domain, var, years)"
        )
    for key in sorted(QUERY_KEYS - set(query)):
        raise CatalogError(f"{where}.{key} is missing")
    bad_dims = sorted(set(spec.dimensions) - DIMENSION_KEYS)
    if bad_dims:
        raise CatalogError(
            f"{spec.path}: dimensions: unknown key(s) {', '.join(bad_dims)} for a BPS dataset "
            "(use vervar and/or turvar)"
        )
    domain = _domain(query["domain"], where)
    var = query["var"]
    if isinstance(var, bool) or not isinstance(var, int) or var <= 0:
        raise CatalogError(f"{where}.var must be a positive whole number (got {var!r})")
    years, open_from = _years(query["years"], f"{where}.years")
    return BPSQuery(domain, var, years, open_from)


def _domain(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}", value):
        return value
    raise CatalogError(
        f'{where}.domain must be a BPS domain of four digits, e.g. "0000" (Indonesia), '
        f'"6300" (a province) or "6371" (a kabupaten/kota); got {value!r}'
    )


def _year(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(f"{where}: {value!r} is not a year")
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise CatalogError(f"{where}: {value} is not a year BPS can serve ({FIRST_YEAR} or later)")
    return value


def _years(value: Any, where: str) -> tuple[tuple[int, ...], int | None]:
    help_text = 'use 2024, "2020-2024", "2020-" (to the latest) or a list [2019, 2024]'
    if isinstance(value, list):
        if not value:
            raise CatalogError(f"{where}: the list of years is empty; {help_text}")
        years = [_year(item, where) for item in value]
        if len(set(years)) != len(years):
            raise CatalogError(f"{where}: a year is listed twice in {value!r}")
        return tuple(sorted(years)), None
    if isinstance(value, str):
        match = _YEARS_RANGE.match(value)
        if match:
            first = _year(match.group(1), where)
            if match.group(2) is None:
                return (), first
            last = _year(match.group(2), where)
            if last < first:
                raise CatalogError(f"{where}: {value!r} runs backwards; {help_text}")
            return tuple(range(first, last + 1)), None
        if not value.strip().isdigit():
            raise CatalogError(f"{where}: {value!r} is not a year or a range; {help_text}")
    try:
        return (_year(value, where),), None
    except CatalogError as exc:
        raise CatalogError(f"{exc}; {help_text}") from None


# --- windows of years -------------------------------------------------------------------------


def max_years(domain: str) -> int:
    """Return how many years BPS serves in one call on this domain (3 national, 2 elsewhere)."""
    return 3 if domain == "0000" else 2


def windows(years: Sequence[int], size: int) -> list[tuple[int, ...]]:
    """Split sorted years into consecutive windows of at most ``size`` years."""
    return [tuple(years[i : i + size]) for i in range(0, len(years), size)]


def th_param(window: Sequence[int]) -> str:
    """Return BPS's ``th`` for a window: ``123:125`` when contiguous, else ``119;124``."""
    codes = [year - FIRST_YEAR for year in window]
    if len(codes) > 1 and codes[-1] - codes[0] == len(codes) - 1:
        return f"{codes[0]}:{codes[-1]}"
    return ";".join(str(code) for code in codes)


# --- talking to BPS ---------------------------------------------------------------------------


@dataclass
class Answer:
    """A BPS answer that did not fail: the payload and its decoded body."""

    payload: Payload
    body: Any


class BPSClient:
    """GET requests to the BPS WebAPI: key, User-Agent, rate limit, retries, deadline, errors."""

    def __init__(
        self,
        settings: Mapping[str, Any],
        session: requests.Session,
        clock: Any,
        rate_limited: bool = True,
        deadline: Deadline | None = None,
    ):
        self.base_url = str(settings["BPS_BASE_URL"]).rstrip("/")
        self.key = str(settings["BPS_API_KEY"] or "")
        self.user_agent = str(settings["BPS_USER_AGENT"])
        self.timeout = float(settings["HTTP_TIMEOUT"])
        self.retries = int(settings["HTTP_RETRIES"])
        self.session = session
        self.clock = clock
        self.deadline = deadline or Deadline(clock, 0)
        # snapshot files are not BPS's servers: an offline run need not wait between reads
        self.limiter = (
            RateLimiter(clock, float(settings["BPS_REQUESTS_PER_SECOND"])) if rate_limited else None
        )
        self._last_error = ""
        mask_secrets_in_library_logs()

    def mask(self, text: str) -> str:
        """Return ``text`` with the key masked."""
        return mask_secret(text, self.key)

    def get(self, params: Mapping[str, str], keep: Keep) -> Answer:
        """GET ``list`` with ``params``; keep every body; raise UpstreamError on a failure."""
        query = {**params, "lang": "ind"}
        if self.key:
            query["key"] = self.key
        url = f"{self.base_url}/list"
        masked = self.mask(requests.Request("GET", url, params=query).prepare().url or url)
        problem = ""
        for attempt in range(self.retries + 1):
            payload = self._send(url, query, masked, params, attempt)
            if payload is not None:
                keep(payload)
                if payload.status not in RETRY_STATUSES and payload.status < 500:
                    return Answer(payload, self._check(payload))
                problem = f"HTTP {payload.status}"
            else:
                problem = self._last_error
            if attempt < self.retries:
                delay = 2.0**attempt
                self.deadline.check(f"retrying {masked} after {problem}", waiting=delay)
                log.warning("BPS %s for %s; retrying in %g s", problem, masked, delay)
                self.clock.sleep(delay)
        raise UpstreamError(
            f"BPS failed with {problem} for {masked} after {self.retries + 1} attempt(s)"
        )

    def _send(
        self,
        url: str,
        query: Mapping[str, str],
        masked: str,
        params: Mapping[str, str],
        attempt: int,
    ) -> Payload | None:
        """One attempt: the payload received, or None (the reason in ``_last_error``)."""
        if self.limiter is not None:
            self.deadline.check(f"waiting to ask {masked}", waiting=self.limiter.pause())
            self.limiter.wait()
        timeout = self.deadline.timeout(self.timeout, f"asking {masked}")
        log.debug("GET %s (attempt %d)", masked, attempt + 1)
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        response = None
        try:
            response = self.session.get(
                url, params=query, headers=headers, timeout=timeout, stream=True
            )
            body = self._read(response, masked)
        except requests.Timeout:
            self._last_error = f"no answer within {timeout:g} s (timeout)"
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # ChunkedEncodingError: the connection dropped in the middle of the body
            self._last_error = f"a connection error ({self.mask(str(exc))})"
        else:
            return Payload(
                url=masked,
                body=body,
                status=response.status_code,
                content_type=response.headers.get("Content-Type", ""),
                fetched_at=datetime.now(UTC),
                params={**params, "lang": "ind"},
            )
        finally:
            if response is not None:
                response.close()
        return None

    def _read(self, response: requests.Response, masked: str) -> bytes:
        """The whole body, read in chunks: a source that trickles bytes meets the deadline too."""
        chunks = []
        for chunk in response.iter_content(CHUNK_BYTES):
            chunks.append(chunk)
            self.deadline.check(f"reading the answer to {masked}")
        return b"".join(chunks)

    def _check(self, payload: Payload) -> Any:
        """Return the decoded body of a non-5xx answer, or raise UpstreamError saying why not."""
        text = payload.body[:300].decode("utf-8", "replace").strip()
        looks_html = "html" in payload.content_type or text.startswith("<")
        if payload.status == 403 and looks_html:
            raise UpstreamError(
                f'BPS\'s firewall blocked the request (HTTP 403, "Perimeter WAF Block") for '
                f"{payload.url}: check OPENDATA_BPS_USER_AGENT (it must look like a browser)"
            )
        if payload.status >= 400:
            raise UpstreamError(
                f"BPS answered HTTP {payload.status} for {payload.url}: {self.mask(text)!r}"
            )
        try:
            body = bps_decode.load_json(payload.body)
        except ParseError:
            kind = payload.content_type or "no content type"
            raise UpstreamError(
                f"BPS answered a body that is not JSON ({kind}) for {payload.url}: "
                f"{self.mask(text[:120])!r}"
            ) from None
        if isinstance(body, Mapping) and str(body.get("status", "")).lower() == "error":
            message = str(body.get("message", ""))
            if _MAX_YEARS.search(message):
                return body  # the caller shrinks its windows
            text = error_text(self.mask(message), payload.url)
            if _KEY_PROBLEM.search(message):  # fixing it is the operator's job, not a retry's
                raise SourceConfigurationError(text)
            raise UpstreamError(text)
        return body


_KEY_PROBLEM = re.compile(r"re-check your key|not allowed|key is missing", re.IGNORECASE)


def error_text(message: str, url: str) -> str:
    """Return the UpstreamError text of a BPS ``status: Error`` message."""
    lowered = message.lower()
    if "re-check your key" in lowered or "not allowed" in lowered:
        return f"BPS rejected the API key (OPENDATA_BPS_API_KEY) for {url}: {message!r}"
    if "key is missing" in lowered:
        return f"BPS says the API key is missing (set OPENDATA_BPS_API_KEY) for {url}: {message!r}"
    if "'th'" in lowered:
        return f"BPS rejected the years (th) of {url}: {message!r}"
    return f"BPS answered an error for {url}: {message!r}"


# --- the harvester ----------------------------------------------------------------------------


class BPSHarvester(Harvester):
    """Dynamic tables (``list?model=data``) of the BPS WebAPI."""

    id: ClassVar[str] = "bps"
    title: ClassVar[str] = "BPS (Badan Pusat Statistik) WebAPI"
    url: ClassVar[str] = "https://webapi.bps.go.id"
    version: ClassVar[str] = "3"  # bump when the same payloads would parse differently

    def __init__(
        self,
        settings: Mapping[str, Any],
        session: Any = None,
        clock: Any = None,
        offline: bool = False,
    ):
        super().__init__(settings, session=session, clock=clock or SystemClock(), offline=offline)
        self._decoded: dict[int, tuple[Payload, Any]] = {}

    @classmethod
    def validate_spec(cls, spec: DatasetSpec) -> None:
        """Check the ``bps:`` section of a catalog entry; raise CatalogError saying why."""
        parse_query(spec)

    def _settings(self) -> dict[str, Any]:
        """Return the settings this harvester reads, with the documented defaults."""
        return {
            name: self.settings[name]
            if name in self.settings
            else SETTINGS_BY_NAME[name].default_value()
            for name in SETTING_NAMES
        }

    def fetch(self, spec: DatasetSpec, keep: Keep) -> list[Payload]:
        """Fetch every window of the dataset's years; keep every body; return those to parse."""
        query = parse_query(spec)
        settings = self._settings()
        if not self.offline and not settings["BPS_API_KEY"]:
            raise SourceConfigurationError(
                "the BPS API key is empty: set OPENDATA_BPS_API_KEY to your key of the BPS "
                "WebAPI (register at webapi.bps.go.id), or harvest offline"
            )
        if self.offline:
            session, owned = file_session(spec.snapshot_dir), True
        elif self.session is not None:
            session, owned = self.session, False
        else:
            session, owned = requests.Session(), True
        try:
            # one dataset's fetch may not outlast this, however slow or silent BPS is
            deadline = Deadline(self.clock, float(settings["HARVEST_DATASET_TIMEOUT"]))
            client = BPSClient(
                settings, session, self.clock, rate_limited=not self.offline, deadline=deadline
            )
            fetched = _Fetch(client, query, keep, spec.dimensions).run()
        finally:
            if owned:
                session.close()
        # fetch had to decode each body to check it: parse reuses those (a large table takes
        # a tenth of a second to decode); payloads parsed later, e.g. from the store, are decoded
        self._decoded = {id(payload): (payload, body) for payload, body in fetched}
        return [payload for payload, _ in fetched]

    def parse(
        self, spec: DatasetSpec, payloads: Sequence[Payload], regions: RegionIndex
    ) -> ParseResult:
        """Decode the payloads of one dataset; pure, stable and offline."""
        query = parse_query(spec)
        decoded, self._decoded = self._decoded, {}
        bodies = []
        for payload in payloads:
            entry = decoded.get(id(payload))
            bodies.append(entry[1] if entry and entry[0] is payload else bps_decode.UNDECODED)
        return bps_decode.decode(
            query.domain, query.var, spec.dimensions, payloads, regions, bodies
        )


class _Fetch:
    """One dataset's fetch: th discovery, windows, shrinking, splitting, the turvar list."""

    def __init__(
        self, client: BPSClient, query: BPSQuery, keep: Keep, dimensions: Mapping[str, str]
    ):
        self.client = client
        self.query = query
        self.keep = keep
        self.dimensions = dimensions
        self.base = {"domain": query.domain, "var": str(query.var)}

    def run(self) -> list[tuple[Payload, Any]]:
        """Return the payloads to parse, each with its decoded body."""
        years = self.query.years
        if self.query.open_from is not None:
            latest = self.latest_year()
            years = self.query.years_to(latest) if latest is not None else ()
            if not years:
                log.info(
                    "BPS lists no year from %d on for var %s on domain %s: no data",
                    self.query.open_from,
                    self.query.var,
                    self.query.domain,
                )
                return []
        payloads = self.data(list(years))
        # The group name only names the column dimension: not needed when the catalog does.
        named = "turvar" in self.dimensions
        if not named and any(bps_decode.has_columns(body) for _, body in payloads):
            answer = self.client.get({"model": "turvar", **self.base}, self.keep)
            payloads.append((answer.payload, answer.body))
        return payloads

    def latest_year(self) -> int | None:
        """Return the latest year ``list?model=th`` lists for the var, paging to the end."""
        years: list[int] = []
        page = 1
        while page <= MAX_PAGES:
            params = {"model": "th", **self.base}
            if page > 1:
                params["page"] = str(page)
            body = self.client.get(params, self.keep).body
            if not isinstance(body, Mapping) or body.get("data-availability") != "available":
                break
            meta, items = _page(body)
            years.extend(_th_year(item) for item in items)
            if page >= int(meta.get("pages") or 1):
                break
            page += 1
        return max(years) if years else None

    def data(self, years: list[int]) -> list[tuple[Payload, Any]]:
        """Fetch the years in windows, shrinking on BPS's maximum and splitting on null."""
        size = max_years(self.query.domain)
        queue = deque(windows(years, size))
        found: list[tuple[Payload, Any]] = []
        while queue:
            window = queue.popleft()
            params = {"model": "data", **self.base, "th": th_param(window)}
            answer = self.client.get(params, self.keep)
            body = answer.body
            if body is None:
                queue.extendleft(reversed(self._split(window, answer.payload)))
            elif isinstance(body, Mapping) and str(body.get("status")).lower() == "error":
                size = self._shrink(window, size, body, answer.payload)
                queue = deque(windows([y for w in (window, *queue) for y in w], size))
            else:
                found.append((answer.payload, body))
        return found

    def _split(self, window: tuple[int, ...], payload: Payload) -> list[tuple[int, ...]]:
        if len(window) == 1:
            raise UpstreamError(
                f"BPS answered null (a window too large to serve) even for the single year "
                f"{window[0]}: {payload.url}"
            )
        half = (len(window) + 1) // 2
        log.info("BPS answered null for %s: splitting the window in halves", payload.url)
        return [window[:half], window[half:]]

    def _shrink(
        self, window: tuple[int, ...], size: int, body: Mapping[str, Any], payload: Payload
    ) -> int:
        message = str(body.get("message", ""))
        allowed = int(_MAX_YEARS.search(message).group(1))  # type: ignore[union-attr]
        if allowed < 1 or allowed >= len(window):
            raise UpstreamError(
                f"BPS says at most {allowed} year(s) per call, but refused {len(window)} "
                f"for {payload.url}: {message!r}"
            )
        log.warning(
            "BPS allows at most %d year(s) per call on domain %s (%r): asking in windows of %d",
            allowed,
            self.query.domain,
            message,
            allowed,
        )
        return min(size, allowed)


def _page(body: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[Any]]:
    data = body.get("data")
    if (
        not isinstance(data, list)
        or len(data) < 2
        or not isinstance(data[0], Mapping)
        or not isinstance(data[1], list)
    ):
        raise UpstreamError(f"BPS answered a list that is not [page info, items]: {data!r:.200}")
    return data[0], data[1]


def _th_year(item: Any) -> int:
    if isinstance(item, Mapping):
        text = str(item.get("th", "")).strip()
        if text.isdigit():
            return int(text)
        if str(item.get("th_id", "")).isdigit():
            return int(item["th_id"]) + FIRST_YEAR
    raise UpstreamError(f"BPS listed a year that is not one: {item!r}")
