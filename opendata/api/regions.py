"""Regions: Indonesia, its provinces, kabupaten/kota (regencies and cities) and kecamatan.

Read from the store, so regions a harvest added (districts, say) are there too. Any code system
names a region: BPS codes (canonical), Kemendagri codes (``63.71``) and BPS codes from before the
2022 Papua split.
"""

from __future__ import annotations

from collections import defaultdict

import marshmallow as ma
from flask.views import MethodView

from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import data_version, region_index, state
from opendata.api.fields import Text
from opendata.filters import resolve_regions
from opendata.regions import LEVELS, RegionIndex, RegionInfo

blp = Blueprint("regions", __name__, description="Regions and their codes in every system")

_CODES = "a BPS code (`6371`), a Kemendagri code (`63.71`) or a BPS code from before 2023"


class RegionQueryArgs(QueryArgs):
    """Filters of the region list."""

    level = Text(
        give=f"a level ({', '.join(LEVELS)})",
        validate=ma.validate.OneOf(LEVELS),
        metadata={"description": "Only regions of this level."},
    )
    parent = Text(
        give="a region code, e.g. parent=6300",
        metadata={
            "description": f"Only the regions directly under this one: {_CODES}. An unknown "
            "code is a 400."
        },
    )


class RegionSchema(ma.Schema):
    """A region."""

    code = ma.fields.String(required=True, metadata={"description": "The BPS code."})
    name = ma.fields.String(required=True)
    level = ma.fields.String(
        required=True, metadata={"description": "country, province, regency or district."}
    )
    parent_code = ma.fields.String(
        required=True, allow_none=True, attribute="parent", metadata={"description": "BPS code."}
    )


class RegionListSchema(ma.Schema):
    """Regions, by code."""

    data = ma.fields.List(ma.fields.Nested(RegionSchema), required=True)


class AliasSchema(ma.Schema):
    """A code of the region in another code system."""

    system = ma.fields.String(
        required=True, metadata={"description": "`kemendagri` or `bps-legacy`."}
    )
    code = ma.fields.String(required=True)


class RegionDetailSchema(RegionSchema):
    """A region with its other codes, its parent and its children."""

    bps_name = ma.fields.String(
        allow_none=True, metadata={"description": "The name in BPS tables, if it differs."}
    )
    aliases = ma.fields.List(ma.fields.Nested(AliasSchema), required=True)
    parent = ma.fields.Nested(
        RegionSchema, attribute="parent_region", allow_none=True, required=True
    )
    children = ma.fields.List(ma.fields.Nested(RegionSchema), required=True)


def _aliases(index: RegionIndex) -> dict[str, list[dict[str, str]]]:
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    for alias in index.aliases:
        by_code[alias.code].append({"system": alias.system, "code": alias.alias})
    return dict(by_code)


@blp.route("/regions")
class RegionList(MethodView):
    @blp.versioned
    @blp.arguments(RegionQueryArgs, location="query")
    @blp.response(200, RegionListSchema)
    def get(self, args):
        """List regions, by level or under a parent"""
        index = region_index()
        if "parent" in args:
            [parent] = resolve_regions(index, [args["parent"]], "parent")
            regions = index.children(parent)
        else:
            regions = index.regions
        if "level" in args:
            regions = [r for r in regions if r.level == args["level"]]
        return {"data": regions}


@blp.route("/regions/<code>")
class RegionDetail(MethodView):
    @blp.versioned
    @blp.arguments(QueryArgs, location="query")
    @blp.response(200, RegionDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, code):
        """A region by any of its codes, with its parent and children"""
        index = region_index()
        region: RegionInfo = index.require(code)
        aliases = state().derived.get_or_make(data_version(), "aliases", lambda: _aliases(index))
        return {
            **vars(region),
            "aliases": aliases.get(region.code, []),
            "parent_region": index.get(region.parent) if region.parent else None,
            "children": index.children(region.code),
        }
