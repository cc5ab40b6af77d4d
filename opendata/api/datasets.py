"""Datasets: the list of what has been harvested, and each dataset's full metadata."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from flask.views import MethodView

from opendata import downloads
from opendata.api import lang as languages
from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import connection, freshness
from opendata.api.fields import UtcTime
from opendata.api.links import link
from opendata.filters import require_dataset
from opendata.model import HIGHER, LOWER, TargetSpec
from opendata.store import queries

blp = Blueprint("datasets", __name__, description="Statistical datasets and their metadata")


class TextsSchema(ma.Schema):
    """A text in Indonesian and, where there is one, in English."""

    id = ma.fields.String(required=True, metadata={"description": "In Indonesian."})
    en = ma.fields.String(metadata={"description": "In English, where there is one."})


class SourceSchema(ma.Schema):
    """Where a dataset comes from."""

    id = ma.fields.String(required=True, metadata={"description": "The harvester, e.g. `bps`."})
    title = ma.fields.String(required=True)
    url = ma.fields.String(allow_none=True)


class HarvestSchema(ma.Schema):
    """The latest finished harvest run of a dataset."""

    run_id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "description": "`ok`, `unchanged` (the source sent the same payloads as last time), "
            "`no-data` (the source had nothing), `failed` (the data is an earlier harvest's) or "
            "`interrupted` (the harvest process was stopped or killed; nothing of it was "
            "written)."
        },
    )
    started_at = UtcTime(required=True)
    finished_at = UtcTime(required=True)
    offline = ma.fields.Boolean(
        required=True, metadata={"description": "Harvested from recorded responses."}
    )
    added = ma.fields.Integer(required=True, metadata={"description": "Observations added."})
    changed = ma.fields.Integer(required=True, metadata={"description": "Observations revised."})
    unchanged = ma.fields.Integer(required=True)
    withdrawn = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Observations withdrawn: missing from a period the source published "
            "(kept in the store, no longer served)."
        },
    )
    links = ma.fields.Method(
        "_links",
        required=True,
        metadata={
            "description": "`run`: the run in the run log (`/api/v1/runs/{run_id}`): its "
            "messages and the payloads it fetched.",
            "type": "object",
            "properties": {"run": {"type": "string"}},
        },
    )

    def _links(self, harvest) -> dict[str, str]:
        return {"run": link("runs.RunDetail", run_id=harvest.run_id)}


class DatasetLinksSchema(ma.Schema):
    """The dataset, its observations and its CSV download.

    Relative (`/api/v1/...`) unless the server has a public URL (`OPENDATA_PUBLIC_URL`).
    """

    self = ma.fields.String(required=True)
    observations = ma.fields.String(required=True)
    csv = ma.fields.String(required=True)


def _instant(description: str) -> ma.fields.String:
    return ma.fields.String(
        required=True, allow_none=True, metadata={"format": "date-time", "description": description}
    )


class FreshnessSchema(ma.Schema):
    """How fresh a dataset is: when it was checked and changed, when it is due, if it is stale."""

    state = ma.fields.String(
        required=True,
        metadata={
            "enum": ["failing", "overdue", "never", "due", "fresh"],
            "description": "`fresh`: checked within its interval; `due`: the next scheduled "
            "harvest takes it; `overdue`: no check for a whole interval past due; `failing`: its "
            "last harvests failed `OPENDATA_STALE_AFTER_FAILURES` times in a row or more; "
            "`never`: not checked yet (docs/operations.md).",
        },
    )
    stale = ma.fields.Boolean(
        required=True,
        metadata={"description": "`overdue` or `failing`: do not trust it is current."},
    )
    due = ma.fields.Boolean(required=True, metadata={"description": "A check is due now."})
    check_every = ma.fields.String(
        required=True,
        metadata={
            "description": "How often it is checked: the catalog's `schedule.every`, or by "
            "`frequency` (`1w` for annual tables, `1d` for monthly ones)."
        },
    )
    last_checked = _instant("The end of the last harvest that reached the source (UTC).")
    last_changed = _instant("The end of the last harvest that changed its data (UTC).")
    source_last_update = _instant("The source's own last update, where it gives one (UTC).")
    next_due = _instant("When the next check is due (UTC); null: never checked, due now.")
    failures_in_a_row = ma.fields.Integer(
        required=True, metadata={"description": "Failed harvests since the last check."}
    )
    last_error = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The latest failure's error."}
    )


class DatasetSchema(ma.Schema):
    """A dataset in the list."""

    id = ma.fields.String(required=True)
    title = ma.fields.Nested(TextsSchema, required=True)
    label = ma.fields.String(
        required=True,
        metadata={
            "description": "The title in the language asked for (`lang`, else "
            "`Accept-Language`; Indonesian by default), or in the other where it lacks it."
        },
    )
    source = ma.fields.Nested(SourceSchema, required=True)
    frequency = ma.fields.String(
        allow_none=True, metadata={"description": "annual, semiannual, quarterly or monthly."}
    )
    units = ma.fields.List(ma.fields.String(), required=True)
    last_harvest = ma.fields.Nested(HarvestSchema, allow_none=True, required=True)
    freshness = ma.fields.Nested(FreshnessSchema, required=True)
    links = ma.fields.Nested(DatasetLinksSchema, required=True)

    @ma.pre_dump
    def _with_links(self, dataset: queries.DatasetInfo, **_kwargs) -> dict:
        links = {
            "self": link("datasets.DatasetDetail", dataset_id=dataset.id),
            "observations": link("observations.ObservationList", dataset_id=dataset.id),
            "csv": link("observations.ObservationCsv", dataset_id=dataset.id),
        }
        state = freshness().get(dataset.id)
        return {
            **vars(dataset),
            "label": languages.text(dataset.title),
            "description": dataset.description or None,
            "freshness": None if state is None else state.as_json(),
            "links": links,
        }


class DatasetListSchema(ma.Schema):
    """The harvested datasets."""

    data = ma.fields.List(ma.fields.Nested(DatasetSchema), required=True)


class IndicatorSchema(ma.Schema):
    """What one published variable measures."""

    code = ma.fields.String(required=True, metadata={"description": "The source's id."})
    name = ma.fields.String(required=True)
    unit = ma.fields.String(allow_none=True)
    decimals = ma.fields.Integer(
        allow_none=True, metadata={"description": "Decimals the source publishes."}
    )
    definition = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    subject = ma.fields.String(allow_none=True)
    source_ref = ma.fields.String(allow_none=True)
    source_last_update = UtcTime(allow_none=True)


class DimensionValueSchema(ma.Schema):
    """One value of a dimension."""

    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    is_total = ma.fields.Boolean(
        required=True, metadata={"description": "The value totals the others."}
    )


class DimensionSchema(ma.Schema):
    """A breakdown of the observations (sex, sector); filter with `dim.<id>=<code>`."""

    id = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    values = ma.fields.List(ma.fields.Nested(DimensionValueSchema), required=True)

    @ma.pre_dump
    def _as_dict(self, dimension: queries.DimensionInfo, **_kwargs) -> dict:
        values = [
            {"code": code, "label": label, "is_total": total}
            for code, label, total in dimension.values
        ]
        return {"id": dimension.slug, "label": dimension.label, "values": values}


class Scale(ma.fields.Number):
    """A decimal as a JSON number: an integer where it is one (``1000000``, not ``1000000.0``)."""

    num_type = Decimal

    def _serialize(self, value: Decimal | None, attr, obj, **kwargs):
        if value is None:
            return None
        return int(value) if value == value.to_integral_value() else float(value)


class TargetOfSchema(ma.Schema):
    """Which figures a dataset's figures are targets of."""

    dataset = ma.fields.String(required=True, metadata={"description": "The actual dataset."})
    indicator = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "Its indicator, if named."}
    )
    dimensions = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={"description": "The value code picked of its dimensions, by dimension id."},
    )


