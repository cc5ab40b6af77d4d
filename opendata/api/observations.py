"""Observations of a dataset: pages of JSON with keyset pagination, or one streamed CSV."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from opendata import downloads
from opendata.api import history, negotiate
from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import connection, dataset_meta, region_index, state
from opendata.api.cursor import decode_cursor, encode_cursor, filters_digest
from opendata.api.fields import Choices, Codes, Count, Text
from opendata.api.history import HistoryArgs
from opendata.api.lang import lang_field
from opendata.api.links import LINK_HEADER, link_here, next_link  # noqa: F401 - next_link: revisions, achievement
from opendata.filters import (
    FilterError,
    check_dimensions,
    dimension_filters,
    parse_periods,
    period_bounds,
    regions_under,
    regions_without_data,
    resolve_regions,
    tree_warnings,
)
from opendata.formats.csv import PROFILES, write_csv
from opendata.formats.json import with_total, write_observations
from opendata.formats.wide import write_wide
from opendata.periods import FREQUENCY_CODES
from opendata.regions import LEVELS
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


#: the most periods ``latest`` keeps per series: 100 years of months (more is no filter at all)
MAX_LATEST = 1200


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
    within = Codes(
        give="region codes, e.g. within=6300",
        metadata={
            "description": "Every region under these (any depth, in either code system: "
            "`6300` or `63`), not the region itself: `within=6300` is Kalimantan Selatan's "
            "kabupaten/kota and kecamatan; `region=6300&within=6300` adds the province. The "
            "regions served are the `region` codes plus those under `within` (of `level` when "
            "given). A region with nothing under it serves nothing more, with a warning. An "
            "unknown or empty code is a 400."
        },
    )
    level = Text(
        give=f"a region level ({', '.join(LEVELS)})",
        validate=ma.validate.OneOf(LEVELS, error="must be one of: {choices}"),
        metadata={
            "description": "Only the regions of this level (as the regions API names them: "
            "`country`, `province`, `regency` for kabupaten/kota, `district` for kecamatan) "
            "among those under `within`; without `within`, every region of this level. The "
            "`region` codes are kept whatever their level.",
        },
    )
    frequency = Choices(
        choices=FREQUENCY_CODES,
        what="frequency",
        give="frequencies, e.g. frequency=monthly",
        metadata={
            "description": "Only the periods of these frequencies: `annual` (`2024`), "
            "`semiannual` (`2024-S1`), `quarterly` (`2024-Q3`), `monthly` (`2024-08`); "
            "comma-separated or repeated. A table that publishes months and their year's "
            "total gives its months with `frequency=monthly`.",
        },
    )
    latest = Count(
        give=f"a number of periods from 1 to {MAX_LATEST}, e.g. latest=1",
        metadata={
            "description": "The last N periods of each series (a region and breakdown), after "
            "the other filters (`from`, `to`), counted per frequency: a series with months, "
            "quarters and years keeps its last N months, N quarters and N years. Each series "
            "its own: `latest=1` is each region's latest figure, whatever its period. "
            f"At most {MAX_LATEST}.",
            "maximum": MAX_LATEST,
        },
    )

    @ma.validates("latest")
    def _latest_at_most(self, value: int, data_key: str) -> None:
        if value > MAX_LATEST:
            raise ma.ValidationError(f"at most {MAX_LATEST} periods")

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


class CountArgs(ma.Schema):
    """``count=true``: the total rows of the query, on a paged answer (:func:`counted`)."""

    count = Text(
        give="count=true or count=false",
        validate=ma.validate.OneOf(["true", "false"], error="give count=true or count=false"),
        metadata={
            "description": "`true` adds `total` to the page and the `X-Total-Count` header: "
            "how many rows the query has over all its pages (exact: one `COUNT` of the "
            "query, at the data of the request; it costs a few first pages on a large "
            "dataset, so it is asked for). Downloads always send `X-Total-Count`."
        },
    )


def counted(args: dict) -> bool:
    """Whether the request asked for the total (``count=true``)."""
    return args.get("count") == "true"


class ObservationQueryArgs(PageArgs, HistoryArgs, CountArgs):
    """Filters, history, the page and the count of the JSON observations."""

    format_ = Text(
        data_key="format",
        give=f"a format ({', '.join(negotiate.FORMATS)})",
        validate=ma.validate.OneOf(list(negotiate.FORMATS)),
        metadata={"description": negotiate.FORMAT_DESCRIPTION},
    )


LAYOUTS = ("long", "wide")


class ObservationCsvArgs(ObservationFilterArgs, HistoryArgs):
    """Filters and history of the CSV observations, its layout and its profile."""

    layout = Text(
        give="long or wide",
        validate=ma.validate.OneOf(LAYOUTS, error="give long or wide"),
        load_default="long",
        metadata={
            "description": "`long` (the default): one row per observation. `wide`: one row per "
            "region and breakdown (series), one column per period in time order, named as "
            "stored (`2024`, `2024-03`): `region_code, region_name`, `<dimension>_code, "
            "<dimension>` per dimension, `unit`, then the periods. Each cell holds the exact "
            "value (a target's range as `6.0-6.9`), empty where there is none; flags and notes "
            "are left out (the long CSV has them). Not with `updated_after` (a 400): a table "
            "of changes is long.",
            "enum": list(LAYOUTS),
        },
    )
    profile = Text(
        give="plain or excel-id",
        validate=ma.validate.OneOf(tuple(PROFILES), error="give plain or excel-id"),
        load_default="plain",
        metadata={
            "description": "`plain` (the default): RFC 4180, `,` between cells, `.` decimals, "
            "UTF-8 without BOM. `excel-id`: for Excel and LibreOffice with an Indonesian "
            "locale: UTF-8 with BOM, `;` between cells, CRLF, a decimal comma (`7,10`, plain "
            'notation, no thousands separator), and codes and periods written as `="0000"` '
            "so that a spreadsheet keeps them as text (`0000` stays `0000`). With either "
            "layout. See docs/api.md, Excel (Indonesian locale).",
            "enum": list(PROFILES),
        },
    )


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
    total = ma.fields.Integer(
        metadata={
            "description": "Only with `count=true`: how many rows the query has over all its "
            "pages (the same on every page). Exact."
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
TOTAL_HEADER = {
    "description": "The number of rows of the query over all its pages: on a page with "
    "`count=true`; on a download, always (its data rows). Exact.",
    "schema": {"type": "integer", "minimum": 0},
}
DISPOSITION_HEADER = {
    "description": "`attachment` with a file name naming the dataset and the filters.",
    "schema": {"type": "string"},
}


def filter_query(dataset_id: str, args: dict) -> queries.ObservationQuery:
    """The store query of these filters; raise FilterError naming a bad one."""
    meta = dataset_meta(dataset_id)
    wanted = dimension_filters(request.args.items(multi=True))
    check_dimensions(meta.dimensions, wanted, dataset_id)
    return common_query(dataset_id, args, wanted)


def common_query(
    dataset_id: str, args: dict, dimensions: dict | None = None
) -> queries.ObservationQuery:
    """The store query of the filters every dataset takes alike (regions, ``within``,
    ``level``, periods, ``latest``), with ``dimensions`` as given (checked by the caller)."""
    start, end = period_bounds(args.get("from_"), args.get("to"))
    index = region_index()
    query = queries.ObservationQuery(
        dataset_id, resolve_regions(index, args.get("region", [])), start, end, dimensions or {}
    )
    query.latest = args.get("latest")
    query.frequencies = tuple(FREQUENCY_CODES[name] for name in args.get("frequency", ()))
    within, level = args.get("within", []), args.get("level")
    if within or level:
        query.within = resolve_regions(index, within, "within")
        query.level = level
        query.tree_regions = tuple(regions_under(index, within, level))
    return query


def region_warnings(dataset_id: str, query: queries.ObservationQuery) -> list[str]:
    """Each requested region that has no observations at all in the dataset, in words (for
    history, none ever: a region whose figures were withdrawn since had some then); and
    whether ``within``/``level`` found none with observations."""
    if query.as_of_run is not None or query.changed_after_run is not None:
        with_data = store_history.regions_ever(connection(), dataset_id)
    else:
        with_data = dataset_meta(dataset_id).regions
    index = region_index()
    warnings = regions_without_data(index, query.regions, with_data, dataset_id)
    if query.tree_regions is not None:
        warnings += tree_warnings(
            index, query.within, query.level, query.tree_regions, with_data, dataset_id
        )
    return warnings


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
    @blp.versioned(lang=True, representation=negotiate.representation)
    @blp.arguments(ObservationQueryArgs, location="query")
    @blp.response(
        200,
        ObservationPageSchema,
        headers={
            "Link": LINK_HEADER,
            "Opendata-Warnings": WARNINGS_HEADER,
            history.AS_OF_HEADER: AS_OF_HEADER,
            "X-Total-Count": TOTAL_HEADER,
        },
    )
    @negotiate.document(blp)  # the 200's other media types, 406, 413
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """Observations of a dataset, a page at a time

        Filter by dimension with `dim.<dimension id>=<code>[,<code>]` (the ids and codes are in
        the dataset's `dimensions`), e.g. `dim.jenis_kelamin=1`. Observations come in a stable
        order (region, series, period); follow `next` (or the `Link` header) for the next page.
        The cursor is bound to the filters: keep them while paging. `as_of` serves the
        observations as they were at an instant, `updated_after` what changed since one.
        `format=` (or `Accept`) picks another representation: see docs/api.md, Formats.
        """
        other = negotiate.dispatch(dataset_id)  # format= or Accept: CSV, XLSX, SDMX ...
        if other is not None:
            return other
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
        if counted(args):
            total = queries.count_observations(conn, query)
            body = with_total(body, total)
        response = Response(body, mimetype="application/json")
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        if counted(args):
            response.headers["X-Total-Count"] = str(total)
        history.stamp(response, vintage)
        return warn_header(response, warnings)


def total_header(response: Response, conn, query: queries.ObservationQuery) -> Response:
    """``X-Total-Count``: the data rows a download of ``query`` streams (counted first: one
    ``COUNT`` costs a few percent of reading the rows, see bench/README.md)."""
    response.headers["X-Total-Count"] = str(queries.count_observations(conn, query))
    return response


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
    ``within-<codes>``, ``level-<level>``, ``latest-<n>``, ``frequency-<names>``, then
    ``updated-after-<instant>``
    and ``as-of-<instant>`` (UTC, no colons): filesystem-safe, at most five codes a filter,
    and cut to FILE_NAME_LENGTH characters (ending ``-etc``) however many filters there are.
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
    if query.within:
        parts.append(f"within-{_codes(query.within)}")
    if query.level:
        parts.append(f"level-{query.level}")
    if query.latest:
        parts.append(f"latest-{query.latest}")
    if args.get("frequency"):
        parts.append(f"frequency-{_codes(args['frequency'])}")
    for param in ("updated_after", "as_of"):  # in UTC, without colons: 2026-04-30T170000Z
        if args.get(param):
            stamp = history.rfc3339(history.parse_instant(args[param], param)) or ""
            parts.append(f"{param.replace('_', '-')}-{stamp.replace(':', '')}")
    stem = "_".join(parts)
    if len(stem) > FILE_NAME_LENGTH:
        stem = stem[: FILE_NAME_LENGTH - len("-etc")].rstrip("-_.") + "-etc"
    return stem + ".csv"


CSV_DESCRIPTION = (
    "RFC 4180 CSV, UTF-8: dataset, region_code, region_name, period, `<dimension>_code` and "
    "`<dimension>` per dimension, value, unit, flag, note; a target set's CSV has value_to (a "
    "range's second end, else empty) right after value. `layout=wide`: region_code, "
    "region_name, the dimensions' columns, unit, then one column per period. "
    '`profile=excel-id`: `;`-separated, decimal comma, BOM, codes as `="0000"`.'
)


def _stream_connection(engine):
    """A connection for a stream that reads more than once (the wide table's periods, then its
    rows): on PostgreSQL in one snapshot, so that a harvest committed in between changes
    neither. SQLite's default reads each statement apart: see :func:`write_wide`'s guard."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


CSV_DEFAULTS = {"layout": "long", "profile": "plain"}


def _csv_name(name: str, args: dict) -> str:
    """The file name with the layout and the profile when they are not the defaults."""
    suffixes = [f"_{args[key]}" for key, default in CSV_DEFAULTS.items() if args[key] != default]
    return name.removesuffix(".csv") + "".join(suffixes) + ".csv"


#: the parameters that leave a CSV the whole dataset's, as its published checksum describes it
_WHOLE = {"lang"}


def whole_dataset() -> bool:
    """Whether the CSV asked for is the whole dataset's (no filter, no history)."""
    return not (set(request.args) - _WHOLE)


def checksum(response: Response, dataset_id: str) -> bool:
    """Say what the whole dataset's CSV is, as its last data-changing harvest measured it: the
    SHA-256 (``Repr-Digest``, RFC 9530) and the data rows (``X-Total-Count``), so that a client
    can tell a complete download from a cut one. False while the harvest has made none."""
    made = downloads.current_csv(connection(), dataset_id)
    if made is None:
        return False
    response.headers["Repr-Digest"] = downloads.repr_digest(made)
    response.headers["X-Total-Count"] = str(made.rows)
    return True


@blp.route("/datasets/<dataset_id>/observations.csv")
class ObservationCsv(MethodView):
    @history.cache_control
    @blp.versioned(keep=False)
    @blp.arguments(ObservationCsvArgs, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description=CSV_DESCRIPTION,
        headers={
            "Content-Disposition": DISPOSITION_HEADER,
            "Opendata-Warnings": WARNINGS_HEADER,
            "Repr-Digest": REPR_DIGEST_HEADER,
            "X-Total-Count": TOTAL_HEADER,
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """Observations of a dataset as one CSV file

        The same filters as the JSON observations (`dim.<dimension id>=<code>[,<code>]` too),
        every matching row, streamed; `as_of` and `updated_after` as on the JSON observations.
        `layout=wide` puts the periods in columns; `profile=excel-id` writes a file that Excel
        and LibreOffice open right in an Indonesian locale.
        """
        wide = args["layout"] == "wide"
        if wide and args.get("updated_after"):
            raise FilterError(
                "layout",
                "a wide table cannot hold changes; give layout=long (or leave it out) with "
                "updated_after, or as_of with layout=wide",
            )
        profile = PROFILES[args["profile"]]
        query = filter_query(dataset_id, args)
        vintage = history.apply(query, args, connection(), None)
        meta = dataset_meta(dataset_id)
        engine = state().engine

        def chunks():
            # The request's connection is closed when the view returns, before the first chunk
            # is sent: the stream has a connection of its own, closed when it ends or the
            # client goes away.
            with _stream_connection(engine) as conn:
                if wide:
                    # the columns first: the periods, with the same filters
                    periods = queries.observation_periods(conn, query)
                    if vintage is not None:  # the series of then: retired ones too
                        series = store_history.series_dimensions(conn, dataset_id)
                    else:
                        series = meta.series_dimensions_on(conn)
                    rows = queries.iter_observations(conn, query)
                    yield from write_wide(meta.slugs, rows, series, periods, profile)
                    return
                rows = queries.iter_observations(conn, query)
                if vintage is not None:
                    yield from history.csv_chunks(conn, meta, rows, query, profile)
                    return
                series = meta.series_dimensions_on(conn)
                yield from write_csv(dataset_id, meta.slugs, rows, series, meta.ranges, profile)

        response = Response(chunks(), mimetype="text/csv")
        history.stamp(response, vintage)
        if wide:  # its rows are series, not observations
            response.headers["X-Total-Count"] = str(queries.count_series(connection(), query))
        elif not (whole_dataset() and checksum(response, dataset_id)):
            total_header(response, connection(), query)
        name = _csv_name(file_name(dataset_id, query, args, meta.slugs), args)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return warn_header(response, region_warnings(dataset_id, query))
