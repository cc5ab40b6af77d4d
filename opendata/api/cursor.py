"""Opaque pagination cursors: the keyset of the last row served, bound to the query's filters.

A cursor is the URL-safe base64 of ``[region code, series id, period start, period end, digest]``
where the digest is a hash of the filters that produced it, so a cursor replayed with other
filters is refused instead of silently skipping or repeating rows. The page size may change
between pages.

The digest is not a signature: anyone can make a cursor (the hash's inputs are public). That is
harmless, as a cursor only says where a page starts, but it must not reach the store as anything
the store could refuse. So every field is checked as strictly as the store's columns are: a
region code of 4 or 7 digits, a series id within the stores' integer column, ISO dates of a
period (start not after end); anything else is a 400, never a 500 (PostgreSQL, for one, refuses
a NUL character in a text parameter).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import date

from opendata.filters import FilterError
from opendata.store.queries import ObservationQuery

PARAM = "cursor"
MAX_ID = 2**31 - 1  #: the largest id the stores' integer columns hold
#: longer than any cursor of ours (about 100 characters), so that nothing big is decoded
MAX_LENGTH = 256

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_REGION_CODE = re.compile(r"[0-9]{4}(?:[0-9]{3})?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGEST = re.compile(r"[0-9a-f]{16}")


def filters_digest(query: ObservationQuery) -> str:
    """A short hash of the query's filters (not of its position or page size)."""
    canonical = json.dumps(
        [
            query.dataset_id,
            sorted(set(query.regions)),
            query.start.isoformat() if query.start else None,
            query.end.isoformat() if query.end else None,
            sorted((slug, sorted(set(codes))) for slug, codes in query.dimensions.items()),
            # only when given, so that the cursors of the other filters stay as they were
            *([sorted(set(query.within)), query.level] if query.tree_regions is not None else []),
            *([query.latest] if query.latest is not None else []),
            *([sorted(set(query.frequencies))] if query.frequencies else []),
        ]
    )
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def encode_cursor(keyset: tuple, digest: str) -> str:
    """The cursor that resumes after the row with ``keyset``."""
    region_code, series_id, start, end = keyset
    return pack([region_code, series_id, start.isoformat(), end.isoformat(), digest])


def pack(fields: list) -> str:
    """A cursor of ``fields``: URL-safe base64 of their compact JSON, unpadded."""
    raw = json.dumps(fields, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def unpack(cursor: str) -> list:
    """The fields of a cursor made by :func:`pack`; ValueError if it is none."""
    if len(cursor) > MAX_LENGTH or not _BASE64URL.fullmatch(cursor):
        raise ValueError("not URL-safe base64")
    fields = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    if not isinstance(fields, list):
        raise ValueError("not a list")
    return fields


def checked(read, cursor: str, digest: str):
    """``read(cursor)`` -> (position, digest), as a 400 problem if it fails or if the cursor was
    made for other filters than ``digest``'s; else the position."""
    try:
        position, cursor_digest = read(cursor)
        if not isinstance(cursor_digest, str) or not _DIGEST.fullmatch(cursor_digest):
            raise ValueError("not a digest")
    except (ValueError, TypeError, binascii.Error):  # UnicodeDecodeError is a ValueError
        raise FilterError(
            PARAM, "not a cursor of this API; use the 'next' link of a page as it is"
        ) from None
    if cursor_digest != digest:
        raise FilterError(
            PARAM,
            "this cursor belongs to other filters; keep the filters of the page that gave it, "
            "or drop the cursor to start from the first page",
        )
    return position


def _date(value: object) -> date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("not an ISO date")
    return date.fromisoformat(value)


def _keyset(cursor: str) -> tuple[tuple, str]:
    """The keyset and digest in ``cursor``; raise ValueError if any field is not as we make it."""
    fields = unpack(cursor)
    if len(fields) != 5:
        raise ValueError("not a list of five")
    region_code, series_id, start, end, digest = fields
    if not isinstance(region_code, str) or not _REGION_CODE.fullmatch(region_code):
        raise ValueError("not a region code")
    if type(series_id) is not int or not 1 <= series_id <= MAX_ID:
        raise ValueError("not a series id")
    start, end = _date(start), _date(end)
    if start > end:
        raise ValueError("not a period")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise ValueError("not a digest")
    return (region_code, series_id, start, end), digest


def decode_cursor(cursor: str, digest: str) -> tuple:
    """The keyset in ``cursor``; raise FilterError if it is not one of ours for these filters."""
    return checked(_keyset, cursor, digest)
