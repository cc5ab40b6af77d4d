"""Reads of the past: observations as of a run, the changes after one, and every cell's versions.

A cell's versions (see :mod:`opendata.store.schema`): the current one in ``observation``, valid
from ``last_changed_run_id`` (a withdrawal if ``withdrawn_run_id`` is set), the earlier ones in
``observation_revision``, each valid from ``valid_from_run_id`` until ``run_id``. Runs are
serialized by the harvest lock, so run ids ascend in commit order, and a run's data is visible
from its ``finished_at``: the store as served at an instant is the store as of the run
:func:`run_at` that instant (the latest run finished by then), and a version is valid at run R
when it began at or before R and did not end by R.

A series retired at run X (``series.retired_run_id``) is served until X: its cells count as
withdrawn by X. A series that was retired and came back has lost the run that retired it (the
store keeps only the latest retirement), so history serves it as if it had never gone.

Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, case, false, func, literal, null, or_, select, true

from opendata.store import queries
from opendata.store import schema as t

ADDED, REVISED, WITHDRAWN = "added", "revised", "withdrawn"


class RunMark(NamedTuple):
    """A point of the store's history: a run id (0: before the first) and when it finished."""

    run_id: int
    finished_at: datetime | None  #: aware UTC; None before the first run


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _mark(conn: Connection, limit: datetime | None) -> RunMark:
    run = t.harvest_run
    latest = select(func.max(run.c.id)).where(run.c.finished_at.is_not(None))
    if limit is not None:
        naive = limit.astimezone(UTC).replace(tzinfo=None)  # both stores keep naive UTC
        latest = latest.where(run.c.finished_at <= naive)
    row = conn.execute(
        select(run.c.id, run.c.finished_at).where(run.c.id == latest.scalar_subquery())
    ).first()
    return RunMark(0, None) if row is None else RunMark(row.id, _aware(row.finished_at))


def run_at(conn: Connection, instant: datetime) -> RunMark:
    """The latest run finished at or before ``instant`` (aware): the store as served then."""
    return _mark(conn, instant)


def run_mark(conn: Connection, run_id: int) -> RunMark:
    """Run ``run_id`` and when it finished (None if it has not, or is unknown)."""
    run = t.harvest_run
    finished = conn.execute(select(run.c.finished_at).where(run.c.id == run_id)).scalar()
    return RunMark(run_id, _aware(finished))


def latest_run(conn: Connection) -> RunMark:
    """The latest finished run, whatever it did: what a query reading now sees."""
    return _mark(conn, None)


# -- observations as of a run, and the changes after one ----------------------------------------


def observation_select(query: queries.ObservationQuery):
    """The select of ``query``'s history mode (``as_of_run`` or ``changed_after_run``), before
    the filters: the columns of ``ObservationRow`` (and, for changes, ``change`` and
    ``updated_at``)."""
    if query.as_of_run is not None:
        return _as_of_select(query.dataset_id, query.as_of_run)
    return _changes_select(query.dataset_id, query.changed_after_run, query.changed_until_run)


def _joined(columns: Sequence):
    o, s = t.observation, t.series
    return (
        select(*columns)
        .select_from(o)
        .join(s, s.c.id == o.c.series_id)
        .join(t.region, t.region.c.code == s.c.region_code)
        .join(t.indicator, t.indicator.c.id == s.c.indicator_id)
    )


def _head():
    o, s = t.observation, t.series
    return [
        s.c.region_code,
        t.region.c.name.label("region_name"),
        o.c.period,
        s.c.id.label("series_id"),
        o.c.period_start,
        o.c.period_end,
    ]


def _valid_at(revision, run_id):
    """The join of a cell's revision valid at ``run_id`` (at most one: versions do not overlap)."""
    return and_(
        revision.c.observation_id == t.observation.c.id,
        revision.c.valid_from_run_id <= run_id,
        revision.c.run_id > run_id,
    )


def _as_of_select(dataset_id: str, run_id: int):
    """Each cell's version valid at ``run_id``, if it was served (not a withdrawal) then.

    The current version if it began by then (``last_changed_run_id <= run_id``), else the
    revision valid then. A join rather than a union of both tables: a version's period is its
    cell's, so the filters, order and keyset stay on ``observation`` and its indexes, and a page
    costs what a current page does plus one index lookup a row.
    """
    o, s = t.observation, t.series
    r = t.observation_revision.alias("version")
    current = and_(o.c.last_changed_run_id <= run_id, o.c.withdrawn_run_id.is_(None))
    earlier = r.c.id.is_not(None)

    def pick(column: str):
        return case((earlier, r.c[column]), else_=o.c[column]).label(column)

    columns = [
        *_head(),
        pick("value_text"),
        t.indicator.c.unit,
        pick("flag"),
        pick("note"),
        pick("value_to_text"),
    ]
    return (
        _joined(columns)
        .outerjoin(r, _valid_at(r, run_id))
        .where(
            s.c.dataset_id == dataset_id,
            or_(s.c.retired_run_id.is_(None), s.c.retired_run_id > run_id),
            o.c.first_seen_run_id <= run_id,
            or_(current, and_(earlier, r.c.withdrawn.is_(false()))),
        )
    )


