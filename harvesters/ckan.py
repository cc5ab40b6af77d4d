"""CKAN "Satu Data" portals: one resource's DataStore table, or else its file, read as a table.

Provinces and kabupaten/kota publish tables on CKAN portals. One catalog entry is one resource::

    source: ckan
    ckan:
      url: https://data.example.go.id      # the portal (see :func:`action_base` for its forms)
      resource_id: d9fbaddb-4995-4dd1-bd93-d2732998e3ac
      page_size: 1000                      # optional: rows asked of each datastore_search
      sheet: Tabel                         # optional, for the resource's file (no DataStore):
      delimiter: ";"                       #   as in spreadsheet: (harvesters/spreadsheet.py)
      encoding: utf-8
    table: {...}                           # how to read it: harvesters/table_spec.py

Fetching, each rule for a reason real portals gave (docs/harvesters.md, "CKAN"):

- ``resource_show`` comes first: it tells a resource that does not exist (the portal's message)
  from one whose DataStore is not active, and gives the file's ``url`` and ``last_modified``;
- ``datastore_search`` is paged by ``offset``, sorted by ``_id`` (without ``sort`` PostgreSQL
  may return rows in any order, and offset paging would skip or repeat some), until ``offset``
  reaches ``total``. ``offset`` grows by the rows actually received: a portal may serve fewer
  rows than asked (its ``rows_max``), and its ``_links.next`` is present even past the end, so
  it is never followed;
- a ``total`` or ``fields`` that changes between pages means the table changed while we read it
  (a DataStore reload empties and refills it): the run fails and the next one reads it again. An
  estimated total (``total_was_estimated``) cannot bound the paging and fails too. An empty table
  (``total`` 0) is "no data": the served figures stay as they were;
- ``success: false`` bodies fail with the portal's own message; an HTML page (a proxy's 502, a
  login or maintenance page) fails with its title; 5xx answers, timeouts and dropped connections
  are retried (:mod:`harvesters.ckan_portal`), within the dataset's deadline, at most
  ``OPENDATA_CKAN_REQUESTS_PER_SECOND`` requests a second;
- a resource without an active DataStore is read from its file (``resource_show`` -> ``url``):
  XLSX or CSV by the spreadsheet reader, or JSON records (a portal's "download as JSON");
- offline, every request is answered from the dataset's snapshot folder
  (:class:`~harvesters.ckan_portal.Snapshots`).

Parse is pure: the kept bodies in, a :class:`~harvesters.table.Grid` whose first row is the field
ids (in the fields' order; ``_id`` is ignored by the reader as an undeclared column) and whose
cells are the records' values as sent (a JSON number keeps its text: ``8002269316.91``, ``164.43``;
a ``text`` field's numbers are read by the table's ``decimal``), then the shared table reader.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

import requests

from harvesters import http
from harvesters.base import Harvester
from harvesters.ckan_portal import PortalClient, Snapshots, action_result
from harvesters.ckan_query import CKANQuery, action_base, parse_query
from harvesters.ckan_records import datastore_grid, file_grid, search_page
from harvesters.exceptions import ParseError, UpstreamError
from harvesters.table import read_table
from harvesters.transport import RateLimiter, SystemClock
from opendata.config import SETTINGS_BY_NAME
from opendata.model import Keep, ParseResult, Payload

if TYPE_CHECKING:
    from opendata.model import DatasetSpec
    from opendata.regions import RegionIndex

__all__ = ["CKANHarvester", "action_base", "parse_query"]

log = logging.getLogger(__name__)

RATE_SETTING = "CKAN_REQUESTS_PER_SECOND"


class CKANHarvester(Harvester):
    """A CKAN resource: its DataStore table (``datastore_search``), or else its file."""

    id: ClassVar[str] = "ckan"
    title: ClassVar[str] = "CKAN portals (Satu Data)"
    version: ClassVar[str] = "2"  # bump when the same payloads would parse differently (2: ranges)

    def __init__(
        self,
        settings: Mapping[str, Any],
        session: Any = None,
        clock: Any = None,
        offline: bool = False,
    ):
        super().__init__(settings, session=session, clock=clock or SystemClock(), offline=offline)

    @classmethod
    def validate_spec(cls, spec: DatasetSpec) -> None:
        """Check the ``ckan:`` and ``table:`` sections; raise CatalogError saying why."""
        parse_query(spec)

    def _settings(self) -> dict[str, Any]:
        settings = http.settings_of(self.settings)
        settings[RATE_SETTING] = self.settings.get(
            RATE_SETTING, SETTINGS_BY_NAME[RATE_SETTING].default_value()
        )
        return settings

    def fetch(self, spec: DatasetSpec, keep: Keep) -> list[Payload]:
        """Ask for the resource, then its DataStore pages or its file; keep every body."""
        query, _table = parse_query(spec)
        settings = self._settings()
        if self.offline:
            session, owned = requests.Session(), True
            adapter = Snapshots(spec.snapshot_dir, query.api)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        elif self.session is not None:
            session, owned = self.session, False
        else:
            session, owned = requests.Session(), True
        try:
            # snapshot files are not a portal: an offline run need not wait between reads
            limiter = None if self.offline else RateLimiter(self.clock, settings[RATE_SETTING])
            client = PortalClient(query, settings, session, self.clock, keep, limiter)
            return _Fetch(client, query).run()
        finally:
            if owned:
                session.close()

    def parse(
        self, spec: DatasetSpec, payloads: Sequence[Payload], regions: RegionIndex
    ) -> ParseResult:
        """Read the resource's table from its payloads; pure, stable and offline."""
        query, table = parse_query(spec)
        by_action: dict[str, list[Payload]] = {}
        for payload in payloads:
            by_action.setdefault(payload.params.get("action", ""), []).append(payload)
        shown = by_action.get("resource_show", [])
        resource = action_result(shown[0]) if shown else {}
        where = resource_page(query, resource)
        pages = by_action.get("datastore_search", [])
        files = by_action.get("download", [])
        if pages:
            grid, messages, total = datastore_grid(pages, where)
            if total == 0:
                return ParseResult(
                    messages=[f"{where}: the DataStore table is empty (total 0): no data"],
                    no_data=True,
                )
        elif files:
            grid, messages = file_grid(files[0], query)
        else:
            raise ParseError(f"{where}: no DataStore page and no file among the payloads")
        result = read_table(grid, table, regions)
        result.messages[:0] = messages
        updated = _timestamp(resource.get("last_modified") or resource.get("metadata_modified"))
        for indicator in result.indicators:
            indicator.source_ref = where
            indicator.source_last_update = indicator.source_last_update or updated
        return result


