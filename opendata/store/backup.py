"""A consistent copy of a SQLite store while it serves and harvests (``opendata db backup``).

Copying the file with ``cp`` while a harvest writes can copy half a transaction, and misses what
still sits in the write-ahead log. SQLite's online backup API copies every page inside one read
transaction: the copy is the store as one instant saw it, with the WAL folded in, and neither
the API's readers nor a running harvest wait for it. PostgreSQL has its own tools (``pg_dump
-Fc``, ``pg_restore``: ``docs/operations.md``).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from opendata.exceptions import ConfigurationError


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite store; ConfigurationError for another kind of store."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ConfigurationError(
            "`opendata db backup` copies a SQLite store; back up PostgreSQL with "
            "`pg_dump -Fc` (see docs/operations.md, Backups)"
        )
    return Path(url.database).expanduser().resolve()


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy the store to ``target`` (replaced at once, never left half-written); its size.

    The copy is a plain rollback-journal database: one self-contained file, readable by any
    ``sqlite3``, whose first open as a store turns WAL on again.
    """
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise ConfigurationError(f"no store at {source_path}: nothing to back up")
    target = target.expanduser().resolve()
    if target == source_path:
        raise ConfigurationError("the backup would overwrite the store itself: name another file")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            with copy:
                source.backup(copy)  # every page in one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target.stat().st_size
