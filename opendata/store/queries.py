"""Read queries over the store, shared by the API, the CSV export and the command line.

Observations come in one stable order, which is also the keyset of pagination:
region code, series, period start, period end (a month before the quarter, half-year and year that
start on the same day).

Only what the last harvest of a dataset still has is served: retired indicators, dimensions,
dimension values and series, and withdrawn observations, are left out of every query here.

Timestamps are kept as naive UTC in both stores; the functions here hand them out aware (UTC).
Nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import Connection, case, func, or_, select, tuple_

from opendata.model import TargetSpec
from opendata.regions import Alias, RegionIndex, RegionInfo
from opendata.store import history
from opendata.store import schema as t
from opendata.store.targets import TargetOf, dataset_target, targets_of


@dataclass(frozen=True)
class DimensionInfo:
    """A dimension of a dataset (sex, sector) and its values in the source's order."""

    slug: str
    label: str
    values: tuple[tuple[str, str, bool], ...]  #: (code, label, is_total) in source order


@dataclass
class ObservationQuery:
    """Filters of an observation query; an empty filter keeps everything."""

    dataset_id: str
    regions: Sequence[str] = ()  #: canonical region codes
    start: date | None = None  #: keep periods starting on or after this day
    end: date | None = None  #: keep periods ending on or before this day
    dimensions: dict[str, Sequence[str]] = field(default_factory=dict)  #: slug -> value codes
    after: tuple | None = None  #: keyset of the last row already served
    limit: int | None = None
    #: serve the versions valid at this run (``as_of``; 0: before the first harvest), not the
    #: current ones: see :mod:`opendata.store.history`
    as_of_run: int | None = None
    #: serve only the cells changed after this run (``updated_after``) and not after
    #: ``changed_until_run``, each with its change and when it was made (two more columns)
    changed_after_run: int | None = None
    changed_until_run: int | None = None
    #: ``within`` as asked (canonical codes) and ``level``: they name the filter (cursor
    #: digests, file names, warnings); ``tree_regions`` is what they select
    within: Sequence[str] = ()
    level: str | None = None
    #: the regions ``within``/``level`` add to ``regions``
    #: (:func:`opendata.filters.regions_under`); None when neither was given. An empty tuple
    #: serves nothing more than ``regions``, never every region.
    tree_regions: Sequence[str] | None = None
    #: ``latest``: keep the last N periods of each series and frequency (after the other filters)
    latest: int | None = None
    #: keep the periods of these frequencies (``Y``, ``S``, ``Q``, ``M``: :func:`frequency_of`)
    frequencies: Sequence[str] = ()

    def served_regions(self) -> list[str] | None:
        """The regions served (``regions`` and ``tree_regions``), or None for every region."""
        if self.tree_regions is None:
            return list(self.regions) or None
        return list(dict.fromkeys([*self.regions, *self.tree_regions]))


class ObservationRow(NamedTuple):
    """An observation as the store hands it out (iter_observations yields SQLAlchemy rows
    with these names and positions, without making one of these per row)."""

    region_code: str
    region_name: str
    period: str
    series_id: int
    period_start: date
    period_end: date
    value_text: str | None
    unit: str | None
    flag: str | None
    note: str | None
    #: the other end of a range (a target ``6,0-6,9``: ``6.9``), as published; else None.
    #: Last, so that a row's other positions are what they were before ranges.
    value_to_text: str | None


def _day(value: date | str) -> date:
    # A plain DBAPI row (page_of_observations) has SQLite's dates as their ISO text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def keyset(row: Sequence) -> tuple:
    """The position of ``row`` (in ObservationRow's order) in the stable order: the cursor."""
    return (row[0], row[3], _day(row[4]), _day(row[5]))


def data_version(conn: Connection) -> int:
    """The store's data version: it changes whenever a harvest changes what is served."""
    value = conn.execute(
        select(t.store_meta.c.value).where(t.store_meta.c.key == "data_version")
    ).scalar()
    return int(value or 0)