def resource_page(query: CKANQuery, resource: Mapping[str, Any]) -> str:
    """The resource's page on the portal (its package's page, when resource_show named it)."""
    package = resource.get("package_id")
    if isinstance(package, str) and package:
        return f"{query.portal}/dataset/{package}/resource/{query.resource_id}"
    return f"{query.portal}/resource/{query.resource_id}"


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def datastore_active(resource: Mapping[str, Any]) -> bool:
    """Whether ``resource_show`` says the resource has a DataStore table.

    ``true`` since CKAN 2.3; older portals kept it as a resource extra, the text ``"True"``.
    Absent (older still), the resource is read from its file.
    """
    value = resource.get("datastore_active")
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class _Fetch:
    """One resource's fetch: resource_show, then the DataStore's pages or the file."""

    def __init__(self, client: PortalClient, query: CKANQuery):
        self.client = client
        self.query = query

    def run(self) -> list[Payload]:
        shown, resource = self.client.action("resource_show", {"id": self.query.resource_id})
        if datastore_active(resource):
            return [shown, *self.pages()]
        url = resource.get("url")
        if not isinstance(url, str) or not url.strip():
            raise UpstreamError(
                f"resource {self.query.resource_id} on {self.query.portal} has no active "
                "DataStore and no file (its url is empty): there is nothing to read"
            )
        url = urljoin(self.query.portal + "/", url.strip())
        log.info("resource %s has no active DataStore: reading its file", self.query.resource_id)
        download = self.client.get(url, {"action": "download", "url": url}, "*/*")
        return [shown, download]

    def pages(self) -> list[Payload]:
        """Every page of the DataStore table, ``offset`` on by the rows each page held."""
        payloads: list[Payload] = []
        first: tuple[list[str], int] | None = None
        offset = 0
        while True:
            params = {
                "resource_id": self.query.resource_id,
                "limit": str(self.query.page_size),
                "offset": str(offset),
                "sort": "_id",
            }
            payload, result = self.client.action("datastore_search", params)
            fields, records, total = search_page(result, payload)
            if result.get("total_was_estimated") is True:
                raise UpstreamError(
                    f"{payload.url}: the portal estimated the table's total ({total}) instead of "
                    "counting it, so the paging has no end to trust"
                )
            if first is None:
                first = (fields, total)
            else:
                self._unchanged(first, (fields, total), offset, payload)
            payloads.append(payload)
            offset += len(records)
            if offset >= total:
                break
            if not records:
                raise UpstreamError(
                    f"{payload.url} answered no records at offset {offset}, but the table's "
                    f"total is {total}"
                )
        if offset > total:
            raise UpstreamError(
                f"the portal served {offset} records of resource {self.query.resource_id}, more "
                f"than its total of {total}: the table changed while it was read; the next run "
                "reads it again"
            )
        return payloads

    def _unchanged(
        self,
        first: tuple[list[str], int],
        now: tuple[list[str], int],
        offset: int,
        payload: Payload,
    ) -> None:
        changed = []
        if now[1] != first[1]:
            changed.append(
                f"its total was {first[1]} on the first page, {now[1]} at offset {offset}"
            )
        if now[0] != first[0]:
            changed.append(f"its fields were {first[0]}, then {now[0]} at offset {offset}")
        if changed:
            raise UpstreamError(
                f"resource {self.query.resource_id} changed while it was read ("
                + "; ".join(changed)
                + f", {payload.url}); nothing was stored, the next run reads it again"
            )
