"""``/metrics``: what the app did and what the store holds, in Prometheus' text format.

Counted by prometheus_client, the Prometheus project's own library:

- ``opendata_http_requests_total{method, route, status}`` and the latency histogram
  ``opendata_http_request_duration_seconds{method, route}``, measured around the whole WSGI
  response, so that a streamed CSV counts until its last byte. ``route`` is the URL rule
  (``/api/v1/datasets/<dataset_id>/observations``), never the path a client typed, and an
  unknown method is ``other``: the number of series is bounded by the app, not by its clients.
- ``opendata_response_cache_lookups_total{result="hit"|"miss"}``: the response cache.

Read from the store at each scrape (a few grouped queries on the run log, as ``opendata
status`` makes): ``opendata_store_up``, ``opendata_data_version``, and per dataset the end and
status of its last harvest, its last successful check and its failures since.

Under gunicorn each worker counts in files of ``PROMETHEUS_MULTIPROC_DIR`` (set up by
``gunicorn.conf.py``) and any worker's ``/metrics`` adds up all of them; without it (tests,
``flask run``) the process counts in memory. Only clients of ``OPENDATA_METRICS_NETWORKS`` may
read it (loopback and private networks by default): route names and counts are no secret, but
no business of the public either.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

from flask import Flask, Response, request, request_started
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wsgi import ClosingIterator

from opendata.api.context import ApiState
from opendata.api.errors import problem
from opendata.store import queries
from opendata.store import schema as t

#: the WSGI environ key under which a request's URL rule is kept for the middleware
ROUTE = "opendata.metrics.route"
UNMATCHED = "(unmatched)"
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
#: seconds: a cached page is ~1 ms, an uncached one 5-50 ms, a whole CSV up to seconds
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: the statuses a finished run can end with (``opendata.store.runs``)
RUN_STATUSES = ("ok", "unchanged", "no-data", "failed", "interrupted")


def multiprocess_dir() -> str | None:
    """The folder where gunicorn's workers count (``PROMETHEUS_MULTIPROC_DIR``), if any."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The app's counters, in a registry of its own (several apps may live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "opendata_http_requests",
            "HTTP requests answered, by method, URL rule and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "opendata_http_request_duration_seconds",
            "Time from a request's arrival to its response's last byte, by method and URL rule.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.cache = Counter(
            "opendata_response_cache_lookups",
            "Lookups of the response cache: hit (served from memory) or miss.",
            ["result"],
            registry=self.registry,
        )

    def observe(self, environ: dict, status: str, seconds: float) -> None:
        """Count one answered request."""
        method = environ.get("REQUEST_METHOD", "")
        method = method if method in METHODS else "other"
        route = environ.get(ROUTE) or UNMATCHED
        self.requests.labels(method, route, status).inc()
        self.duration.labels(method, route).observe(seconds)


class InstrumentedApp:
    """WSGI middleware timing each response until its body is closed (streams included)."""

    def __init__(self, wsgi_app: Callable, metrics: Metrics):
        self.wsgi_app = wsgi_app
        self.metrics = metrics

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = perf_counter()
        status = ["500"]

        def recording_start_response(line: str, headers: list, exc_info: Any = None):
            status[0] = line[:3]
            return start_response(line, headers, exc_info)

        def done() -> None:
            self.metrics.observe(environ, status[0], perf_counter() - started)

        try:
            body = self.wsgi_app(environ, recording_start_response)
        except BaseException:
            done()
            raise
        return ClosingIterator(body, done)


class CountingCache:
    """The response cache, counting hits and misses of its lookups; otherwise the same."""

    def __init__(self, cache: Any, counter: Counter):
        self._cache = cache
        self._hits = counter.labels("hit")
        self._misses = counter.labels("miss")

    def get(self, version: str, key: Any) -> Any:
        """The cached value (None: a miss), counted."""
        value = self._cache.get(version, key)
        (self._misses if value is None else self._hits).inc()
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)

    def __len__(self) -> int:
        return len(self._cache)


def _timestamp(moment: datetime | None) -> float | None:
    """Seconds since the epoch of a naive UTC time, as the store keeps them."""
    return None if moment is None else moment.replace(tzinfo=UTC).timestamp()