class BetterBySchema(ma.Schema):
    """Which way is better, per value of a dimension of the target dataset."""

    dimension = ma.fields.String(required=True)
    lower = ma.fields.List(ma.fields.String(), required=True)
    higher = ma.fields.List(ma.fields.String(), required=True)


class TargetLinksSchema(ma.Schema):
    """The actual dataset and the achievement."""

    actual = ma.fields.String(required=True)
    achievement = ma.fields.String(required=True)


class TargetSectionSchema(ma.Schema):
    """What a target dataset's figures are targets of (its catalog entry's `target:`)."""

    of = ma.fields.Nested(TargetOfSchema, required=True)
    better = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "`lower` or `higher`; null where `better_by` decides."},
    )
    better_by = ma.fields.Nested(BetterBySchema, required=True, allow_none=True)
    document = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The plan that set them."}
    )
    scale = Scale(
        required=True,
        allow_none=True,
        metadata={"description": "What a target is multiplied by to be in the actual's unit."},
    )
    links = ma.fields.Nested(TargetLinksSchema, required=True)


class TargetedByLinksSchema(ma.Schema):
    """The target dataset and its achievement."""

    self = ma.fields.String(required=True)
    achievement = ma.fields.String(required=True)


class TargetedBySchema(ma.Schema):
    """A dataset whose figures are targets of this dataset's."""

    dataset = ma.fields.String(required=True)
    title = ma.fields.Nested(TextsSchema, required=True)
    document = ma.fields.String(required=True, allow_none=True)
    links = ma.fields.Nested(TargetedByLinksSchema, required=True)