_DATA_STATE_SQL = "SELECT key, value FROM store_meta WHERE key IN ('data_version', 'data_token')"


def data_state(conn: Connection) -> str:
    """The data version with its random token (``"12.3f9c..."``): what ETags and caches key on.

    The token is renewed with every version, so a store restored from a backup and harvested
    again reaches a version number it had before, but never the same state text.
    """
    # Plain SQL text: read on every request, and building the statement cost more than running it
    values = dict(conn.exec_driver_sql(_DATA_STATE_SQL).all())
    return f"{values.get('data_version', '0')}.{values.get('data_token', '')}"


def last_finished_run(conn: Connection) -> str:
    """The state of the run log: the latest finished run (id and end time; a run id that a
    restored store hands out again has another end time), and the newest run and fetch, so that
    a run that starts, or fetches while it runs, changes it too. ``""`` before any run."""
    run = t.harvest_run
    row = conn.execute(
        select(run.c.id, run.c.finished_at)
        .where(run.c.finished_at.is_not(None))
        .order_by(run.c.id.desc())
        .limit(1)
    ).first()
    newest = conn.execute(
        select(
            select(func.max(run.c.id)).scalar_subquery(),
            select(func.max(t.fetch.c.id)).scalar_subquery(),
        )
    ).one()
    if row is None and newest[0] is None:
        return ""
    finished = "" if row is None else f"{row.id}@{row.finished_at.isoformat()}"
    return f"{finished}|{newest[0]}|{newest[1]}"


def dataset_dimensions(conn: Connection, dataset_id: str) -> list[DimensionInfo]:
    """The dimensions of a dataset in their order, each with its values."""
    rows = conn.execute(
        select(
            t.dimension.c.slug,
            t.dimension.c.label,
            t.dimension_value.c.code,
            t.dimension_value.c.label.label("value_label"),
            t.dimension_value.c.is_total,
        )
        .join(t.dimension_value, t.dimension_value.c.dimension_id == t.dimension.c.id)
        .where(
            t.dimension.c.dataset_id == dataset_id,
            t.dimension.c.retired_run_id.is_(None),
            t.dimension_value.c.retired_run_id.is_(None),
        )
        .order_by(t.dimension.c.position, t.dimension_value.c.position)
    ).all()
    dims: dict[str, tuple[str, list]] = {}
    for row in rows:
        dims.setdefault(row.slug, (row.label, []))[1].append(
            (row.code, row.value_label, bool(row.is_total))
        )
    return [DimensionInfo(slug, label, tuple(values)) for slug, (label, values) in dims.items()]


def series_dimensions(conn: Connection, dataset_id: str) -> dict[int, dict[str, tuple[str, str]]]:
    """{series id: {dimension slug: (value code, value label)}} for a dataset's served series."""
    rows = conn.execute(
        select(
            t.series_dimension.c.series_id,
            t.dimension.c.slug,
            t.dimension_value.c.code,
            t.dimension_value.c.label,
        )
        .join(t.series, t.series.c.id == t.series_dimension.c.series_id)
        .join(t.dimension, t.dimension.c.id == t.series_dimension.c.dimension_id)
        .join(t.dimension_value, t.dimension_value.c.id == t.series_dimension.c.value_id)
        .where(t.series.c.dataset_id == dataset_id, t.series.c.retired_run_id.is_(None))
        .order_by(t.series_dimension.c.series_id, t.dimension.c.position)
    )
    result: dict[int, dict[str, tuple[str, str]]] = {}
    for series_id, slug, code, label in rows:
        result.setdefault(series_id, {})[slug] = (code, label)
    return result


def series_indicators(conn: Connection, dataset_id: str, retired: bool = False) -> dict[int, str]:
    """{series id: indicator code} for a dataset's served series (a row names its series, not
    its indicator: formats with an indicator dimension, such as JSON-stat, read this); with
    ``retired``, its retired series' too (``as_of`` serves them)."""
    stmt = (
        select(t.series.c.id, t.indicator.c.code)
        .join(t.indicator, t.indicator.c.id == t.series.c.indicator_id)
        .where(t.series.c.dataset_id == dataset_id)
    )
    if not retired:
        stmt = stmt.where(t.series.c.retired_run_id.is_(None))
    return {series_id: code for series_id, code in conn.execute(stmt)}


