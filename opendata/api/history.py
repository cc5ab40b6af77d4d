"""What the history parameters share: ``as_of`` and ``updated_after`` read, checked and applied.

An instant is RFC 3339 with an offset (``2026-05-01T00:00:00Z``, ``2026-05-01T07:00:00+07:00``,
fractions of a second kept) or a date (``2026-05-01``: the start of that day in WIB, UTC+7, the
province's time). It names a run: the latest one finished by then (:func:`history.run_at`), as
a run's data is served from its end on. "Now" is the run log's clock (``runs.utcnow``).

- ``as_of=T``: the observations served at T. The answer for a T before the latest run's end can
  no longer change (every later run ends after T), so it is cached as immutable.
- ``updated_after=T``: the cells changed after T, as they were at the latest run when the first
  page was read: that run travels in the cursor, so a harvest that lands while a client pages is
  left for the next poll instead of being half seen. The answer's ``as_of`` (and
  ``Opendata-As-Of``) is that run's end: the next poll's ``updated_after``.
- Both: the changes between the two instants, as they were at ``as_of`` (none if ``as_of`` is
  the earlier).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import wraps

import marshmallow as ma
from flask import Response, request

from opendata.api.context import DatasetMeta, connection
from opendata.api.fields import Text
from opendata.filters import FilterError
from opendata.formats.csv import PLAIN, Profile, write_changes_csv, write_csv
from opendata.formats.json import Vintage as JsonVintage
from opendata.formats.json import write_changes, write_observations
from opendata.store import history, queries, runs

WIB = timezone(timedelta(hours=7), "WIB")
INSTANT_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2}))?"
)
_NOT_AN_INSTANT = (
    "not an instant: give RFC 3339 with an offset (2026-05-01T00:00:00Z, "
    "2026-05-01T07:00:00+07:00) or a date (2026-05-01, the start of that day in WIB)"
)
_AN_INSTANT = "an instant, e.g. 2026-05-01T00:00:00Z or 2026-05-01"
#: an answer that can no longer change: caches keep it a day without asking again (the day
#: bounds how long a cache may serve it after the store is restored from a backup)
IMMUTABLE = "public, max-age=86400, immutable"
AS_OF_HEADER = "Opendata-As-Of"


def _instant_field(name: str, description: str) -> Text:
    return Text(
        data_key=name,
        give=_AN_INSTANT,
        pattern=INSTANT_PATTERN,
        error=_NOT_AN_INSTANT,
        metadata={"description": description, "example": "2026-05-01T00:00:00Z"},
    )


class HistoryArgs(ma.Schema):
    """``as_of`` and ``updated_after``, mixed into the observations' query arguments."""

    as_of = _instant_field(
        "as_of",
        "The observations exactly as served at this instant: the values then valid, cells "
        "withdrawn since included, cells added since left out. RFC 3339 with an offset "
        "(`2026-05-01T00:00:00Z`, `2026-05-01T07:00:00+07:00`) or a date (`2026-05-01`: "
        "the start of that day in WIB, UTC+7). Before the first harvest: an empty answer; in "
        "the future: a 400. With `updated_after`: the changes between the two instants, as "
        "they were at this one. See docs/api.md, As of an instant.",
    )
    updated_after = _instant_field(
        "updated_after",
        "Only the cells that changed after this instant (as `as_of`), each with `change` "
        "(`added`, `revised` or `withdrawn`, whose `value` is null) and `updated_at`. Poll "
        "with the `as_of` of the previous answer (not your own clock) to get each change "
        "once. In the future: a 400. See docs/api.md, Changes since.",
    )


def parse_instant(text: str, param: str) -> datetime:
    """The instant ``text`` names (aware); FilterError if it is none or in the future."""
    try:
        if len(text) == len("2026-05-01"):
            moment = datetime.fromisoformat(text).replace(tzinfo=WIB)
        else:
            moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise FilterError(param, f"{text!r} is no such day or time; {_NOT_AN_INSTANT}") from None
    now = runs.utcnow().replace(tzinfo=UTC)
    if moment > now:
        stamp = rfc3339(now)
        raise FilterError(param, f"{text} is in the future (now is {stamp}); give a past instant")
    return moment