def _target(dataset_id: str, spec: TargetSpec | None) -> dict | None:
    if spec is None:
        return None
    better_by = None
    if spec.better_by is not None:
        codes = spec.better_values
        better_by = {
            "dimension": spec.better_by,
            "lower": [code for code, way in codes.items() if way == LOWER],
            "higher": [code for code, way in codes.items() if way == HIGHER],
        }
    return {
        "of": {
            "dataset": spec.dataset,
            "indicator": spec.indicator,
            "dimensions": dict(spec.dimensions),
        },
        "better": spec.better,
        "better_by": better_by,
        "document": spec.document,
        "scale": spec.scale,
        "links": {
            "actual": link("datasets.DatasetDetail", dataset_id=spec.dataset),
            "achievement": link("achievement.AchievementList", dataset_id=dataset_id),
        },
    }


def _targeted_by(of: queries.TargetOf) -> dict:
    return {
        "dataset": of.dataset_id,
        "title": of.title,
        "document": of.document,
        "links": {
            "self": link("datasets.DatasetDetail", dataset_id=of.dataset_id),
            "achievement": link("achievement.AchievementList", dataset_id=of.dataset_id),
        },
    }


class DownloadSchema(ma.Schema):
    """A whole-dataset download, and what to check it against."""

    url = ma.fields.String(required=True)
    media_type = ma.fields.String(required=True)
    sha256 = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The SHA-256 of the file's bytes (hex, as `sha256sum` prints it); "
            "null until the next harvest of the dataset makes it."
        },
    )
    digest = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The same as the download's `Repr-Digest` (RFC 9530)."},
    )
    bytes = ma.fields.Integer(required=True, allow_none=True)
    rows = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "Data rows (header not counted)."}
    )


class DownloadsSchema(ma.Schema):
    """The dataset's whole downloads, by format."""

    csv = ma.fields.Nested(DownloadSchema, required=True)


def _csv_download(dataset_id: str) -> dict:
    made = downloads.current_csv(connection(), dataset_id)
    return {
        "url": link("observations.ObservationCsv", dataset_id=dataset_id),
        "media_type": "text/csv",
        "sha256": made and made.sha256,
        "digest": made and downloads.repr_digest(made),
        "bytes": made and made.bytes,
        "rows": made and made.rows,
    }


class DatasetDetailSchema(DatasetSchema):
    """A dataset's full metadata."""

    description = ma.fields.Nested(TextsSchema, allow_none=True)
    license = ma.fields.String(allow_none=True)
    attribution = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    source_last_update = UtcTime(
        allow_none=True, metadata={"description": "The source's own last update of the data."}
    )
    data_changed_at = UtcTime(
        allow_none=True, metadata={"description": "When a harvest last changed the data."}
    )
    indicators = ma.fields.List(ma.fields.Nested(IndicatorSchema), required=True)
    dimensions = ma.fields.List(ma.fields.Nested(DimensionSchema), required=True)
    target = ma.fields.Nested(
        TargetSectionSchema,
        required=True,
        allow_none=True,
        metadata={"description": "For plan targets: what they are targets of; else null."},
    )
    targets = ma.fields.List(
        ma.fields.Nested(TargetedBySchema),
        required=True,
        metadata={"description": "The datasets whose figures are targets of this one's."},
    )
    downloads = ma.fields.Nested(
        DownloadsSchema,
        required=True,
        metadata={
            "description": "The whole dataset's files (no filter), each with its checksum, size "
            "and rows as the last harvest that changed the data made them."
        },
    )

    @ma.pre_dump
    def _with_links(self, dataset: queries.DatasetInfo, **kwargs) -> dict:
        data = super()._with_links(dataset, **kwargs)
        data["target"] = _target(dataset.id, dataset.target)
        data["targets"] = [_targeted_by(of) for of in dataset.targets]
        data["downloads"] = {"csv": _csv_download(dataset.id)}
        return data


class LangArgs(QueryArgs):
    """The language of the datasets' ``label``."""

    lang = languages.lang_field()


@blp.route("/datasets")
class DatasetList(MethodView):
    @blp.versioned(runs=True, fresh=True, lang=True)
    @blp.arguments(LangArgs, location="query")
    @blp.response(200, DatasetListSchema)
    def get(self, _args):
        """List the harvested datasets"""
        return {"data": queries.list_datasets(connection())}


@blp.route("/datasets/<dataset_id>")
class DatasetDetail(MethodView):
    @blp.versioned(runs=True, fresh=True, lang=True)
    @blp.arguments(LangArgs, location="query")
    @blp.response(200, DatasetDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, dataset_id):
        """A dataset's metadata: indicators, units, dimensions, source, license, harvests"""
        require_dataset(connection(), dataset_id)
        return queries.get_dataset(connection(), dataset_id)
