"""Observations of a dataset as one JSON-stat 2.0 dataset (``observations.jsonstat``).

The cube, its dimensions and where flags, notes and units go: :mod:`opendata.formats.jsonstat`.
JSON-stat has no registered media type: the answer is ``application/json``, as the JSON-stat
examples and the statistical offices that serve it (Eurostat, Statistics Norway) send it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request
from flask.views import MethodView

from opendata.api import history
from opendata.api import lang as languages
from opendata.api.base import Blueprint
from opendata.api.context import connection, dataset_meta, state
from opendata.api.links import link_here
from opendata.api.observations import (
    WARNINGS_HEADER,
    ObservationFilterArgs,
    filter_query,
    region_warnings,
    warn_header,
)
from opendata.formats.jsonstat import Described, write_jsonstat
from opendata.store import queries

blp = Blueprint(
    "jsonstat",
    __name__,
    description="The figures of a dataset as a JSON-stat 2.0 cube",
)

DESCRIPTION = (
    "A JSON-stat 2.0 `dataset` (JSON-stat has no registered media type). Dimensions, in "
    "`id` order: `indicator` (role `metric`; each indicator's unit in its category's `unit`), "
    "`region` (role `geo`), one per breakdown of the dataset, `period` (role `time`); only the "
    "categories the answer has. `value` is sparse (an object from position to value), each "
    "value a JSON number with the source's digits; `status` holds the flags; `extension` the "
    "notes (`note`), a range's other end (`value_to`), the dataset id, titles, license, "
    "attribution, source URL and the request's `warnings`."
)


@blp.route("/datasets/<dataset_id>/observations.jsonstat")
class ObservationJsonStat(MethodView):
    @blp.versioned(keep=False, lang=True)
    @blp.arguments(ObservationFilterArgs, location="query")
    @blp.response(
        200,
        {"type": "object"},
        content_type="application/json",
        description=DESCRIPTION,
        headers={"Opendata-Warnings": WARNINGS_HEADER},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """Observations of a dataset as JSON-stat

        The same filters as the JSON observations (`dim.<dimension id>=<code>[,<code>]` too);
        every matching observation in one JSON-stat 2.0 dataset, e.g. for JSON-stat Toolkit or
        pyjstat. History (`as_of`, `updated_after`) is served by the JSON and CSV observations.
        """
        query = filter_query(dataset_id, args)
        meta = dataset_meta(dataset_id)
        conn = connection()
        info = queries.get_dataset(conn, dataset_id)
        assert info is not None  # dataset_meta raised UnknownDataset otherwise
        indicators = queries.series_indicators(conn, dataset_id)
        series = meta.series_dimensions_on(conn)
        warnings = region_warnings(dataset_id, query)
        extension = {
            "title": info.title,
            "description": info.description,
            "license": info.license,
            "attribution": info.attribution,
            "source_url": info.source.url,
            "warnings": warnings,
        }
        described = Described(
            dataset_id,
            languages.text(info.title),
            source=info.source.title,
            updated=history.rfc3339(info.data_changed_at),
            href=link_here(urlencode(list(request.args.items(multi=True)), safe=",:")),
            extension=extension,
        )
        engine = state().engine

        def chunks():
            # As the CSV: the stream has a connection of its own (the request's is closed
            # when the view returns, before the first chunk is sent).
            with engine.connect() as stream_conn:
                rows = queries.iter_observations(stream_conn, query)
                yield from write_jsonstat(
                    rows, described, meta.dimensions, series, indicators, info.indicators
                )

        response = Response(chunks(), mimetype="application/json")
        return warn_header(response, warnings)
