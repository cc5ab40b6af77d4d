"""A dataset in SDMX 2.1: its structure message, and its observations as SDMX-ML or SDMX-CSV.

``/datasets/{id}/structure`` is a resource of its own; the data is a representation of the
observations (``observations?format=sdmx-ml`` or ``format=sdmx-csv``, or the SDMX media types
in ``Accept``: :mod:`opendata.api.negotiate` calls :func:`data_response`). What the messages
hold: :mod:`opendata.formats.sdmx`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Response, request
from flask.views import MethodView

from opendata.api import history
from opendata.api.base import Blueprint, LangArgs
from opendata.api.context import connection, dataset_meta, region_index, state
from opendata.api.errors import problem
from opendata.api.history import HistoryArgs
from opendata.api.links import link
from opendata.api.observations import (
    ObservationFilterArgs,
    file_name,
    filter_query,
    region_warnings,
    warn_header,
)
from opendata.api.xlsx import count_rows
from opendata.formats import sdmx
from opendata.store import history as store_history
from opendata.store import queries

blp = Blueprint(
    "sdmx",
    __name__,
    description="A dataset's SDMX 2.1 structures (its data: the observations' `format=`)",
)

STRUCTURE_DESCRIPTION = (
    "An SDMX-ML 2.1 structure message (agency `KALSEL_OPENDATA`, version `1.0`): the "
    "dataflow and the data structure definition (DSD), both with the dataset's id; the "
    "concept scheme `CS_<ID>`; codelists `CL_<ID>_REGION` (the regions with figures in the "
    "dataset, BPS codes), `CL_<ID>_INDICATOR` and one per breakdown (`CL_<ID>_<BREAKDOWN>`), "
    "where `<ID>` is the dataset id upper-cased with `-` as `_`. Dimensions `REGION`, "
    "`INDICATOR`, one per breakdown (its id upper-cased), `TIME_PERIOD`; measure `OBS_VALUE`; "
    "attributes `OBS_STATUS` (flag), `UNIT_MEASURE`, `OBS_COMMENT` (note) and, for a target "
    "set, `OBS_VALUE_TO`. See docs/api.md, SDMX."
)


class SdmxDataArgs(ObservationFilterArgs, HistoryArgs):
    """Filters and ``as_of`` of the SDMX data (changes have no SDMX form here: use CSV)."""

    class Meta:
        exclude = ("updated_after",)


def _prepared(moment: datetime | None) -> datetime:
    """The message's ``Prepared``: when the data last changed (stable between harvests)."""
    if moment is None:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


def layout_of(dataset_id: str) -> sdmx.Layout:
    """The SDMX ids of a dataset's structures (404 for an unknown dataset)."""
    meta = dataset_meta(dataset_id)
    return sdmx.Layout(dataset_id, tuple(meta.slugs), meta.ranges)


@blp.route("/datasets/<dataset_id>/structure")
class DatasetStructure(MethodView):
    @blp.versioned
    @blp.arguments(LangArgs, location="query")  # both languages are in it: SDMX names are
    @blp.response(  # international strings; taken so that one lang= fits every URL
        200,
        {"type": "string"},
        content_type=sdmx.STRUCTURE_TYPE,
        description=STRUCTURE_DESCRIPTION,
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, dataset_id):
        """A dataset's SDMX-ML 2.1 structure message

        The data structure definition, codelists and dataflow that the dataset's SDMX data
        (`observations?format=sdmx-ml`, `format=sdmx-csv`) follows: read it with sdmx1
        (`sdmx.read_sdmx`) or rsdmx, then read the data with it.
        """
        layout = layout_of(dataset_id)
        conn = connection()
        info = queries.get_dataset(conn, dataset_id)
        assert info is not None  # layout_of raised UnknownDataset otherwise
        index = region_index()
        regions = []
        for code in sorted(dataset_meta(dataset_id).regions):
            region = index.get(code)
            regions.append((code, region.name if region else code))
        described = sdmx.Described(
            title=info.title,
            description=info.description,
            regions=regions,
            indicators=[(i.code, i.name, i.unit) for i in info.indicators],
            breakdowns={
                d.slug: (d.label, [(code, label) for code, label, _total in d.values])
                for d in info.dimensions
            },
        )
        body = sdmx.write_structure(layout, described, _prepared(info.data_changed_at))
        return Response(body, mimetype=sdmx.STRUCTURE_TYPE)


def too_many(dataset_id: str) -> Response:
    """The 413 of an SDMX-ML query past MAX_DATA_ROWS: the same query as SDMX-CSV, and CSV."""
    params = list(request.args.items(multi=True))  # no format, limit: negotiate._as_endpoint
    sdmx_csv = link(
        "observations.ObservationList",
        urlencode([*params, ("format", "sdmx-csv")], safe=",:"),
        dataset_id=dataset_id,
    )
    csv = link("observations.ObservationCsv", urlencode(params, safe=",:"), dataset_id=dataset_id)
    return problem(
        413,
        f"this query matches more than {sdmx.MAX_DATA_ROWS} observations, more than SDMX-ML is "
        f"served for (sdmx1 writes it about 8 times slower than CSV): narrow it (region, from, "
        f"to, dim.<id>) or download the same query as SDMX-CSV: {sdmx_csv}",
        sdmx_csv=sdmx_csv,
        csv=csv,
    )


def data_response(dataset_id: str, as_csv: bool) -> Response:
    """The observations as SDMX-ML structure-specific data, or SDMX-CSV 1.0: every row that
    the filters keep, streamed (``as_of`` too; the JSON's paging is ignored, ``updated_after``
    a 400)."""
    args = Blueprint.ARGUMENTS_PARSER.parse(SdmxDataArgs(), request, location="query")
    query = filter_query(dataset_id, args)
    conn = connection()
    vintage = history.apply(query, args, conn, None)
    if not as_csv and count_rows(conn, query, sdmx.MAX_DATA_ROWS + 1) > sdmx.MAX_DATA_ROWS:
        return too_many(dataset_id)
    meta = dataset_meta(dataset_id)
    layout = sdmx.Layout(dataset_id, tuple(meta.slugs), meta.ranges)
    info = queries.get_dataset(conn, dataset_id)
    assert info is not None  # dataset_meta raised UnknownDataset otherwise
    prepared = _prepared(vintage.mark.finished_at if vintage else info.data_changed_at)
    engine = state().engine

    def chunks():
        # As the CSV: the stream has a connection of its own (the request's is closed when
        # the view returns, before the first chunk is sent).
        with engine.connect() as stream_conn:
            if vintage is None:
                series = meta.series_dimensions_on(stream_conn)
            else:
                series = store_history.series_dimensions(stream_conn, dataset_id)
            indicators = queries.series_indicators(stream_conn, dataset_id, retired=True)
            rows = queries.iter_observations(stream_conn, query)
            if as_csv:
                for text in sdmx.write_sdmx_csv(layout, rows, series, indicators):
                    yield text.encode()
            else:
                yield from sdmx.write_data(layout, rows, series, indicators, prepared)

    mimetype = sdmx.CSV_TYPE if as_csv else sdmx.DATA_TYPE
    response = Response(chunks(), mimetype=mimetype)
    history.stamp(response, vintage)
    name = file_name(dataset_id, query, args, meta.slugs).removesuffix(".csv")
    suffix = ".sdmx.csv" if as_csv else ".sdmx.xml"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}{suffix}"'
    return warn_header(response, region_warnings(dataset_id, query))
