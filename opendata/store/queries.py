"""Read queries over the store, shared by the API, the CSV export and the command line.

Observations come in one stable order, which is also the keyset of pagination:
region code, series, period start, period end (a month before the quarter, half-year and year that
start on the same day).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, and_, or_, select, tuple_

from opendata.store import schema as t


@dataclass(frozen=True)
class DimensionInfo:
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


@dataclass(frozen=True, slots=True)
class ObservationRow:
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

    @property
    def keyset(self) -> tuple:
        return (self.region_code, self.series_id, self.period_start, self.period_end)


def data_version(conn: Connection) -> int:
    """The store's data version: it changes whenever a harvest changes what is served."""
    value = conn.execute(
        select(t.store_meta.c.value).where(t.store_meta.c.key == "data_version")
    ).scalar()
    return int(value or 0)


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
        .where(t.dimension.c.dataset_id == dataset_id)
        .order_by(t.dimension.c.position, t.dimension_value.c.position)
    ).all()
    dims: dict[str, tuple[str, list]] = {}
    for row in rows:
        dims.setdefault(row.slug, (row.label, []))[1].append(
            (row.code, row.value_label, bool(row.is_total))
        )
    return [DimensionInfo(slug, label, tuple(values)) for slug, (label, values) in dims.items()]


def series_dimensions(conn: Connection, dataset_id: str) -> dict[int, dict[str, tuple[str, str]]]:
    """{series id: {dimension slug: (value code, value label)}} for a dataset."""
    rows = conn.execute(
        select(
            t.series_dimension.c.series_id,
            t.dimension.c.slug,
            t.dimension_value.c.code,
            t.dimension_value.c.label,
        )
        .join(t.dimension, t.dimension.c.id == t.series_dimension.c.dimension_id)
        .join(t.dimension_value, t.dimension_value.c.id == t.series_dimension.c.value_id)
        .where(t.dimension.c.dataset_id == dataset_id)
    )
    result: dict[int, dict[str, tuple[str, str]]] = {}
    for series_id, slug, code, label in rows:
        result.setdefault(series_id, {})[slug] = (code, label)
    return result


def _observation_select(query: ObservationQuery):
    o, s = t.observation, t.series
    stmt = (
        select(
            s.c.region_code,
            t.region.c.name,
            o.c.period,
            s.c.id,
            o.c.period_start,
            o.c.period_end,
            o.c.value_text,
            t.indicator.c.unit,
            o.c.flag,
            o.c.note,
        )
        .select_from(o)
        .join(s, s.c.id == o.c.series_id)
        .join(t.region, t.region.c.code == s.c.region_code)
        .join(t.indicator, t.indicator.c.id == s.c.indicator_id)
        .where(s.c.dataset_id == query.dataset_id)
    )
    if query.regions:
        stmt = stmt.where(s.c.region_code.in_(list(query.regions)))
    if query.start is not None:
        stmt = stmt.where(o.c.period_start >= query.start)
    if query.end is not None:
        stmt = stmt.where(o.c.period_end <= query.end)
    for slug, codes in query.dimensions.items():
        matching = (
            select(t.series_dimension.c.series_id)
            .join(t.dimension, t.dimension.c.id == t.series_dimension.c.dimension_id)
            .join(t.dimension_value, t.dimension_value.c.id == t.series_dimension.c.value_id)
            .where(
                t.dimension.c.dataset_id == query.dataset_id,
                t.dimension.c.slug == slug,
                t.dimension_value.c.code.in_(list(codes)),
            )
        )
        stmt = stmt.where(s.c.id.in_(matching))
    order = (s.c.region_code, s.c.id, o.c.period_start, o.c.period_end)
    if query.after is not None:
        region_code, series_id, start, end = query.after
        stmt = stmt.where(
            or_(
                s.c.region_code > region_code,
                and_(s.c.region_code == region_code, s.c.id > series_id),
                and_(
                    s.c.region_code == region_code,
                    s.c.id == series_id,
                    tuple_(o.c.period_start, o.c.period_end) > tuple_(start, end),
                ),
            )
        )
    stmt = stmt.order_by(*order)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    return stmt


def iter_observations(conn: Connection, query: ObservationQuery) -> Iterator[ObservationRow]:
    """Observations matching ``query`` in the stable order, streamed from the store."""
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(
        _observation_select(query)
    )
    try:
        for row in result:
            yield ObservationRow(*row)
    finally:  # a reader that stops early must not leave a server-side cursor open
        result.close()
