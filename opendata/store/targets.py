"""Read queries for plan targets (issue 8): target cells, the actual figures they are compared
with, and which dataset targets which.

A target dataset's cells come in the order of observations (region code, series, period start,
period end: :mod:`opendata.store.queries`), which is also their keyset for paging, with the
same filters; each cell keeps both ends of a range (``value_text``, ``value_to_text``). The
actual figures of a page are read in one query, whatever the page's size.

The target section of a dataset is the one its last harvest wrote (``dataset.target``), so
target and actual link whichever of the two was harvested first. Nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Connection, select

from opendata.achievement import Series
from opendata.model import TargetSpec
from opendata.store import schema as t

if TYPE_CHECKING:
    from opendata.store.queries import ObservationQuery


class TargetRow(NamedTuple):
    """A target cell; the first six positions are those of ``queries.ObservationRow``."""

    region_code: str
    region_name: str
    period: str
    series_id: int
    period_start: date
    period_end: date
    value_text: str | None  #: a figure, or a range's end as published first
    value_to_text: str | None  #: a range's other end
    flag: str | None
    note: str | None  #: the target cell's note (its source, a caveat)


class ActualRow(NamedTuple):
    """An observation of the actual dataset."""

    series_id: int
    period: str
    period_start: date
    period_end: date
    value_text: str | None
    flag: str | None
    note: str | None


@dataclass(frozen=True)
class TargetOf:
    """A harvested dataset whose figures are targets of another one's."""

    dataset_id: str
    title: dict[str, str]
    document: str | None


def dataset_target(conn: Connection, dataset_id: str) -> TargetSpec | None:
    """The ``target:`` section of a dataset's last harvest; None if its figures are no targets."""
    raw = conn.execute(select(t.dataset.c.target).where(t.dataset.c.id == dataset_id)).scalar()
    return None if raw is None else TargetSpec.from_json(json.loads(raw))


def targets_of(conn: Connection, dataset_id: str) -> list[TargetOf]:
    """The harvested datasets whose figures are targets of ``dataset_id``'s, by id."""
    d = t.dataset
    rows = conn.execute(
        select(d.c.id, d.c.title_id, d.c.title_en, d.c.target)
        .where(d.c.target.is_not(None))
        .order_by(d.c.id)
    )
    found = []
    for row in rows:  # a few rows: the JSON is read here rather than in two SQL dialects
        spec = TargetSpec.from_json(json.loads(row.target))
        if spec.dataset == dataset_id:
            title = {k: v for k, v in (("id", row.title_id), ("en", row.title_en)) if v}
            found.append(TargetOf(row.id, title, spec.document))
    return found


def dataset_series(conn: Connection, dataset_id: str) -> list[Series]:
    """The served series of a dataset: region, indicator (code, unit) and dimension values."""
    s, i = t.series, t.indicator
    rows = conn.execute(
        select(s.c.id, s.c.region_code, i.c.code, i.c.unit)
        .join(i, i.c.id == s.c.indicator_id)
        .where(s.c.dataset_id == dataset_id, s.c.retired_run_id.is_(None))
        .order_by(s.c.id)
    ).all()
    dims = conn.execute(
        select(t.series_dimension.c.series_id, t.dimension.c.slug, t.dimension_value.c.code)
        .join(s, s.c.id == t.series_dimension.c.series_id)
        .join(t.dimension, t.dimension.c.id == t.series_dimension.c.dimension_id)
        .join(t.dimension_value, t.dimension_value.c.id == t.series_dimension.c.value_id)
        .where(s.c.dataset_id == dataset_id, s.c.retired_run_id.is_(None))
    )
    by_series: dict[int, dict[str, str]] = {}
    for series_id, slug, code in dims:
        by_series.setdefault(series_id, {})[slug] = code
    return [
        Series(row.id, row.region_code, row.code, row.unit, by_series.get(row.id, {}))
        for row in rows
    ]


def _target_select(query: ObservationQuery):
    o, s = t.observation, t.series
    stmt = (
        select(
            s.c.region_code,
            t.region.c.name.label("region_name"),
            o.c.period,
            s.c.id.label("series_id"),
            o.c.period_start,
            o.c.period_end,
            o.c.value_text,
            o.c.value_to_text,
            o.c.flag,
            o.c.note,
        )
        .select_from(o)
        .join(s, s.c.id == o.c.series_id)
        .join(t.region, t.region.c.code == s.c.region_code)
        .where(
            s.c.dataset_id == query.dataset_id,
            s.c.retired_run_id.is_(None),
            o.c.withdrawn_run_id.is_(None),
        )
    )
    from opendata.store.queries import filtered  # queries imports this module

    # the observations' filters, order, keyset and limit (no dimension filters are given here)
    return filtered(stmt, query)


def page_of_targets(conn: Connection, query: ObservationQuery) -> list[TargetRow]:
    """A page (``query.limit``, after ``query.after``) of a target dataset's cells, in order.

    ``query.dimensions`` is not read: the achievement has no dimension filters.
    """
    return [TargetRow(*row) for row in conn.execute(_target_select(query))]


def actual_observations(
    conn: Connection, series_ids: Collection[int], start: date, end: date
) -> list[ActualRow]:
    """The served observations of these series within [start, end], in one query."""
    if not series_ids:
        return []
    o = t.observation
    rows = conn.execute(
        select(
            o.c.series_id,
            o.c.period,
            o.c.period_start,
            o.c.period_end,
            o.c.value_text,
            o.c.flag,
            o.c.note,
        )
        .where(
            o.c.series_id.in_(sorted(series_ids)),
            o.c.withdrawn_run_id.is_(None),
            o.c.period_start >= start,
            o.c.period_end <= end,
        )
        .order_by(o.c.series_id, o.c.period_start, o.c.period_end)
    )
    return [ActualRow(*row) for row in rows]