def _last_runs(conn: Connection) -> dict[str, tuple[str, datetime]]:
    """Each dataset's last finished harvest run: its status and end (reparses not counted)."""
    from opendata.store.runs import REPARSE_BATCH

    run = t.harvest_run
    latest = (
        select(func.max(run.c.id).label("id"))
        .where(run.c.finished_at.is_not(None), run.c.batch.not_like(f"{REPARSE_BATCH}%"))
        .group_by(run.c.dataset_id)
        .subquery()
    )
    rows = conn.execute(
        select(run.c.dataset_id, run.c.status, run.c.finished_at).join(
            latest, run.c.id == latest.c.id
        )
    )
    return {row.dataset_id: (row.status, row.finished_at) for row in rows}


class StoreCollector:
    """Gauges read from the store when Prometheus scrapes: data version, harvests per dataset."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """The store's gauges; ``opendata_store_up 0`` alone when the store does not answer."""
        from opendata.store.checks import read_checks

        up = GaugeMetricFamily("opendata_store_up", "1 when the store answered this scrape.")
        try:
            with self.engine.connect() as conn:
                version = queries.data_version(conn)
                runs = _last_runs(conn)
                checks = read_checks(conn)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "opendata_data_version",
            "The store's data version: bumped by every harvest that changes what is served.",
            value=version,
        )
        yield from _dataset_gauges(runs, checks)


def _dataset_gauges(runs: dict, checks: dict) -> Iterator[Metric]:
    finished = GaugeMetricFamily(
        "opendata_dataset_last_harvest_timestamp_seconds",
        "End of the dataset's last finished harvest run, whatever its status.",
        labels=["dataset"],
    )
    status = GaugeMetricFamily(
        "opendata_dataset_last_harvest_status",
        "1 for the status of the dataset's last finished harvest run, 0 for the others.",
        labels=["dataset", "status"],
    )
    checked = GaugeMetricFamily(
        "opendata_dataset_last_check_timestamp_seconds",
        "End of the dataset's last harvest that reached its source (ok, unchanged, no-data).",
        labels=["dataset"],
    )
    failures = GaugeMetricFamily(
        "opendata_dataset_harvest_failures",
        "Harvests of the dataset that failed (or were interrupted) since its last check.",
        labels=["dataset"],
    )
    for dataset_id, (last_status, finished_at) in sorted(runs.items()):
        finished.add_metric([dataset_id], _timestamp(finished_at))
        for each in RUN_STATUSES:
            status.add_metric([dataset_id, each], 1 if each == last_status else 0)
    for dataset_id, check in sorted(checks.items()):
        if check.last_checked is not None:
            checked.add_metric([dataset_id], _timestamp(check.last_checked))
        failures.add_metric([dataset_id], check.failures)
    yield from (finished, status, checked, failures)


def _allowed(address: str | None, networks: tuple[str, ...]) -> bool:
    """Whether a client at ``address`` may read the metrics."""
    if networks == ("*",):
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(network) for network in networks)


def _request_metrics(metrics: Metrics) -> bytes:
    """The request counters: every worker's (multiprocess files), or this process's."""
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(metrics.registry)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=folder)
    return generate_latest(registry)


def init_metrics(app: Flask, api_state: ApiState) -> None:
    """Count requests and cache lookups, and serve ``/metrics`` (see the module)."""
    networks = api_state.settings.METRICS_NETWORKS
    if not networks:
        return
    metrics = Metrics()
    api_state.responses = CountingCache(api_state.responses, metrics.cache)
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(api_state.engine))
    app.wsgi_app = InstrumentedApp(app.wsgi_app, metrics)  # type: ignore[method-assign]

    def remember_route(sender: Flask, **_extra: Any) -> None:
        rule = request.url_rule
        request.environ[ROUTE] = rule.rule if rule is not None else UNMATCHED

    request_started.connect(remember_route, app, weak=False)

    def metrics_view() -> Response:
        """The metrics in Prometheus' text format, to clients of OPENDATA_METRICS_NETWORKS."""
        if not _allowed(request.remote_addr, networks):
            return problem(
                403,
                "/metrics is served to the networks of OPENDATA_METRICS_NETWORKS only",
            )
        body = _request_metrics(metrics) + generate_latest(store)
        response = Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