def dataset_regions(conn: Connection, dataset_id: str) -> frozenset[str]:
    """The BPS codes of the regions that have at least one served observation in the dataset."""
    s, o = t.series, t.observation
    has_observations = (
        select(o.c.id).where(o.c.series_id == s.c.id, o.c.withdrawn_run_id.is_(None)).exists()
    )
    rows = conn.execute(
        select(s.c.region_code)
        .distinct()
        .where(s.c.dataset_id == dataset_id, s.c.retired_run_id.is_(None), has_observations)
    )
    return frozenset(rows.scalars())


def _observation_select(query: ObservationQuery):
    o, s = t.observation, t.series
    if query.as_of_run is not None or query.changed_after_run is not None:
        # History: other columns, joins and conditions; the filters, order and keyset are the
        # same. The current data's statement below stays exactly as it is (bench/api checks).
        stmt = history.observation_select(query)
    else:
        stmt = (
            select(
                s.c.region_code,
                t.region.c.name.label("region_name"),
                o.c.period,
                s.c.id.label("series_id"),
                o.c.period_start,
                o.c.period_end,
                o.c.value_text,
                t.indicator.c.unit,
                o.c.flag,
                o.c.note,
                o.c.value_to_text,
            )
            .select_from(o)
            .join(s, s.c.id == o.c.series_id)
            .join(t.region, t.region.c.code == s.c.region_code)
            .join(t.indicator, t.indicator.c.id == s.c.indicator_id)
            .where(
                s.c.dataset_id == query.dataset_id,
                s.c.retired_run_id.is_(None),
                o.c.withdrawn_run_id.is_(None),
            )
        )
    return filtered(stmt, query)


def filtered(stmt, query: ObservationQuery):
    """``stmt`` (over observation and series) with the query's filters, order, keyset, limit
    (and ``latest``, which ranks the observations ``stmt`` keeps: see :func:`_latest`)."""
    o, s = t.observation, t.series
    served = query.served_regions()
    if served is not None:
        stmt = stmt.where(s.c.region_code.in_(served))
    if query.start is not None:
        stmt = stmt.where(o.c.period_start >= query.start)
    if query.end is not None:
        stmt = stmt.where(o.c.period_end <= query.end)
    if query.frequencies:
        stmt = stmt.where(frequency_of(o.c.period).in_(sorted(set(query.frequencies))))
    for slug, codes in query.dimensions.items():
        matching = (
            select(t.series_dimension.c.series_id)
            .join(t.dimension, t.dimension.c.id == t.series_dimension.c.dimension_id)
            .join(t.dimension_value, t.dimension_value.c.id == t.series_dimension.c.value_id)
            .where(
                t.dimension.c.dataset_id == query.dataset_id,
                t.dimension.c.retired_run_id.is_(None),
                t.dimension.c.slug == slug,
                t.dimension_value.c.code.in_(list(codes)),
            )
        )
        stmt = stmt.where(s.c.id.in_(matching))
    if query.latest is not None:
        stmt = _latest(stmt, query)
    order = (s.c.region_code, s.c.id, o.c.period_start, o.c.period_end)
    if query.after is not None:
        region_code, series_id, start, end = query.after
        series_at = tuple_(s.c.region_code, s.c.id)
        stmt = stmt.where(
            # Implied by the next condition, but on the series alone: both stores seek to the
            # cursor's region in ix_series_dataset_region_id and pass over the series before the
            # cursor's on that index, without reading their observations; so a deep page costs
            # what the first does (an OR over both tables alone read the dataset from its start).
            series_at >= tuple_(region_code, series_id),
            or_(
                series_at > tuple_(region_code, series_id),
                tuple_(o.c.period_start, o.c.period_end) > tuple_(start, end),
            ),
        )
    stmt = stmt.order_by(*order)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    return stmt


