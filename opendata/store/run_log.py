"""Read the harvest run log: runs, newest first, what each fetched, and the bodies as they came.

The API's ``/runs`` resource and ``opendata runs`` read runs here. Nothing here writes; the
runner writes the log (:mod:`opendata.store.runs`). Timestamps are kept as naive UTC in both
stores and handed out aware (UTC).

Only what the store keeps masked is handed out: a fetch's URL (its key replaced by ``***`` by
the harvester) and never its ``params`` nor any header.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from opendata.store import schema as t

#: every status a run can have, in the order a run goes through them
STATUSES = ("running", "ok", "unchanged", "no-data", "failed", "interrupted")


@dataclass(frozen=True)
class RunInfo:
    """One harvest run of one dataset."""

    id: int
    dataset_id: str
    batch: str  #: one ``opendata harvest`` invocation
    started_at: datetime
    finished_at: datetime | None  #: None while running
    status: str
    offline: bool
    added: int
    changed: int  #: observations revised
    unchanged: int
    withdrawn: int
    error: str | None
    messages: tuple[str, ...]  #: the log, one message a line


@dataclass(frozen=True)
class FetchInfo:
    """One request a run made and the body it got (stored once per sha256)."""

    sha256: str
    url: str  #: with secrets masked, as stored
    status: int  #: the HTTP status
    fetched_at: datetime
    content_type: str | None
    size: int


@dataclass
class RunQuery:
    """Filters and the page of a run listing; an empty filter keeps everything."""

    dataset_id: str | None = None
    statuses: Sequence[str] = ()
    before: int | None = None  #: only runs older than (with ids below) this one
    limit: int | None = None


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _run(row) -> RunInfo:
    return RunInfo(
        id=row.id,
        dataset_id=row.dataset_id,
        batch=row.batch,
        started_at=_utc(row.started_at),
        finished_at=_utc(row.finished_at),
        status=row.status,
        offline=bool(row.offline),
        added=row.added,
        changed=row.changed,
        unchanged=row.unchanged,
        withdrawn=row.withdrawn,
        error=row.error,
        messages=tuple((row.log or "").splitlines()),
    )


def list_runs(conn: Connection, query: RunQuery) -> list[RunInfo]:
    """Runs matching ``query``, newest (highest id) first: a page of at most ``limit``."""
    run = t.harvest_run
    statement = select(run).order_by(run.c.id.desc())
    if query.dataset_id is not None:
        statement = statement.where(run.c.dataset_id == query.dataset_id)
    if query.statuses:
        statement = statement.where(run.c.status.in_(sorted(set(query.statuses))))
    if query.before is not None:
        statement = statement.where(run.c.id < query.before)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return [_run(row) for row in conn.execute(statement)]


def get_run(conn: Connection, run_id: int) -> RunInfo | None:
    """The run ``run_id``, or None."""
    row = conn.execute(select(t.harvest_run).where(t.harvest_run.c.id == run_id)).first()
    return None if row is None else _run(row)


def _fetches(run_id: int):
    return (
        select(
            t.raw_payload.c.sha256,
            t.fetch.c.url,
            t.fetch.c.status,
            t.fetch.c.fetched_at,
            t.raw_payload.c.content_type,
            t.raw_payload.c.size,
        )
        .join(t.raw_payload, t.raw_payload.c.id == t.fetch.c.payload_id)
        .where(t.fetch.c.run_id == run_id)
        .order_by(t.fetch.c.id)
    )


def _fetch(row) -> FetchInfo:
    return FetchInfo(
        row.sha256, row.url, row.status, _utc(row.fetched_at), row.content_type, row.size
    )


def run_fetches(conn: Connection, run_id: int) -> list[FetchInfo]:
    """What run ``run_id`` fetched, in fetch order: one item per request (a body may repeat)."""
    return [_fetch(row) for row in conn.execute(_fetches(run_id))]


def run_payload(conn: Connection, run_id: int, sha256: str) -> FetchInfo | None:
    """The first fetch of run ``run_id`` that got the body ``sha256``; None if it got none."""
    row = conn.execute(_fetches(run_id).where(t.raw_payload.c.sha256 == sha256).limit(1)).first()
    return None if row is None else _fetch(row)


def payload_body(conn: Connection, sha256: str) -> bytes:
    """The body with this sha256, exactly as it came (the store keeps it compressed)."""
    body = conn.execute(
        select(t.raw_payload.c.body).where(t.raw_payload.c.sha256 == sha256)
    ).scalar_one()
    return zlib.decompress(body)