def rfc3339(moment: datetime | str | None) -> str | None:
    """``2026-05-01T00:00:00Z`` (with the fraction of a second, if any) of a UTC time; a naive
    one (or SQLite's text of one) is UTC."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


@dataclass(frozen=True)
class Vintage:
    """How a request reads history: the run it is as of, and (for changes) the run after which."""

    mark: history.RunMark  #: the data the answer shows: as of this run
    after: int | None = None  #: updated_after's run

    def digest(self, filters: str) -> str:
        """The cursor digest of ``filters`` at this vintage (a cursor serves no other)."""
        text = f"{filters} as_of={self.mark.run_id} after={self.after}"
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    @property
    def as_of(self) -> str | None:
        """The answer's ``as_of``: the end of the run it shows."""
        return rfc3339(self.mark.finished_at)


def split_cursor(cursor: str | None) -> tuple[str | None, int | None]:
    """A changes cursor is ``<keyset cursor>.<run id>``: the two, or the cursor alone."""
    if not cursor or "." not in cursor:
        return cursor, None
    keyset, _, run = cursor.rpartition(".")
    if not re.fullmatch(r"[1-9][0-9]{0,9}", run):
        raise FilterError("cursor", "not a cursor of this API; use the 'next' link of a page")
    return keyset, int(run)


def apply(query: queries.ObservationQuery, args: dict, conn, until: int | None) -> Vintage | None:
    """Set ``query``'s history mode from ``as_of`` / ``updated_after``; None if neither.

    ``until``: the run a changes cursor carries (the first page's latest run).
    """
    as_of, after = args.get("as_of"), args.get("updated_after")
    if until is not None and not after:
        raise FilterError("cursor", "not a cursor of this API; use the 'next' link of a page")
    mark = history.run_at(conn, parse_instant(as_of, "as_of")) if as_of else None
    if after:
        start = history.run_at(conn, parse_instant(after, "updated_after")).run_id
        if mark is None:  # up to the latest run: the first page's, on the next pages
            mark = history.latest_run(conn) if until is None else history.run_mark(conn, until)
        query.changed_after_run, query.changed_until_run = start, mark.run_id
        return Vintage(mark, after=start)
    if mark is not None:
        query.as_of_run = mark.run_id
        return Vintage(mark)
    return None


def series_of(conn, meta: DatasetMeta, series_ids) -> Mapping:
    """The dimension values of ``series_ids``: served ones from the cache, retired ones read."""
    missing = {sid for sid in series_ids if sid not in meta.series_dimensions}
    if not missing:
        return meta.series_dimensions
    return {**meta.series_dimensions, **history.series_dimensions(conn, meta.dataset_id, missing)}


def json_page(conn, meta: DatasetMeta, rows, next_url, warnings, vintage: Vintage) -> str:
    """The JSON page of history ``rows`` (as of a run, or changes)."""
    series = series_of(conn, meta, {row[3] for row in rows})
    page = JsonVintage(vintage.as_of)
    if vintage.after is None:
        return write_observations(rows, meta.slugs, series, next_url, warnings, page)
    return write_changes(rows, meta.slugs, series, next_url, warnings, page, rfc3339)


def csv_chunks(
    conn, meta: DatasetMeta, rows, query: queries.ObservationQuery, profile: Profile = PLAIN
) -> Iterator[str]:
    """The CSV of history ``rows`` (as of a run, or changes with two more columns)."""
    series = history.series_dimensions(conn, meta.dataset_id)  # retired series too
    if query.changed_after_run is None:
        return write_csv(meta.dataset_id, meta.slugs, rows, series, meta.ranges, profile)
    return write_changes_csv(
        meta.dataset_id, meta.slugs, rows, series, meta.ranges, rfc3339, profile
    )


def stamp(response: Response, vintage: Vintage | None) -> None:
    """Say which run a history answer shows (``Opendata-As-Of``), if any."""
    if vintage is not None and vintage.as_of is not None:
        response.headers[AS_OF_HEADER] = vintage.as_of


def _immutable(as_of: str) -> bool:
    try:
        instant = parse_instant(as_of, "as_of")
    except FilterError:
        return False
    latest = history.latest_run(connection())
    return latest.finished_at is not None and instant < latest.finished_at


def cache_control(view):
    """Decorate a versioned view (outside it, so that its cached answers and 304s pass here
    too): an ``as_of`` answer for an instant before the latest run's end is immutable."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = view(*args, **kwargs)
        as_of = request.args.get("as_of")
        if response.status_code in (200, 304) and as_of and _immutable(as_of):
            response.headers["Cache-Control"] = IMMUTABLE
        return response

    return wrapper
