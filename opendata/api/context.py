"""What a request needs from the app: settings, its store connection, the data version, caches.

Harvests run in another process and bump the store's data version whenever they change what is
served. Each request reads that version once, with the random token renewed with it (see
``queries.data_state``); everything cached (whole responses, the region index, a dataset's
dimensions) is keyed by both, so a harvest is visible on the next request, and a store restored
from a backup is never taken for the one cached before. Each gunicorn worker has caches of its
own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache
from flask import current_app, g
from sqlalchemy import Connection, Engine

from opendata.config import Settings
from opendata.filters import require_dataset
from opendata.regions import RegionIndex
from opendata.store import queries

EXTENSION = "opendata"
DERIVED_CACHE_SIZE = 64


def _entry_size(entry: tuple[bytes, list]) -> int:
    """Bytes a cached response holds: its body and, roughly, its headers."""
    body, headers = entry
    return len(body) + sum(len(k) + len(v) for k, v in headers)


class VersionedCache:
    """A thread-safe LRU cache for one data version of the store; another version empties it.

    Versions are compared for equality, never order: a restored store may go back to an older
    version, or reach a number it had before with other data (its token then differs). Keys
    carry the version too, so a request that read another version (a harvest committed while it
    ran) never reads entries of the version it did not read.
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[Any], int] | None = None):
        self._cache: LRUCache | None = LRUCache(maxsize, getsizeof) if maxsize > 0 else None
        self._lock = threading.Lock()
        self._version: str | None = None

    def get(self, version: str, key: Hashable) -> Any:
        """The value cached for ``key`` at ``version``, or None."""
        if self._cache is None:
            return None
        with self._lock:
            return self._cache.get((version, key))

    def put(self, version: str, key: Hashable, value: Any) -> None:
        """Keep ``value`` for ``key`` at ``version``; entries of any other version are dropped."""
        if self._cache is None:
            return
        with self._lock:
            if version != self._version:
                self._cache.clear()
                self._version = version
            try:
                self._cache[version, key] = value
            except ValueError:  # larger than the whole cache
                pass

    def get_or_make(self, version: str, key: Hashable, make: Callable[[], Any]) -> Any:
        """The cached value, or ``make()`` kept for next time."""
        value = self.get(version, key)
        if value is None:
            value = make()
            self.put(version, key, value)
        return value

    def __len__(self) -> int:
        return 0 if self._cache is None else len(self._cache)


@dataclass
class ApiState:
    """The app's settings, store engine, caches and catalog status (``app.extensions``)."""

    settings: Settings
    engine: Engine
    catalog: Mapping[str, Any] | None = None  #: dataset id -> spec, if the catalog loaded
    catalog_error: str | None = None
    #: whole responses, by URL: this worker's, or shared through Redis (``shared_cache``)
    responses: Any = field(init=False)
    derived: VersionedCache = field(init=False)  #: region index, dataset dimensions

    max_body: int = field(init=False)  #: larger response bodies are not kept

    def __post_init__(self) -> None:
        # bounded in bytes, not entries: an 800-row page is 150 KB, a 10-row one 2 KB
        budget = int(self.settings.CACHE_MB * 1024 * 1024)
        self.max_body = budget // 8  # so that one URL cannot flush the cache
        self.responses = VersionedCache(budget, getsizeof=_entry_size)
        if self.settings.REDIS_URL:
            from opendata.api.shared_cache import SharedResponses

            self.responses = SharedResponses(
                self.responses, self.settings.REDIS_URL, self.settings.REDIS_TTL, self.max_body
            )
        self.derived = VersionedCache(DERIVED_CACHE_SIZE)


class SeriesDimensions(Mapping):
    """A dataset's {series id: {dimension: (code, label)}}, read again once if a series is missing.

    The cached copy belongs to the data version the request read first; a harvest that commits
    while the request runs may add series that its rows then show.
    """

    def __init__(self, known: Mapping, load: Callable[[], Mapping]):
        self._known, self._load, self._fresh = known, load, False

    def __getitem__(self, series_id: int) -> Mapping[str, tuple[str, str]]:
        try:
            return self._known[series_id]
        except KeyError:
            if self._fresh:
                raise
            self._known, self._fresh = self._load(), True
            return self._known[series_id]

    def __iter__(self):
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