def _changes_select(dataset_id: str, after: int, until):
    """The cells whose version at run ``until`` began after run ``after``, and the cells of
    series retired between the two, each as it was at ``until`` with its change and the end of
    the run that made it (``until`` None: the latest, the current versions).

    ``change``: ``withdrawn`` if the cell was not served at ``until`` (its values then null),
    ``added`` if it was not served at ``after`` (new, or back after a withdrawal), else
    ``revised``. Reading the versions at ``until``, not the current ones, keeps every page of a
    poll at one run, and what a later run changed for the next poll.
    """
    o, s, run = t.observation, t.series, t.harvest_run
    then = t.observation_revision.alias("then")  # the version at `until`, if not the current
    before = t.observation_revision.alias("before")  # the version at `after`, if not current
    if until is None:  # the latest run
        until = select(func.max(run.c.id)).scalar_subquery()
    current = o.c.last_changed_run_id <= until
    cutoff = s.c.retired_run_id <= until
    began = case((current, o.c.last_changed_run_id), else_=then.c.valid_from_run_id)
    withdrawn = or_(
        and_(current, o.c.withdrawn_run_id.is_not(None)),
        and_(~current, then.c.withdrawn.is_(true())),
    )
    retired = and_(s.c.retired_run_id.is_not(None), cutoff)
    gone = or_(retired, withdrawn)
    unserved_before = or_(o.c.first_seen_run_id > after, before.c.withdrawn.is_(true()))
    change = case((gone, literal(WITHDRAWN)), (unserved_before, literal(ADDED)), else_=REVISED)

    def then_value(column: str):
        value = case((current, o.c[column]), else_=then.c[column])
        return case((gone, null()), else_=value).label(column)

    columns = [
        *_head(),
        then_value("value_text"),
        t.indicator.c.unit,
        then_value("flag"),
        then_value("note"),
        then_value("value_to_text"),
        change.label("change"),
        run.c.finished_at.label("updated_at"),
    ]
    stmt = (
        _joined(columns)
        .outerjoin(then, _valid_at(then, until))
        .outerjoin(before, _valid_at(before, after))
        .join(run, run.c.id == case((retired, s.c.retired_run_id), else_=began))
    )
    # The last run that changed the dataset (a cell, or a series retired or revived): a poll
    # that finds nothing new stops at this one-row test instead of reading every cell.
    changed_since = (
        select(t.dataset.c.changed_run_id).where(t.dataset.c.id == dataset_id).scalar_subquery()
    )
    return stmt.where(
        changed_since > after,
        s.c.dataset_id == dataset_id,
        or_(s.c.retired_run_id.is_(None), s.c.retired_run_id > after),
        o.c.first_seen_run_id <= until,
        # a retired series' cells that were served when it went
        or_(began > after, and_(retired, ~withdrawn)),
    )


def series_dimensions(
    conn: Connection, dataset_id: str, series_ids: Iterable[int] | None = None
) -> dict[int, dict[str, tuple[str, str]]]:
    """{series id: {dimension slug: (code, label)}} of a dataset's series, retired ones too
    (history serves them); only those of ``series_ids`` if given."""
    sd, d, v = t.series_dimension, t.dimension, t.dimension_value
    stmt = (
        select(sd.c.series_id, d.c.slug, v.c.code, v.c.label)
        .join(d, d.c.id == sd.c.dimension_id)
        .join(v, v.c.id == sd.c.value_id)
        .where(d.c.dataset_id == dataset_id)
        .order_by(sd.c.series_id, d.c.position)
    )
    if series_ids is not None:
        stmt = stmt.where(sd.c.series_id.in_(sorted(set(series_ids))))
    result: dict[int, dict[str, tuple[str, str]]] = {}
    for series_id, slug, code, label in conn.execute(stmt):
        result.setdefault(series_id, {})[slug] = (code, label)
    return result