def frequency_of(period):
    """The frequency of a stored period text, in SQL both stores run: ``Y`` (``2024``), ``S``
    (``2024-S1``), ``Q`` (``2024-Q3``) or ``M`` (``2024-08``): see :mod:`opendata.periods`."""
    kind = func.substr(period, 6, 1)
    return case(
        (func.length(period) == 4, "Y"),
        (kind.in_(["S", "Q"]), kind),
        else_="M",
    )


def _latest(stmt, query: ObservationQuery):
    """``stmt`` (filtered) kept to the last ``query.latest`` periods of each series and
    frequency: its own order, keyset and limit then apply as they do without ``latest``.

    The rank is a window function over the very rows ``stmt`` serves (its joins and conditions,
    history's included), narrowed to the observation ids: the cells kept are those ranked
    within N, so the statement served keeps its columns, order, indexes and keyset. The rank
    is per series *and frequency*: a series that has months, quarters and years keeps the last
    N of each (as SDMX, where a series has one frequency). Series before the cursor's are
    dropped from the ranking (they are whole partitions, so no rank changes).
    """
    o, s = t.observation, t.series
    rank = (
        func.row_number()
        .over(
            partition_by=(s.c.id, frequency_of(o.c.period)),
            order_by=(o.c.period_start.desc(), o.c.period_end.desc()),
        )
        .label("latest_rank")
    )
    ranking = stmt.with_only_columns(o.c.id.label("observation_id"), rank)
    if query.after is not None:
        ranking = ranking.where(tuple_(s.c.region_code, s.c.id) >= tuple_(*query.after[:2]))
    ranked = ranking.subquery("ranked")
    kept = select(ranked.c.observation_id).where(ranked.c.latest_rank <= query.latest)
    return stmt.where(o.c.id.in_(kept))


def observation_select(query: ObservationQuery):
    """The statement :func:`iter_observations` runs for ``query`` (filters, order, keyset,
    limit): to count or to wrap it."""
    return _observation_select(query)


def count_observations(
    conn: Connection, query: ObservationQuery, at_most: int | None = None
) -> int:
    """How many observations ``query`` serves (from its first row: ``after`` and ``limit`` are
    not read), exact; with ``at_most``, counted up to that many (a bounded count: cheap).

    ``COUNT(*)`` over the very statement served, without its order, so that it counts what a
    download streams, ``latest`` and history included.
    """
    stmt = observation_select(replace(query, after=None, limit=at_most)).order_by(None)
    return conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def page_of_observations(conn: Connection, query: ObservationQuery) -> list[tuple]:
    """One page (``query.limit`` set) of observations as the DBAPI's plain tuples, read at once.

    In ObservationRow's positions, but straight from the driver's cursor: making a SQLAlchemy
    ``Row`` of each of a page's rows and handing them out one by one cost a tenth of the API's
    time per page. The dates of SQLite's rows are ISO texts there (:func:`keyset` reads both).
    """
    if query.limit is None:
        raise ValueError("a page needs a limit; stream the rest with iter_observations")
    result = conn.execute(_observation_select(query))
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def iter_observations(conn: Connection, query: ObservationQuery) -> Iterator[ObservationRow]:
    """Observations matching ``query`` in the stable order, streamed from the store."""
    # options of this statement only: Connection.execution_options would set them on the
    # connection for good, and its next statement (a DELETE) would be a server-side cursor too
    result = conn.execute(
        _observation_select(query), execution_options={"stream_results": True, "yield_per": 2000}
    )
    try:
        yield from result
    finally:  # a reader that stops early must not leave a server-side cursor open
        result.close()


def observation_periods(conn: Connection, query: ObservationQuery) -> list[str]:
    """The periods that observations matching ``query`` have, in time order (a month before the
    quarter and year that start on the same day): the columns of a wide table, known before its
    first row is streamed. The same select as :func:`iter_observations` (current or history),
    unordered, so both stay in step whatever the filters become."""
    rows = observation_select(replace(query, after=None, limit=None)).order_by(None).subquery()
    stmt = (
        select(rows.c.period, rows.c.period_start, rows.c.period_end)
        .distinct()
        .order_by(rows.c.period_start, rows.c.period_end)
    )
    return list(conn.execute(stmt).scalars())


