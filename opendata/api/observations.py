"""Observations of a dataset: pages of JSON with keyset pagination, or one streamed CSV."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from opendata import downloads
from opendata.api import history
from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import connection, dataset_meta, region_index, state
from opendata.api.cursor import decode_cursor, encode_cursor, filters_digest
from opendata.api.fields import Codes, Count, Text
from opendata.api.history import HistoryArgs
from opendata.api.lang import lang_field
from opendata.api.links import link_here, next_link  # noqa: F401 - next_link: revisions, achievement
from opendata.filters import (
    check_dimensions,
    dimension_filters,
    parse_periods,
    period_bounds,
    regions_without_data,
    resolve_regions,
)
from opendata.formats.csv import write_csv
from opendata.formats.json import write_observations
from opendata.store import history as store_history
from opendata.store import queries

blp = Blueprint(
    "observations",
    __name__,
    description="The figures of a dataset: one per region, period and dimension values",
)

PERIOD_PATTERN = r"[1-9][0-9]{3}(?:-(?:0[1-9]|1[0-2]|Q[1-4]|S[12]))?"
_PERIODS = "`2020`, `2020-03`, `2020-Q1` or `2020-S2`"
_NOT_A_PERIOD = (
    "not a period: use YYYY (2024), YYYY-MM (2024-08), YYYY-Qn (2024-Q3) or YYYY-Sn (2024-S1)"
)
_A_PERIOD = "a period, e.g. 2024 or 2024-Q3"


#: one or more comma-separated codes, none blank (as :func:`opendata.filters.split_codes` reads)
CODES_PATTERN = r"^[^,]*[^\s,][^,]*(?:,[^,]*[^\s,][^,]*)*$"

#: ``dim.<dimension id>``: one parameter per dimension, so in OpenAPI terms one object parameter
#: exploded into its properties (``style: form, explode: true``): its name, ``dim``, is never sent.
#: No example: the dimensions are the dataset's own, and most datasets lack any one of them.
DIMENSION_PARAMETER = {
    "name": "dim",
    "in": "query",
    "style": "form",
    "explode": True,
    "description": "Dimension filters, one query parameter per dimension: "
    "`dim.<dimension id>=<code>[,<code>]`, e.g. `dim.harga=530,531` (repeating one adds "
    "codes). The dimension ids and value codes are the dataset's own (its `dimensions`): a "
    "dimension or value code the dataset lacks is a 400, as is an empty code. As an object, "
    "each property is sent as a parameter of its own: "
    '`{"dim.harga": "530,531"}` is `?dim.harga=530,531`.',
    "schema": {
        "type": "object",
        "propertyNames": {"pattern": r"^dim\.[a-z][a-z0-9_]{0,62}$"},
        "additionalProperties": {"type": "string", "pattern": CODES_PATTERN},
    },
}


class ObservationFilterArgs(QueryArgs):
    """The filters of observations (besides ``dim.<id>``, read from the query string as is)."""

    #: named after the dataset's dimensions, so not fields: see :meth:`_without_dimensions`
    extra_parameters = ("dim.<dimension id>",)
    openapi_parameters = (DIMENSION_PARAMETER,)

    region = Codes(
        give="region codes, e.g. region=6371,6372",
        metadata={
            "description": "Region code(s), comma-separated, in any code system: BPS (`6371`, "
            "`6300`), Kemendagri (`63.71`, `63`), or BPS codes from before 2023. Repeating "
            "the parameter adds codes: `region=6371&region=6372` is `region=6371,6372`. "
            "An unknown or empty code is a 400."
        },
    )
    from_ = Text(
        data_key="from",
        give=_A_PERIOD,
        pattern=PERIOD_PATTERN,
        error=_NOT_A_PERIOD,
        metadata={
            "description": f"Keep periods that start on or after the start of this period "
            f"({_PERIODS}): `from=2020-03` keeps `2020-Q2` but not `2020-Q1`. A `from` that "
            "starts after `to` ends is a 400."
        },
    )
    to = Text(
        give=_A_PERIOD,
        pattern=PERIOD_PATTERN,
        error=_NOT_A_PERIOD,
        metadata={
            "description": f"Keep periods that end on or before the end of this period "
            f"({_PERIODS}): `to=2020` keeps `2020-Q4` and `2020`."
        },
    )

    lang = lang_field()

    @ma.pre_load
    def _without_dimensions(self, data, **_kwargs):
        # dim.<id> parameters are named after the dataset's dimensions: the view reads them.
        return {key: data[key] for key in data if not key.startswith("dim.")}


class PageArgs(ObservationFilterArgs):
    """Filters and a page (of observations, of cells)."""

    cursor = Text(
        give="the cursor of a page's next link",
        metadata={"description": "Where the page starts: from the `next` link of a page."},
    )
    limit = Count(
        give="a number of observations, e.g. limit=100",
        metadata={
            "description": "Observations per page (`OPENDATA_PAGE_SIZE`, at most "
            "`OPENDATA_MAX_PAGE_SIZE`), in ASCII digits (`0`-`9`) only.",
            "x-default-setting": "PAGE_SIZE",
            "x-maximum-setting": "MAX_PAGE_SIZE",
        },
    )

    @ma.validates("limit")
    def _at_most_max(self, value: int, data_key: str) -> None:
        maximum = state().settings.MAX_PAGE_SIZE
        if value > maximum:
            raise ma.ValidationError(f"at most {maximum} observations per page")


class ObservationQueryArgs(PageArgs, HistoryArgs):
    """Filters, history and the page of the JSON observations."""


class ObservationCsvArgs(ObservationFilterArgs, HistoryArgs):
    """Filters and history of the CSV observations."""


class RegionRefSchema(ma.Schema):
    """The region of an observation."""

    code = ma.fields.String(required=True, metadata={"description": "BPS code."})
    name = ma.fields.String(required=True)


class DimensionValueRefSchema(ma.Schema):
    """The value of one dimension of an observation."""

    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)


class ObservationSchema(ma.Schema):
    """One figure: a region, a period, the dimension values, the value as the source sent it."""

    region = ma.fields.Nested(RegionRefSchema, required=True)
    period = ma.fields.String(
        required=True, metadata={"description": "`2024`, `2024-S1`, `2024-Q3` or `2024-08`."}
    )
    dimensions = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(DimensionValueRefSchema),
        required=True,
        metadata={"description": "The value of each dimension, by dimension id."},
    )
    value = ma.fields.Decimal(
        required=True,
        allow_none=True,
        metadata={
            "description": "The exact decimal the source sent (`7.10` stays `7.10`); for a "
            "range, its first end as published."
        },
    )
    value_to = ma.fields.Decimal(
        metadata={
            "description": "Only where the value is a range (a target `6,0-6,9` of a target "
            "set): its second end, exact as `value`, in the published order (`0,22-0,18` is "
            "`value` 0.22, `value_to` 0.18). Absent for a single figure."
        },
    )
    unit = ma.fields.String(required=True, allow_none=True)
    flag = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Why `value` is null, or the source's mark on it: `M` missing (nil), "
            "`L` not available, `C` confidential, or the source's own short mark (`*`, `r`, "
            "`e`); null for a plain figure. See `docs/api.md`, Flags."
        },
    )
    note = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The source's note."}
    )
    change = ma.fields.String(
        validate=ma.validate.OneOf(["added", "revised", "withdrawn"]),
        metadata={
            "description": "Only with `updated_after`: `added` (not served at that instant: "
            "new, or back after a withdrawal), `revised` (served then, with other values) or "
            "`withdrawn` (no longer served: `value`, `flag` and `note` are null)."
        },
    )
    updated_at = ma.fields.String(
        metadata={
            "description": "Only with `updated_after`: when the change was served, RFC 3339 "
            "UTC (the end of the harvest run that made it).",
            "format": "date-time",
        },
    )


class ObservationPageSchema(ma.Schema):
    """A page of observations, the link to the next one, and warnings about the request."""

    data = ma.fields.List(ma.fields.Nested(ObservationSchema), required=True)
    next = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The URL of the next page, null on the last page: relative "
            "(`/api/v1/...`, resolve it against the URL you asked for) unless the server has "
            "a public URL (`OPENDATA_PUBLIC_URL`)."
        },
    )
    warnings = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "What the answer may silently lack, in words; empty when nothing. "
            "Each requested region that has no observations at all in the dataset (not merely "
            "none in the filtered periods): `region 6371 (Kota Banjarmasin) has no "
            "observations in tpt-provinsi`. Every page repeats them."
        },
    )
    as_of = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Only with `as_of` or `updated_after`: the end of the harvest run "
            "whose data the answer shows (RFC 3339 UTC; null before the first harvest). After "
            "`updated_after`, the instant to poll with next.",
            "format": "date-time",
        },
    )


LINK_HEADER = {
    "description": 'The next page, `<url>; rel="next"`, on every page that has one.',
    "schema": {"type": "string"},
}
WARNINGS_HEADER = {
    "description": "The `warnings` of the request (see the JSON page), when there are any, as "
    'an RFC 8941 list of strings: `"region 6371 (Kota Banjarmasin) has no observations in '
    'tpt-provinsi"`. A CSV body stays data only, so this header is where a CSV download '
    "says it.",
    "schema": {"type": "string"},
}
AS_OF_HEADER = {
    "description": "With `as_of` or `updated_after`: the `as_of` of the answer (the end of "
    "the harvest run whose data it shows), RFC 3339 UTC; absent before the first harvest.",
    "schema": {"type": "string"},
}
REPR_DIGEST_HEADER = {
    "description": "Only on the whole dataset's CSV (no filter): the SHA-256 of the file, "
    "`sha-256=:<base64>:` (RFC 9530), as the dataset's `downloads.csv.digest` publishes it; "
    "absent until a harvest has made it.",
    "schema": {"type": "string"},
}
TOTAL_COUNT_HEADER = {
    "description": "The number of data rows the body holds (the header row not counted), "
    "where it is known before the body is sent.",
    "schema": {"type": "integer"},
}
DISPOSITION_HEADER = {
    "description": "`attachment` with a file name naming the dataset and the filters.",
    "schema": {"type": "string"},
}


def filter_query(dataset_id: str, args: dict) -> queries.ObservationQuery:
    """The store query of these filters; raise FilterError naming a bad one."""
    meta = dataset_meta(dataset_id)
    start, end = period_bounds(args.get("from_"), args.get("to"))
    regions = resolve_regions(region_index(), args.get("region", []))
    wanted = dimension_filters(request.args.items(multi=True))
    check_dimensions(meta.dimensions, wanted, dataset_id)
    return queries.ObservationQuery(dataset_id, regions, start, end, wanted)


def region_warnings(dataset_id: str, query: queries.ObservationQuery) -> list[str]:
    """Each requested region that has no observations at all in the dataset, in words (for
    history, none ever: a region whose figures were withdrawn since had some then)."""
    if query.as_of_run is not None or query.changed_after_run is not None:
        with_data = store_history.regions_ever(connection(), dataset_id)
    else:
        with_data = dataset_meta(dataset_id).regions
    return regions_without_data(region_index(), query.regions, with_data, dataset_id)


def _sf_string(text: str) -> str:
    """``text`` as an RFC 8941 string: printable ASCII, quoted (accents dropped)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    printable = "".join(c for c in ascii_text if " " <= c <= "~")
    return '"' + printable.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: the most bytes of warnings a header carries: proxies refuse larger headers (nginx: 4-8 KB)