def regions_ever(conn: Connection, dataset_id: str) -> frozenset[str]:
    """The regions that have ever had a cell in the dataset (withdrawn and retired ones too)."""
    s = t.series
    has_cells = select(t.observation.c.id).where(t.observation.c.series_id == s.c.id).exists()
    rows = conn.execute(
        select(s.c.region_code).distinct().where(s.c.dataset_id == dataset_id, has_cells)
    )
    return frozenset(rows.scalars())


# -- every version of each cell ------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One version of a cell: its values (None if a withdrawal) from run ``run_id`` on."""

    value_text: str | None
    value_to_text: str | None
    flag: str | None
    note: str | None
    withdrawn: bool
    run_id: int | None  #: the run that wrote it (None: unknown, before the store kept it)
    valid_from: datetime | None  #: that run's end (aware UTC)
    valid_to: datetime | None  #: the end of the run that replaced it; None for the current one


@dataclass(frozen=True)
class Cell:
    """A cell (region, series, period) and its versions, oldest first."""

    region_code: str
    region_name: str
    period: str
    series_id: int
    period_start: date
    period_end: date
    versions: tuple[Version, ...]

    def keyset(self) -> tuple:
        """The cell's position in the stable order (the cursor of the next page)."""
        return (self.region_code, self.series_id, self.period_start, self.period_end)


def page_of_cells(conn: Connection, query: queries.ObservationQuery) -> list[Cell]:
    """A page of a dataset's cells (all: withdrawn ones and those of retired series too), in
    the observations' order and filters, each with every version it had."""
    o, s = t.observation, t.series
    stmt = (
        select(
            s.c.region_code,
            t.region.c.name.label("region_name"),
            o.c.period,
            s.c.id.label("series_id"),
            o.c.period_start,
            o.c.period_end,
            o.c.id,
            o.c.value_text,
            o.c.value_to_text,
            o.c.flag,
            o.c.note,
            o.c.last_changed_run_id,
            o.c.withdrawn_run_id,
            s.c.retired_run_id,
        )
        .select_from(o)
        .join(s, s.c.id == o.c.series_id)
        .join(t.region, t.region.c.code == s.c.region_code)
        .where(s.c.dataset_id == query.dataset_id)
    )
    rows = conn.execute(queries.filtered(stmt, query)).all()
    r = t.observation_revision
    earlier: dict[int, list] = {}
    if rows:
        for rev in conn.execute(
            select(r)
            .where(r.c.observation_id.in_([row.id for row in rows]))
            .order_by(r.c.observation_id, r.c.id)
        ):
            earlier.setdefault(rev.observation_id, []).append(rev)
    run_ids = {row.last_changed_run_id for row in rows} | {
        row.retired_run_id for row in rows if row.retired_run_id is not None
    }
    for revs in earlier.values():
        run_ids |= {rev.run_id for rev in revs} | {rev.valid_from_run_id for rev in revs}
    run_ids.discard(None)
    ends = _run_ends(conn, run_ids)
    return [_cell(row, earlier.get(row.id, ()), ends) for row in rows]


def _run_ends(conn: Connection, run_ids: set[int]) -> dict[int, datetime | None]:
    if not run_ids:
        return {}
    run = t.harvest_run
    rows = conn.execute(select(run.c.id, run.c.finished_at).where(run.c.id.in_(sorted(run_ids))))
    return {row.id: _aware(row.finished_at) for row in rows}


def _version(values, withdrawn: bool, start: int | None, end: int | None, ends) -> Version:
    texts = (None,) * 4 if withdrawn else values
    return Version(
        *texts,
        withdrawn=withdrawn,
        run_id=start,
        valid_from=ends.get(start),
        valid_to=None if end is None else ends.get(end),
    )


def _cell(row, revisions: Iterable, ends: dict) -> Cell:
    versions = [
        _version(
            (rev.value_text, rev.value_to_text, rev.flag, rev.note),
            bool(rev.withdrawn),
            rev.valid_from_run_id,
            rev.run_id,
            ends,
        )
        for rev in revisions
    ]
    withdrawn = row.withdrawn_run_id is not None
    retired = row.retired_run_id if not withdrawn else None
    values = (row.value_text, row.value_to_text, row.flag, row.note)
    versions.append(_version(values, withdrawn, row.last_changed_run_id, retired, ends))
    if retired is not None:  # the series went: its cells are withdrawn from that run on
        versions.append(_version(values, True, retired, None, ends))
    return Cell(
        row.region_code,
        row.region_name,
        row.period,
        row.series_id,
        row.period_start,
        row.period_end,
        tuple(versions),
    )
