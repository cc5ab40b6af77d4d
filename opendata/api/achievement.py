"""The achievement (capaian) of a target dataset: its targets against the actual figures.

A dataset whose catalog entry has a ``target:`` section holds plan figures (RPJMD, RKPD) of
another dataset's (BPS). Each target cell is served with the actual figure it is compared with
and the percentage the performance reports print (see :mod:`opendata.achievement`), a page at a
time in the order and with the filters of observations, or as one CSV.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from opendata.achievement import Match, Matcher, Series, assess, pick_actual
from opendata.api.base import Blueprint
from opendata.api.context import connection, data_version, dataset_meta, state
from opendata.api.cursor import decode_cursor, encode_cursor, filters_digest
from opendata.api.links import link
from opendata.api.observations import (
    DISPOSITION_HEADER,
    LINK_HEADER,
    WARNINGS_HEADER,
    DimensionValueRefSchema,
    ObservationFilterArgs,
    ObservationQueryArgs,
    RegionRefSchema,
    common_query,
    file_name,
    next_link,
    region_warnings,
    warn_header,
)
from opendata.filters import (
    UnknownDataset,
    require_dataset,
)
from opendata.formats.achievement import AchievementRow, write_csv, write_page
from opendata.model import TargetSpec
from opendata.store import queries, targets

blp = Blueprint(
    "achievement",
    __name__,
    description="Plan targets against the actual figures: the achievement (capaian)",
)

#: target cells per store query of the CSV (each page costs one more query for its actuals)
CSV_PAGE = 1000
_NO_MATCH = Match(None, None, True, None, None)


class _NoDimensions:
    """Region and period filters only: a ``dim.<id>`` parameter is an unknown one here (400).

    Overrides the observation arguments' ``pre_load`` hook (which sets dimension parameters
    aside for the observation view) by a plain method of the same name: no hook at all.
    """

    extra_parameters: tuple[str, ...] = ()
    openapi_parameters: tuple[dict, ...] = ()

    def _without_dimensions(self, data, **_kwargs):
        return data


class AchievementFilterArgs(_NoDimensions, ObservationFilterArgs):
    """``region``, ``from`` and ``to``, exactly as on observations."""


class AchievementQueryArgs(_NoDimensions, ObservationQueryArgs):
    """The filters, and the page (``cursor``, ``limit``) as on observations."""

    class Meta:
        exclude = ("count",)  # the observations' count: not of achievement cells


class TargetRangeSchema(ma.Schema):
    """A target: a figure (``low`` = ``high``) or a range, in the unit of ``unit``."""

    low = ma.fields.Decimal(required=True, allow_none=True)
    high = ma.fields.Decimal(required=True, allow_none=True)


class AchievementSchema(ma.Schema):
    """A target cell against the actual figure it is compared with."""

    region = ma.fields.Nested(RegionRefSchema, required=True)
    period = ma.fields.String(required=True, metadata={"description": "The target's period."})
    dimensions = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(DimensionValueRefSchema),
        required=True,
        metadata={"description": "The value of each dimension of the target dataset, by id."},
    )
    target = ma.fields.Nested(
        TargetRangeSchema,
        required=True,
        metadata={
            "description": "The smaller and the larger end of the target (equal for a single "
            "figure; null where the target cell has none), in `unit`: multiplied by the "
            "catalog's `target.scale` where there is one. Where units differ without a scale "
            "(a warning says so), in `target_unit`."
        },
    )
    actual = ma.fields.Decimal(
        required=True,
        allow_none=True,
        metadata={"description": "The actual figure, exact; null where there is none (yet)."},
    )
    actual_period = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The period of `actual`: the target's, or the latest one within "
            "it (`2024-08` against a `2024` target)."
        },
    )
    unit = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The unit of `target` and `actual`: the actual's (the target's "
            "while the actual dataset has not been harvested)."
        },
    )
    better = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "`lower` or `higher`: which way a figure is better."},
    )
    achieved = ma.fields.Boolean(
        required=True,
        allow_none=True,
        metadata={"description": "Whether `actual` meets the target (at its easier end)."},
    )
    achievement = ma.fields.Decimal(
        required=True,
        allow_none=True,
        metadata={
            "description": "actual / target x 100 where higher is better, target / actual x 100 "
            "where lower is better, 2 decimals rounded half up; null without an actual, or "
            "where units differ or it divides by zero."
        },
    )
    target_unit = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The unit the targets were published in."},
    )
    target_flag = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The target cell's flag (as on observations): its footnote."},
    )
    target_note = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The target cell's note: where the target comes from, or a caveat "
            "(a target set on another method than the actual's)."
        },
    )
    actual_flag = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The actual figure's flag, as on its observation."},
    )
    actual_note = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The actual figure's note (a provisional figure, another year's "
            "figure standing in), as on its observation."
        },
    )


class AchievementPageSchema(ma.Schema):
    """A page of target cells with their achievement, the next page, and warnings."""

    data = ma.fields.List(ma.fields.Nested(AchievementSchema), required=True)
    next = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The URL of the next page, null on the last page."},
    )
    warnings = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "What the answer may silently lack, in words; empty when nothing: "
            "a requested region without targets, an actual dataset not harvested yet, units "
            "that differ, an actual figure the catalog entry does not say how to find."
        },
    )


@dataclass(frozen=True)
class Plan:
    """How a target dataset's series are compared (one per data version, cached)."""

    dataset_id: str
    spec: TargetSpec
    harvested: bool  #: whether the actual dataset has been harvested
    matches: Mapping[int, Match]  #: target series id -> its match
    regions: Mapping[int, str]  #: target series id -> region code

    def warnings(self, regions: Sequence[str]) -> list[str]:
        """What the answer for these regions (all if none) may silently lack."""
        found = []
        if not self.harvested:
            found.append(
                f"the actual figures of {self.dataset_id} are those of {self.spec.dataset}, "
                "which has not been harvested yet: actual and achievement are null"
            )
        wanted = set(regions)
        for series_id, match in self.matches.items():
            if not wanted or self.regions[series_id] in wanted:
                found += match.warnings
        return list(dict.fromkeys(found))


