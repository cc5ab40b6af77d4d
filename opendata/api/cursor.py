"""Opaque pagination cursors: the keyset of the last row served, bound to the query's filters.

A cursor is the URL-safe base64 of ``[region code, series id, period start, period end, digest]``
where the digest is a hash of the filters that produced it, so a cursor replayed with other
filters is refused instead of silently skipping or repeating rows. The page size may change
between pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date

from opendata.filters import FilterError
from opendata.store.queries import ObservationQuery

PARAM = "cursor"
MAX_ID = 2**31 - 1  #: the largest id the stores' integer columns hold


def filters_digest(query: ObservationQuery) -> str:
    """A short hash of the query's filters (not of its position or page size)."""
    canonical = json.dumps(
        [
            query.dataset_id,
            sorted(set(query.regions)),
            query.start.isoformat() if query.start else None,
            query.end.isoformat() if query.end else None,
            sorted((slug, sorted(set(codes))) for slug, codes in query.dimensions.items()),
        ]
    )
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def encode_cursor(keyset: tuple, digest: str) -> str:
    """The cursor that resumes after the row with ``keyset``."""
    region_code, series_id, start, end = keyset
    raw = json.dumps(
        [region_code, series_id, start.isoformat(), end.isoformat(), digest],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, digest: str) -> tuple:
    """The keyset in ``cursor``; raise FilterError if it is not one of ours for these filters."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        region_code, series_id, start, end, cursor_digest = json.loads(raw)
        keyset = (region_code, series_id, date.fromisoformat(start), date.fromisoformat(end))
        if not isinstance(region_code, str) or type(series_id) is not int:
            raise ValueError("wrong types")
        if not 0 <= series_id <= MAX_ID:
            raise ValueError("no such series")
    except (ValueError, TypeError, binascii.Error):
        raise FilterError(
            PARAM, "not a cursor of this API; use the 'next' link of a page as it is"
        ) from None
    if cursor_digest != digest:
        raise FilterError(
            PARAM,
            "this cursor belongs to other filters; keep the filters of the page that gave it, "
            "or drop the cursor to start from the first page",
        )
    return keyset