def count_series(conn: Connection, query: ObservationQuery) -> int:
    """How many series have observations that ``query`` serves: the data rows of its wide
    table (``latest`` and history included, as :func:`count_observations`)."""
    rows = observation_select(replace(query, after=None, limit=None)).order_by(None).subquery()
    return conn.execute(select(func.count(rows.c.series_id.distinct()))).scalar_one()


def serves_ranges(conn: Connection, dataset_id: str) -> bool:
    """Whether the dataset is a target set (``dataset.target``): its values may be ranges.

    Its CSV has a ``value_to`` column, whatever its rows hold, so that the columns of a
    dataset's CSV depend on the dataset alone.
    """
    found = conn.execute(select(t.dataset.c.target).where(t.dataset.c.id == dataset_id)).scalar()
    return found is not None


# -- datasets -----------------------------------------------------------------------------------


def dataset_frequencies(conn: Connection) -> dict[str, str | None]:
    """Every harvested dataset's id and stored frequency (freshness needs it)."""
    return dict(conn.execute(select(t.dataset.c.id, t.dataset.c.frequency)).all())


@dataclass(frozen=True)
class SourceInfo:
    """A source of datasets (a harvester): its id, name and web site."""

    id: str
    title: str
    url: str | None


@dataclass(frozen=True)
class HarvestInfo:
    """One finished harvest run of a dataset and what it did to the observations."""

    run_id: int
    status: str  #: ok | unchanged | no-data | failed | interrupted
    started_at: datetime
    finished_at: datetime
    offline: bool
    added: int
    changed: int
    unchanged: int
    withdrawn: int


@dataclass(frozen=True)
class IndicatorInfo:
    """What one published variable of a dataset measures, as the source describes it."""

    code: str
    name: str
    unit: str | None
    decimals: int | None
    definition: str | None
    notes: str | None
    subject: str | None
    source_ref: str | None
    source_last_update: datetime | None


@dataclass(frozen=True)
class DatasetInfo:
    """A harvested dataset; ``indicators`` and ``dimensions`` are filled by :func:`get_dataset`."""

    id: str
    title: dict[str, str]  #: {"id": ..., "en": ...}
    description: dict[str, str]
    source: SourceInfo
    license: str | None
    attribution: str | None
    frequency: str | None
    tags: tuple[str, ...]
    units: tuple[str, ...]
    source_last_update: datetime | None
    last_harvest: HarvestInfo | None
    data_changed_at: datetime | None  #: when the last harvest that changed its data finished
    indicators: tuple[IndicatorInfo, ...] = ()
    dimensions: tuple[DimensionInfo, ...] = ()
    #: plan targets (issue 8), filled by :func:`get_dataset`: what this dataset's figures are
    #: targets of, and the datasets whose figures are targets of this one's
    target: TargetSpec | None = None
    targets: tuple[TargetOf, ...] = ()


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _texts(**texts: str | None) -> dict[str, str]:
    return {lang: text for lang, text in texts.items() if text}


def last_harvests(conn: Connection, dataset_ids: Iterable[str] | None = None) -> dict:
    """{dataset id: HarvestInfo} of the latest finished harvest run of each dataset."""
    run = t.harvest_run
    latest = select(func.max(run.c.id)).where(run.c.finished_at.is_not(None))
    if dataset_ids is not None:
        latest = latest.where(run.c.dataset_id.in_(list(dataset_ids)))
    rows = conn.execute(select(run).where(run.c.id.in_(latest.group_by(run.c.dataset_id))))
    return {
        row.dataset_id: HarvestInfo(
            row.id,
            row.status,
            _utc(row.started_at),
            _utc(row.finished_at),
            bool(row.offline),
            row.added,
            row.changed,
            row.unchanged,
            row.withdrawn,
        )
        for row in rows
    }