def _not_a_target(dataset_id: str) -> UnknownDataset:
    conn = connection()
    observations = link("observations.ObservationList", dataset_id=dataset_id)
    detail = (
        f"{dataset_id} holds no plan targets (its catalog entry has no target: section), so "
        f"it has no achievement; its figures are at {observations}"
    )
    of = targets.targets_of(conn, dataset_id)
    if of:
        urls = ", ".join(link("achievement.AchievementList", dataset_id=t.dataset_id) for t in of)
        detail += f"; the achievement against its figures is at {urls}"
    return UnknownDataset(detail)


def _make_plan(dataset_id: str) -> Plan:
    conn = connection()
    require_dataset(conn, dataset_id)
    spec = targets.dataset_target(conn, dataset_id)
    if spec is None:
        raise _not_a_target(dataset_id)
    try:
        require_dataset(conn, spec.dataset)
    except UnknownDataset:
        actual: list[Series] | None = None
        units: dict[str, str | None] = {}
        totals: dict[str, str | None] = {}
    else:
        actual = targets.dataset_series(conn, spec.dataset)
        units = {i.code: i.unit for i in queries.dataset_indicators(conn, spec.dataset)}
        totals = {
            d.slug: next((code for code, _label, total in d.values if total), None)
            for d in queries.dataset_dimensions(conn, spec.dataset)
        }
    matcher = Matcher(dataset_id, spec, actual, units, totals)
    series = targets.dataset_series(conn, dataset_id)
    return Plan(
        dataset_id,
        spec,
        actual is not None,
        {s.id: matcher.match(s) for s in series},
        {s.id: s.region for s in series},
    )


def plan(dataset_id: str) -> Plan:
    """The comparison plan of a target dataset; UnknownDataset (404) if it is none."""
    return state().derived.get_or_make(
        data_version(), ("achievement", dataset_id), lambda: _make_plan(dataset_id)
    )


