"""The harvest run log and the raw payloads: what ran, when, what it fetched and how it ended.

Each function takes a ``Connection`` in the caller's transaction. A run's row is written when it
starts and finished when it ends; payloads are kept as they come, so they survive a failed run
and can be parsed again offline (:func:`load_payloads`).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from opendata.model import Payload
from opendata.store import schema as t
from opendata.store.writer import WriteCounts

#: how the batch id of ``opendata reparse`` runs begins (they parse stored payloads, offline)
REPARSE_BATCH = "reparse-"


def utcnow() -> datetime:
    """Now in UTC, without tzinfo (both stores keep naive UTC timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(conn: Connection, batch: str, dataset_id: str, offline: bool) -> int:
    return conn.execute(
        insert(t.harvest_run).values(
            batch=batch,
            dataset_id=dataset_id,
            started_at=utcnow(),
            status="running",
            offline=offline,
            added=0,
            changed=0,
            unchanged=0,
            withdrawn=0,
        )
    ).inserted_primary_key[0]


#: what an interrupted run's error says
INTERRUPTED = (
    "interrupted: the harvest process ended before this run finished (killed, or the machine "
    "stopped); nothing of it was written but its fetched payloads. Found by the next run at {at} "
    "UTC (its finished_at)."
)


def mark_interrupted(conn: Connection) -> list[int]:
    """Mark ``interrupted`` every run still ``running``; return their ids.

    Call it only while holding the harvest lock: then no run is really running, and those rows
    are left from a process that died (SIGKILL, power loss) before it could finish them.
    """
    run = t.harvest_run
    ids = list(conn.execute(select(run.c.id).where(run.c.status == "running")).scalars())
    if ids:
        now = utcnow()
        error = INTERRUPTED.format(at=now.strftime("%Y-%m-%d %H:%M:%S"))
        conn.execute(
            update(run)
            .where(run.c.id.in_(ids))
            .values(status="interrupted", finished_at=now, error=error)
        )
    return ids


def finish_run(
    conn: Connection,
    run_id: int,
    status: str,
    counts: WriteCounts | None = None,
    error: str | None = None,
    messages: Sequence[str] = (),
    fingerprint: str | None = None,
) -> None:
    counts = counts or WriteCounts()
    conn.execute(
        update(t.harvest_run)
        .where(t.harvest_run.c.id == run_id)
        .values(
            finished_at=utcnow(),
            status=status,
            added=counts.added,
            changed=counts.changed,
            unchanged=counts.unchanged,
            withdrawn=counts.withdrawn,
            error=error,
            log="\n".join(messages) or None,
            fingerprint=fingerprint,
        )
    )


def unchanged_since(conn: Connection, dataset_id: str, fingerprint: str) -> int | None:
    """If the dataset's last good run parsed exactly this, how many observations it wrote."""
    last = conn.execute(
        select(t.harvest_run)
        .where(
            t.harvest_run.c.dataset_id == dataset_id,
            t.harvest_run.c.status.in_(("ok", "unchanged")),
        )
        .order_by(t.harvest_run.c.id.desc())
        .limit(1)
    ).first()
    if last is None or last.fingerprint != fingerprint:
        return None
    return last.added + last.changed + last.unchanged


def last_run_with_payloads(conn: Connection, dataset_id: str) -> int | None:
    """The dataset's latest good run (``ok`` or ``unchanged``) that kept payloads, if any."""
    run = t.harvest_run
    return conn.execute(
        select(run.c.id)
        .where(
            run.c.dataset_id == dataset_id,
            run.c.status.in_(("ok", "unchanged")),
            select(t.fetch.c.id).where(t.fetch.c.run_id == run.c.id).exists(),
        )
        .order_by(run.c.id.desc())
        .limit(1)
    ).scalar()


def mark_harvested(conn: Connection, dataset_id: str, run_id: int) -> None:
    """Record ``run_id`` as the dataset's last successful harvest."""
    conn.execute(update(t.dataset).where(t.dataset.c.id == dataset_id).values(last_run_id=run_id))


def save_payload(conn: Connection, run_id: int, payload: Payload) -> int:
    """Keep a fetched body (stored once per content hash) and the fetch that brought it."""
    digest = hashlib.sha256(payload.body).hexdigest()
    payload_id = conn.execute(
        select(t.raw_payload.c.id).where(t.raw_payload.c.sha256 == digest)
    ).scalar()
    if payload_id is None:
        payload_id = conn.execute(
            insert(t.raw_payload).values(
                sha256=digest,
                content_type=payload.content_type,
                size=len(payload.body),
                body=zlib.compress(payload.body, 1),  # fast; JSON still shrinks ~10x
                first_fetched_at=payload.fetched_at.replace(tzinfo=None),
            )
        ).inserted_primary_key[0]
    conn.execute(
        insert(t.fetch).values(
            run_id=run_id,
            payload_id=payload_id,
            url=payload.url,
            params=json.dumps(dict(payload.params), sort_keys=True),
            status=payload.status,
            fetched_at=payload.fetched_at.replace(tzinfo=None),
        )
    )
    return payload_id


def load_payloads(conn: Connection, run_id: int) -> list[Payload]:
    """The payloads a run fetched, in fetch order, ready to be parsed again offline."""
    query = (
        select(t.fetch, t.raw_payload.c.body, t.raw_payload.c.content_type)
        .join(t.raw_payload, t.raw_payload.c.id == t.fetch.c.payload_id)
        .where(t.fetch.c.run_id == run_id)
        .order_by(t.fetch.c.id)
    )
    return [
        Payload(
            url=row.url,
            body=zlib.decompress(row.body),
            status=row.status,
            content_type=row.content_type or "",
            fetched_at=row.fetched_at.replace(tzinfo=UTC),
            params=json.loads(row.params),
        )
        for row in conn.execute(query)
    ]
