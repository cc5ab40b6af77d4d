"""The checksums of whole-dataset downloads: kept by the harvest, read by the API.

A row describes one dataset's whole download of one kind (``csv``: the long CSV with no filter)
as it was when the data last changed: its SHA-256, size in bytes and number of data rows. It is
current while the dataset's ``changed_run_id`` is the row's and its ``format_version`` is the
writer's; :func:`current` hands out no other, so a stale checksum is never published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from opendata.store import schema as t


@dataclass(frozen=True)
class Download:
    """What a client checks a whole download against."""

    sha256: str  #: hex
    bytes: int
    rows: int
    made_at: datetime


def current(conn: Connection, dataset_id: str, kind: str, format_version: int) -> Download | None:
    """The checksum of the dataset's download as it is now, or None if there is none."""
    d = t.download
    row = conn.execute(
        select(d.c.sha256, d.c.bytes, d.c.rows, d.c.made_at)
        .join(t.dataset, t.dataset.c.id == d.c.dataset_id)
        .where(
            d.c.dataset_id == dataset_id,
            d.c.kind == kind,
            d.c.format_version == format_version,
            d.c.changed_run_id.is_not_distinct_from(t.dataset.c.changed_run_id),
        )
    ).first()
    if row is None:
        return None
    return Download(row.sha256, row.bytes, row.rows, row.made_at.replace(tzinfo=UTC))


def put(
    conn: Connection, dataset_id: str, kind: str, format_version: int, download: Download
) -> None:
    """Keep ``download`` as the dataset's current one, made at its data's last change."""
    changed = (
        select(t.dataset.c.changed_run_id).where(t.dataset.c.id == dataset_id).scalar_subquery()
    )
    d = t.download
    conn.execute(delete(d).where(d.c.dataset_id == dataset_id, d.c.kind == kind))
    conn.execute(
        insert(d).values(
            dataset_id=dataset_id,
            kind=kind,
            format_version=format_version,
            changed_run_id=changed,
            sha256=download.sha256,
            bytes=download.bytes,
            rows=download.rows,
            made_at=download.made_at.astimezone(UTC).replace(tzinfo=None),
        )
    )


def forget_all(conn: Connection) -> None:
    """Drop every checksum: something every download shows has changed (region names)."""
    conn.execute(delete(t.download))
