"""Observations of a dataset as an Excel workbook: a data sheet and a metadata sheet."""

from __future__ import annotations

from dataclasses import replace
from http import HTTPStatus
from tempfile import SpooledTemporaryFile
from urllib.parse import urlencode

from flask import Response, request
from flask.views import MethodView
from sqlalchemy import func, select

from opendata.api import history
from opendata.api import lang as languages
from opendata.api.base import Blueprint
from opendata.api.context import connection, dataset_meta, state
from opendata.api.errors import problem
from opendata.api.history import HistoryArgs
from opendata.api.links import link, link_here
from opendata.api.observations import (
    DISPOSITION_HEADER,
    WARNINGS_HEADER,
    ObservationFilterArgs,
    file_name,
    filter_query,
    region_warnings,
    warn_header,
)
from opendata.formats import xlsx
from opendata.store import history as store_history
from opendata.store import queries

blp = Blueprint(
    "xlsx",
    __name__,
    description="The figures of a dataset as an Excel workbook",
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: a workbook up to this size is built in memory, a larger one in a temporary file
SPOOL_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


class ObservationXlsxArgs(ObservationFilterArgs, HistoryArgs):
    """Filters and ``as_of`` of the XLSX observations (changes have no workbook: use CSV)."""

    class Meta:
        exclude = ("updated_after",)


def count_rows(conn, query: queries.ObservationQuery, at_most: int) -> int:
    """How many rows ``query`` streams, counted up to ``at_most`` (a bounded count: cheap)."""
    # the very statement iter_observations streams, without its order, cut at ``at_most``
    stmt = queries._observation_select(replace(query, limit=at_most)).order_by(None)
    return conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def _url(endpoint: str | None = None) -> str:
    """The URL of this query at ``endpoint`` (the same dataset and parameters), else here."""
    query = urlencode(list(request.args.items(multi=True)), safe=",:")
    if endpoint is None:
        return link_here(query)
    return link(endpoint, query, **(request.view_args or {}))


def metadata(info: queries.DatasetInfo, query_url: str, as_of: str | None) -> list[tuple]:
    """The rows of the metadata sheet: what the data is, whose it is, and how it was asked."""
    harvest = info.last_harvest
    return [
        ("dataset", info.id),
        ("title", languages.text(info.title)),
        ("description", languages.text(info.description)),
        ("source", info.source.title),
        ("source URL", info.source.url),
        ("license", info.license),
        ("attribution", info.attribution),
        ("unit", "; ".join(info.units)),
        ("harvested at", history.rfc3339(harvest.finished_at) if harvest else None),
        ("as of", as_of),
        ("API URL", query_url),
        (
            "values",
            "Numbers are number cells where Excel holds them exactly (at most 15 significant "
            "digits), shown with the decimals the source wrote; a value with more digits is a "
            "text cell with the exact decimal. Codes are text.",
        ),
    ]


@blp.route("/datasets/<dataset_id>/observations.xlsx")
class ObservationXlsx(MethodView):
    @history.cache_control
    @blp.versioned(keep=False, lang=True)
    @blp.arguments(ObservationXlsxArgs, location="query")
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type=XLSX,
        description="An Excel workbook (Office Open XML). Sheet `data`: the CSV's columns, "
        "header frozen; values as number cells where Excel holds them exactly (at most 15 "
        "significant digits, shown with the source's decimals), else as text; codes as text. "
        "Sheet `metadata`: title, description, source and its URL, license, attribution, "
        "unit, harvested at, the API URL of the query.",
        headers={"Content-Disposition": DISPOSITION_HEADER, "Opendata-Warnings": WARNINGS_HEADER},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(413, response=HTTPStatus(413).name)  # its name depends on Python
    def get(self, args, dataset_id):
        """Observations of a dataset as one Excel workbook

        The same filters as the CSV (`dim.<dimension id>=<code>[,<code>]` too) and `as_of`. A
        sheet holds 1,048,575 observations below its header: a query that matches more is a
        413 whose problem gives the URL of the same query as CSV (`csv`). The workbook is
        built whole before its first byte is sent.
        """
        query = filter_query(dataset_id, args)
        conn = connection()
        vintage = history.apply(query, args, conn, None)
        meta = dataset_meta(dataset_id)
        if count_rows(conn, query, xlsx.MAX_ROWS + 1) > xlsx.MAX_ROWS:
            csv_url = _url("observations.ObservationCsv")
            return problem(
                413,
                f"this query matches more than {xlsx.MAX_ROWS} observations, more than an "
                f"Excel sheet holds: narrow it (region, from, to, dim.<id>) or download the "
                f"same query as CSV: {csv_url}",
                csv=csv_url,
            )
        info = queries.get_dataset(conn, dataset_id)
        sheet_meta = metadata(info, _url(), vintage.as_of if vintage else None)
        engine = state().engine

        def chunks():
            # Built when the body is first read (never for a 304), on a connection of its own:
            # the request's is closed when the view returns.
            with engine.connect() as stream_conn, SpooledTemporaryFile(SPOOL_BYTES) as spool:
                if vintage is None:
                    series = meta.series_dimensions_on(stream_conn)
                else:
                    series = store_history.series_dimensions(stream_conn, dataset_id)
                rows = queries.iter_observations(stream_conn, query)
                xlsx.write_xlsx(
                    spool, dataset_id, meta.slugs, rows, series, sheet_meta, meta.ranges
                )
                spool.seek(0)
                while chunk := spool.read(CHUNK_BYTES):
                    yield chunk

        response = Response(chunks(), mimetype=XLSX)
        history.stamp(response, vintage)
        name = file_name(dataset_id, query, args, meta.slugs).removesuffix(".csv") + ".xlsx"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return warn_header(response, region_warnings(dataset_id, query))