@dataclass(frozen=True)
class DatasetMeta:
    """What serving a dataset's observations needs besides the rows."""

    dataset_id: str
    dimensions: tuple[queries.DimensionInfo, ...]
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]]
    regions: frozenset[str] = frozenset()  #: the regions with observations in the dataset
    ranges: bool = False  #: a target set: its values may be ranges (its CSV has ``value_to``)

    @property
    def slugs(self) -> list[str]:
        """The ids of the dataset's dimensions, in order."""
        return [d.slug for d in self.dimensions]

    def series_dimensions_on(self, conn: Connection) -> SeriesDimensions:
        """The series' dimension values, read again from ``conn`` if a series is missing."""
        return SeriesDimensions(
            self.series_dimensions, lambda: queries.series_dimensions(conn, self.dataset_id)
        )


def state() -> ApiState:
    """The current app's state."""
    return current_app.extensions[EXTENSION]


def connection() -> Connection:
    """The request's store connection: opened on first use, closed when the request ends."""
    if "store_conn" not in g:
        g.store_conn = state().engine.connect()
    return g.store_conn


def close_connection(_error: BaseException | None = None) -> None:
    """Give the request's connection back to the pool (a streamed response's at its end)."""
    conn = g.pop("store_conn", None)
    if conn is not None:
        conn.close()


def data_version() -> str:
    """The store's data version and token (``queries.data_state``), read once per request."""
    if "data_version" not in g:
        g.data_version = queries.data_state(connection())
    return g.data_version


def last_finished_run() -> str:
    """The latest finished harvest run, read once per request (it dates ``last_harvest``)."""
    if "last_finished_run" not in g:
        g.last_finished_run = queries.last_finished_run(connection())
    return g.last_finished_run


def region_index() -> RegionIndex:
    """The store's regions (reference and harvest-added) with every code system's aliases."""
    return state().derived.get_or_make(
        data_version(), "regions", lambda: queries.load_regions(connection())
    )


def dataset_meta(dataset_id: str) -> DatasetMeta:
    """A harvested dataset's dimensions and series; raise UnknownDataset if there is none."""

    def load() -> DatasetMeta:
        conn = connection()
        require_dataset(conn, dataset_id)
        return DatasetMeta(
            dataset_id,
            tuple(queries.dataset_dimensions(conn, dataset_id)),
            queries.series_dimensions(conn, dataset_id),
            queries.dataset_regions(conn, dataset_id),
            queries.serves_ranges(conn, dataset_id),
        )

    return state().derived.get_or_make(data_version(), ("dataset", dataset_id), load)


def utcnow() -> datetime:
    """The current time, naive UTC as the store keeps times (tests move it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def freshness() -> dict[str, Any]:
    """Each harvested dataset's freshness now (``opendata.freshness``), read once per request.

    The check interval comes from the catalog entry (``schedule``, ``frequency``) when the catalog
    loaded, else from the dataset's stored frequency. Not cached across requests: it changes
    with the clock, not only with the data (``versioned(fresh=True)`` keys on it).
    """
    if "freshness" not in g:
        from pathlib import Path

        from opendata.freshness import Checks
        from opendata.freshness import freshness as assess
        from opendata.model import DatasetSpec
        from opendata.store.checks import read_checks

        conn = connection()
        checks = read_checks(conn)
        catalog = state().catalog or {}
        now = utcnow()
        allowed = state().settings.STALE_AFTER_FAILURES
        g.freshness = {}
        for dataset_id, frequency in queries.dataset_frequencies(conn).items():
            spec = catalog.get(dataset_id) or DatasetSpec(
                dataset_id, {"id": dataset_id}, "", {}, Path(), frequency=frequency
            )
            g.freshness[dataset_id] = assess(spec, checks.get(dataset_id, Checks()), now, allowed)
    return g.freshness