MAX_WARNINGS_HEADER = 2000


def warn_header(response: Response, warnings: list[str]) -> Response:
    """Carry ``warnings`` in the ``Opendata-Warnings`` header, at most MAX_WARNINGS_HEADER bytes:
    past that, a last item says how many more there are (all are in a JSON body's warnings)."""
    items, size = [], 0
    for number, warning in enumerate(warnings):
        item = _sf_string(warning)
        if size + len(item) > MAX_WARNINGS_HEADER:
            more = len(warnings) - number
            items.append(_sf_string(f"{more} more warning(s): see the warnings of the JSON"))
            break
        items.append(item)
        size += len(item) + 2
    if items:
        response.headers["Opendata-Warnings"] = ", ".join(items)
    return response


@blp.route("/datasets/<dataset_id>/observations")
class ObservationList(MethodView):
    @history.cache_control
    @blp.versioned
    @blp.arguments(ObservationQueryArgs, location="query")
    @blp.response(
        200,
        ObservationPageSchema,
        headers={
            "Link": LINK_HEADER,
            "Opendata-Warnings": WARNINGS_HEADER,
            history.AS_OF_HEADER: AS_OF_HEADER,
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """Observations of a dataset, a page at a time

        Filter by dimension with `dim.<dimension id>=<code>[,<code>]` (the ids and codes are in
        the dataset's `dimensions`), e.g. `dim.jenis_kelamin=1`. Observations come in a stable
        order (region, series, period); follow `next` (or the `Link` header) for the next page.
        The cursor is bound to the filters: keep them while paging. `as_of` serves the
        observations as they were at an instant, `updated_after` what changed since one.
        """
        query = filter_query(dataset_id, args)
        conn = connection()
        cursor, until = history.split_cursor(args.get("cursor"))
        vintage = history.apply(query, args, conn, until)
        digest = filters_digest(query)
        if vintage is not None:
            digest = vintage.digest(digest)
        if cursor:
            query.after = decode_cursor(cursor, digest)
        limit = args.get("limit") or state().settings.PAGE_SIZE
        query.limit = limit + 1
        rows = queries.page_of_observations(conn, query)
        next_url = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(queries.keyset(rows[-1]), digest)
            if query.changed_until_run is not None:
                next_cursor += f".{query.changed_until_run}"
            next_url = next_link(next_cursor)
        meta = dataset_meta(dataset_id)
        warnings = region_warnings(dataset_id, query)
        if vintage is None:
            series = meta.series_dimensions_on(conn)
            body = write_observations(rows, meta.slugs, series, next_url, warnings)
        else:
            body = history.json_page(conn, meta, rows, next_url, warnings, vintage)
        response = Response(body, mimetype="application/json")
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        history.stamp(response, vintage)
        return warn_header(response, warnings)


#: what a file name keeps of a code: letters, digits, '.', '_' and '-' (the rest becomes '-')
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: codes named per filter (then ``-etc``), and the length of a file name before ``.csv``
FILE_NAME_CODES = 5
FILE_NAME_LENGTH = 150


def _codes(codes: Iterable[str]) -> str:
    """``6371-6372``: the first codes, made safe; ``-etc`` if there are more, or unsafe ones."""
    safe = [_UNSAFE.sub("-", code).strip("-") for code in codes]
    named = list(dict.fromkeys(code for code in safe if code))
    more = len(named) > FILE_NAME_CODES or "" in safe
    return "-".join([*named[:FILE_NAME_CODES], *(["etc"] if more else [])])


def file_name(
    dataset_id: str, query: queries.ObservationQuery, args: dict, slugs: list[str]
) -> str:
    """``demo_6371-6372_from-2020_to-2024-Q2_jenis_kelamin-1-2.csv``: the dataset and its filters.

    Built from parsed values only, never from the raw query text (a header never carries what a
    client sent): regions as BPS codes in the order asked for, periods as parsed, then each
    dimension filter (in the dataset's order) as ``<dimension id>-<codes>``, then
    ``updated-after-<instant>`` and ``as-of-<instant>`` (UTC, no colons): filesystem-safe,
    at most five codes a filter, and cut to FILE_NAME_LENGTH characters (ending ``-etc``)
    however many filters there are.
    """
    parts = [dataset_id]
    if query.regions:
        parts.append(_codes(query.regions))
    periods = parse_periods(args.get("from_"), args.get("to"))
    for name, period in zip(("from", "to"), periods, strict=True):
        if period is not None:
            parts.append(f"{name}-{period}")
    for slug in sorted(query.dimensions, key=slugs.index):  # all known: checked by _query
        parts.append(f"{slug}-{_codes(query.dimensions[slug])}")
    for param in ("updated_after", "as_of"):  # in UTC, without colons: 2026-04-30T170000Z
        if args.get(param):
            stamp = history.rfc3339(history.parse_instant(args[param], param)) or ""
            parts.append(f"{param.replace('_', '-')}-{stamp.replace(':', '')}")
    stem = "_".join(parts)
    if len(stem) > FILE_NAME_LENGTH:
        stem = stem[: FILE_NAME_LENGTH - len("-etc")].rstrip("-_.") + "-etc"
    return stem + ".csv"


#: the parameters that leave a CSV the whole dataset's, as its published checksum describes it
_WHOLE = {"lang"}


def whole_dataset() -> bool:
    """Whether the CSV asked for is the whole dataset's (no filter, no history)."""
    return not (set(request.args) - _WHOLE)


def checksum(response: Response, dataset_id: str) -> None:
    """Say what the whole dataset's CSV is, as its last data-changing harvest measured it: the
    SHA-256 (``Repr-Digest``, RFC 9530) and the data rows (``X-Total-Count``), so that a client
    can tell a complete download from a cut one. Nothing while the harvest has made none."""
    made = downloads.current_csv(connection(), dataset_id)
    if made is not None:
        response.headers["Repr-Digest"] = downloads.repr_digest(made)
        response.headers["X-Total-Count"] = str(made.rows)


@blp.route("/datasets/<dataset_id>/observations.csv")
class ObservationCsv(MethodView):
    @history.cache_control
    @blp.versioned(keep=False)
    @blp.arguments(ObservationCsvArgs, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description="RFC 4180 CSV, UTF-8: dataset, region_code, region_name, period, "
        "`<dimension>_code` and `<dimension>` per dimension, value, unit, flag, note; a target "
        "set's CSV has value_to (a range's second end, else empty) right after value.",
        headers={
            "Content-Disposition": DISPOSITION_HEADER,
            "Opendata-Warnings": WARNINGS_HEADER,
            "Repr-Digest": REPR_DIGEST_HEADER,
            "X-Total-Count": TOTAL_COUNT_HEADER,
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """Observations of a dataset as one CSV file

        The same filters as the JSON observations (`dim.<dimension id>=<code>[,<code>]` too),
        every matching row, streamed; `as_of` and `updated_after` as on the JSON observations.
        """
        query = filter_query(dataset_id, args)
        vintage = history.apply(query, args, connection(), None)
        meta = dataset_meta(dataset_id)
        engine = state().engine

        def chunks():
            # The request's connection is closed when the view returns, before the first chunk
            # is sent: the stream has a connection of its own, closed when it ends or the
            # client goes away.
            with engine.connect() as conn:
                rows = queries.iter_observations(conn, query)
                if vintage is not None:
                    yield from history.csv_chunks(conn, meta, rows, query)
                    return
                series = meta.series_dimensions_on(conn)
                yield from write_csv(dataset_id, meta.slugs, rows, series, meta.ranges)

        response = Response(chunks(), mimetype="text/csv")
        history.stamp(response, vintage)
        if whole_dataset():
            checksum(response, dataset_id)
        name = file_name(dataset_id, query, args, meta.slugs)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return warn_header(response, region_warnings(dataset_id, query))
