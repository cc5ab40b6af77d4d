"""Datasets: the list of what has been harvested, and each dataset's full metadata."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import connection
from opendata.api.links import link
from opendata.filters import require_dataset
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
    started_at = ma.fields.DateTime(required=True)
    finished_at = ma.fields.DateTime(required=True)
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


class DatasetLinksSchema(ma.Schema):
    """The dataset, its observations and its CSV download.

    Relative (`/api/v1/...`) unless the server has a public URL (`OPENDATA_PUBLIC_URL`).
    """

    self = ma.fields.String(required=True)
    observations = ma.fields.String(required=True)
    csv = ma.fields.String(required=True)


class DatasetSchema(ma.Schema):
    """A dataset in the list."""

    id = ma.fields.String(required=True)
    title = ma.fields.Nested(TextsSchema, required=True)
    source = ma.fields.Nested(SourceSchema, required=True)
    frequency = ma.fields.String(
        allow_none=True, metadata={"description": "annual, semiannual, quarterly or monthly."}
    )
    units = ma.fields.List(ma.fields.String(), required=True)
    last_harvest = ma.fields.Nested(HarvestSchema, allow_none=True, required=True)
    links = ma.fields.Nested(DatasetLinksSchema, required=True)

    @ma.pre_dump
    def _with_links(self, dataset: queries.DatasetInfo, **_kwargs) -> dict:
        links = {
            "self": link("datasets.DatasetDetail", dataset_id=dataset.id),
            "observations": link("observations.ObservationList", dataset_id=dataset.id),
            "csv": link("observations.ObservationCsv", dataset_id=dataset.id),
        }
        return {**vars(dataset), "description": dataset.description or None, "links": links}


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
    source_last_update = ma.fields.DateTime(allow_none=True)


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


class DatasetDetailSchema(DatasetSchema):
    """A dataset's full metadata."""

    description = ma.fields.Nested(TextsSchema, allow_none=True)
    license = ma.fields.String(allow_none=True)
    attribution = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    source_last_update = ma.fields.DateTime(
        allow_none=True, metadata={"description": "The source's own last update of the data."}
    )
    data_changed_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "When a harvest last changed the data."}
    )
    indicators = ma.fields.List(ma.fields.Nested(IndicatorSchema), required=True)
    dimensions = ma.fields.List(ma.fields.Nested(DimensionSchema), required=True)


@blp.route("/datasets")
class DatasetList(MethodView):
    @blp.versioned(runs=True)
    @blp.arguments(QueryArgs, location="query")
    @blp.response(200, DatasetListSchema)
    def get(self, _args):
        """List the harvested datasets"""
        return {"data": queries.list_datasets(connection())}


@blp.route("/datasets/<dataset_id>")
class DatasetDetail(MethodView):
    @blp.versioned(runs=True)
    @blp.arguments(QueryArgs, location="query")
    @blp.response(200, DatasetDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, dataset_id):
        """A dataset's metadata: indicators, units, dimensions, source, license, harvests"""
        require_dataset(connection(), dataset_id)
        return queries.get_dataset(connection(), dataset_id)
