"""Checksums of whole-dataset downloads, made when a harvest changes a dataset.

A client that downloads a dataset's whole CSV (``observations.csv`` with no filter) can check
that it got all of it, byte for byte: the dataset's JSON publishes the CSV's SHA-256, size and
row count, and the download itself says them in ``Repr-Digest`` and ``X-Total-Count``.

The harvest runner calls :func:`refresh` in the transaction that writes the dataset, so the
checksum and the data it describes are committed together; it writes the CSV with the very
code the API streams it with, and hashes it chunk by chunk (constant memory). A change to what
the CSV writer writes must bump :data:`CSV_FORMAT_VERSION` (a test pins the bytes): a stored
checksum of the old format is then never published, and the next harvest of each dataset
(even one that changes nothing) makes a new one.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from sqlalchemy import Connection

from opendata.formats.csv import write_csv
from opendata.store import downloads, queries

#: the version of the CSV writer's output: bump it when a change alters the CSV's bytes
CSV_FORMAT_VERSION = 1
CSV = "csv"


def whole_csv(conn: Connection, dataset_id: str, rows: Iterable) -> Iterator[str]:
    """The text chunks of the dataset's CSV of ``rows`` (all of them: as ``observations.csv``
    serves it with no filter)."""
    dimensions = [d.slug for d in queries.dataset_dimensions(conn, dataset_id)]
    series = queries.series_dimensions(conn, dataset_id)
    return write_csv(dataset_id, dimensions, rows, series, queries.serves_ranges(conn, dataset_id))


def measure(conn: Connection, dataset_id: str, now: Callable[[], datetime]) -> downloads.Download:
    """Write the dataset's whole CSV into a hash: its SHA-256, bytes and data rows."""
    counted = [0]

    def rows():
        for row in queries.iter_observations(conn, queries.ObservationQuery(dataset_id)):
            counted[0] += 1
            yield row

    digest, size = hashlib.sha256(), 0
    for chunk in whole_csv(conn, dataset_id, rows()):
        data = chunk.encode("utf-8")
        digest.update(data)
        size += len(data)
    return downloads.Download(digest.hexdigest(), size, counted[0], now())


def refresh(conn: Connection, dataset_id: str) -> bool:
    """Make the dataset's CSV checksum if it has no current one; True if it made one."""
    if downloads.current(conn, dataset_id, CSV, CSV_FORMAT_VERSION) is not None:
        return False
    made = measure(conn, dataset_id, lambda: datetime.now(UTC))
    downloads.put(conn, dataset_id, CSV, CSV_FORMAT_VERSION, made)
    return True


def current_csv(conn: Connection, dataset_id: str) -> downloads.Download | None:
    """The published checksum of the dataset's whole CSV, if it is current."""
    return downloads.current(conn, dataset_id, CSV, CSV_FORMAT_VERSION)


def repr_digest(download: downloads.Download) -> str:
    """``sha-256=:<base64>:``: the RFC 9530 ``Repr-Digest`` field value."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(download.sha256)).decode()}:"