def assess_rows(conn, plan_: Plan, rows: Sequence[targets.TargetRow]) -> list[AchievementRow]:
    """The achievement of a page of target cells, their actual figures read in one query."""
    if not rows:
        return []
    matches = [plan_.matches.get(row.series_id, _NO_MATCH) for row in rows]
    wanted = {m.actual for m in matches if m.actual is not None}
    start = min(row.period_start for row in rows)
    end = max(row.period_end for row in rows)
    by_series: dict[int, list] = {}
    for obs in targets.actual_observations(conn, wanted, start, end):
        by_series.setdefault(obs.series_id, []).append(obs[1:])
    result = []
    for row, match in zip(rows, matches, strict=True):
        found = pick_actual(
            row.period, row.period_start, row.period_end, by_series.get(match.actual or 0, ())
        )
        actual_period, _, _, actual, actual_flag, actual_note = found or (None,) * 6
        outcome = assess(
            row.value_text,
            row.value_to_text,
            actual,
            match.better,
            plan_.spec.scale,
            match.comparable,
        )
        result.append(
            AchievementRow(
                row.region_code,
                row.region_name,
                row.period,
                row.series_id,
                outcome.low,
                outcome.high,
                actual,
                actual_period,
                match.unit,
                match.target_unit,
                match.better,
                outcome.achieved,
                outcome.achievement,
                row.flag,
                row.note,
                actual_flag,
                actual_note,
            )
        )
    return result


def _query(dataset_id: str, args: dict) -> tuple[Plan, queries.ObservationQuery, list[str]]:
    """The plan, the store query of the filters, and the warnings; 404 or 400 on bad input."""
    plan_ = plan(dataset_id)
    query = common_query(dataset_id, args)  # region, within, level, from, to, latest
    warnings = region_warnings(dataset_id, query)
    return plan_, query, warnings + plan_.warnings(query.served_regions() or [])


@blp.route("/datasets/<dataset_id>/achievement")
class AchievementList(MethodView):
    @blp.versioned
    @blp.arguments(AchievementQueryArgs, location="query")
    @blp.response(
        200,
        AchievementPageSchema,
        headers={"Link": LINK_HEADER, "Opendata-Warnings": WARNINGS_HEADER},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """The achievement of a target dataset's targets, a page at a time

        For a dataset whose figures are plan targets of another dataset's (its `target`):
        each target with the actual figure of the same region and period (or the latest one
        within the period), whether it is achieved, and the achievement in percent. In the
        order of observations; follow `next` for the next page.
        """
        plan_, query, warnings = _query(dataset_id, args)
        digest = filters_digest(query)
        if args.get("cursor"):
            query.after = decode_cursor(args["cursor"], digest)
        limit = args.get("limit") or state().settings.PAGE_SIZE
        query.limit = limit + 1
        conn = connection()
        rows = targets.page_of_targets(conn, query)
        next_url = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_url = next_link(encode_cursor(queries.keyset(rows[-1]), digest))
        meta = dataset_meta(dataset_id)
        items = assess_rows(conn, plan_, rows)
        body = write_page(items, meta.slugs, meta.series_dimensions_on(conn), next_url, warnings)
        response = Response(body, mimetype="application/json")
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return warn_header(response, warnings)


@blp.route("/datasets/<dataset_id>/achievement.csv")
class AchievementCsv(MethodView):
    @blp.versioned(keep=False)
    @blp.arguments(AchievementFilterArgs, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description="RFC 4180 CSV, UTF-8: region_code, region_name, period, "
        "`<dimension>_code` and `<dimension>` per dimension, target_low, target_high, actual, "
        "actual_period, unit, better, achieved, achievement, target_flag, target_note, "
        "actual_flag, actual_note.",
        headers={"Content-Disposition": DISPOSITION_HEADER, "Opendata-Warnings": WARNINGS_HEADER},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """The achievement of a target dataset's targets as one CSV file

        The same filters as the JSON achievement, every row, streamed.
        """
        plan_, query, warnings = _query(dataset_id, args)
        meta = dataset_meta(dataset_id)
        engine = state().engine

        def pages(conn) -> Iterator[list[AchievementRow]]:
            query.limit = CSV_PAGE
            while True:
                rows = targets.page_of_targets(conn, query)
                yield assess_rows(conn, plan_, rows)
                if len(rows) < CSV_PAGE:
                    return
                query.after = queries.keyset(rows[-1])

        def chunks():
            # A connection of the stream's own: the request's is closed before the first chunk.
            with engine.connect() as conn:
                yield from write_csv(meta.slugs, pages(conn), meta.series_dimensions_on(conn))

        response = Response(chunks(), mimetype="text/csv")
        name = file_name(f"{dataset_id}_achievement", query, args, [])
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return warn_header(response, warnings)