def _units(conn: Connection, dataset_ids: list[str]) -> dict[str, tuple[str, ...]]:
    rows = conn.execute(
        select(t.indicator.c.dataset_id, t.indicator.c.unit)
        .where(
            t.indicator.c.dataset_id.in_(dataset_ids),
            t.indicator.c.unit.is_not(None),
            t.indicator.c.retired_run_id.is_(None),
        )
        .group_by(t.indicator.c.dataset_id, t.indicator.c.unit)
        .order_by(t.indicator.c.dataset_id, func.min(t.indicator.c.id))
    )
    units: dict[str, tuple[str, ...]] = {}
    for dataset_id, unit in rows:
        units[dataset_id] = (*units.get(dataset_id, ()), unit)
    return units


def list_datasets(conn: Connection, dataset_ids: Sequence[str] | None = None) -> list[DatasetInfo]:
    """The harvested datasets (or those of ``dataset_ids``) by id, without indicators."""
    d, changed_run = t.dataset, t.harvest_run.alias("changed_run")
    stmt = (
        select(d, t.source.c.title.label("source_title"), t.source.c.url.label("source_url"))
        .add_columns(changed_run.c.finished_at.label("data_changed_at"))
        .join(t.source, t.source.c.id == d.c.source_id)
        .outerjoin(changed_run, changed_run.c.id == d.c.changed_run_id)
        .order_by(d.c.id)
    )
    if dataset_ids is not None:
        stmt = stmt.where(d.c.id.in_(list(dataset_ids)))
    rows = conn.execute(stmt).all()
    ids = [row.id for row in rows]
    harvests = last_harvests(conn, ids)
    units = _units(conn, ids)
    return [
        DatasetInfo(
            id=row.id,
            title=_texts(id=row.title_id, en=row.title_en),
            description=_texts(id=row.description_id, en=row.description_en),
            source=SourceInfo(row.source_id, row.source_title, row.source_url),
            license=row.license,
            attribution=row.attribution,
            frequency=row.frequency,
            tags=tuple(json.loads(row.tags or "[]")),
            units=units.get(row.id, ()),
            source_last_update=_utc(row.source_last_update),
            last_harvest=harvests.get(row.id),
            data_changed_at=_utc(row.data_changed_at),
        )
        for row in rows
    ]


def dataset_indicators(conn: Connection, dataset_id: str) -> list[IndicatorInfo]:
    """The served indicators of a dataset in the order they were first harvested."""
    i = t.indicator
    rows = conn.execute(
        select(i).where(i.c.dataset_id == dataset_id, i.c.retired_run_id.is_(None)).order_by(i.c.id)
    )
    return [
        IndicatorInfo(
            row.code,
            row.name,
            row.unit,
            row.decimals,
            row.definition,
            row.notes,
            row.subject,
            row.source_ref,
            _utc(row.source_last_update),
        )
        for row in rows
    ]


def get_dataset(conn: Connection, dataset_id: str) -> DatasetInfo | None:
    """A dataset with its indicators, dimensions and targets, or None if never harvested."""
    found = list_datasets(conn, [dataset_id])
    if not found:
        return None
    return replace(
        found[0],
        indicators=tuple(dataset_indicators(conn, dataset_id)),
        dimensions=tuple(dataset_dimensions(conn, dataset_id)),
        target=dataset_target(conn, dataset_id),
        targets=tuple(targets_of(conn, dataset_id)),
    )


# -- regions ------------------------------------------------------------------------------------


def load_regions(conn: Connection) -> RegionIndex:
    """The store's regions and aliases as an index (reference and harvest-added regions)."""
    regions = [
        RegionInfo(r.code, r.name, r.level, r.parent_code, r.bps_name, r.kemendagri_code)
        for r in conn.execute(select(t.region).order_by(t.region.c.code))
    ]
    aliases = [
        Alias(a.alias, a.system, a.code)
        for a in conn.execute(select(t.region_alias).order_by(t.region_alias.c.alias))
    ]
    return RegionIndex(regions, aliases)
