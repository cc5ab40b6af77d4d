"""Observations of several datasets at once: ``/observations?dataset=a,b`` (JSON pages, CSV).

The rows are those of each dataset's own observations, with the same filters, one dataset after
the other in the order asked (a dataset named twice counts once), each in the stable order of
observations; a JSON row has the dataset's id as ``dataset``. The cursor is the dataset's
position in the list and the keyset within it, bound to the filters and the list.

``dim.<id>`` applies to the datasets that have that dimension; the others are served whole. A
dimension none of them has, or a value code none of those that have it knows, is a 400: a
filter that matches nothing anywhere is a mistake. The CSV's dimension columns are the union in
dataset order, empty where a dataset lacks one.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, replace

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from opendata.api.base import Blueprint
from opendata.api.context import DatasetMeta, connection, dataset_meta, state
from opendata.api.cursor import decode_cursor, encode_cursor, filters_digest
from opendata.api.fields import Codes
from opendata.api.links import next_link
from opendata.api.observations import (
    DISPOSITION_HEADER,
    LINK_HEADER,
    TOTAL_HEADER,
    WARNINGS_HEADER,
    CountArgs,
    ObservationFilterArgs,
    ObservationPageSchema,
    ObservationSchema,
    PageArgs,
    _codes,
    common_query,
    counted,
    file_name,
    region_warnings,
    warn_header,
)
from opendata.exceptions import clip, echo
from opendata.filters import FilterError, dimension_filters
from opendata.formats.csv import header, write_csv
from opendata.formats.json import observation_parts, write_page
from opendata.store import queries

blp = Blueprint(
    "multi",
    __name__,
    description="The figures of several datasets at once, in one list or one CSV",
)

#: the most datasets one request names (each costs a store query per page)
MAX_DATASETS = 20


class DatasetsArgs(ma.Schema):
    """``dataset``: the datasets, in the order their rows are served."""

    dataset = Codes(
        required=True,
        give="dataset ids, e.g. dataset=ipm-kabkota,gini-kabkota",
        metadata={
            "description": f"The datasets (ids, comma-separated or the parameter repeated), at "
            f"most {MAX_DATASETS}: their rows come one dataset after the other in this order "
            "(a dataset named twice counts once). A dataset never harvested is a 404 naming "
            "it.",
            "maxItems": MAX_DATASETS,
        },
    )

    @ma.validates("dataset")
    def _at_most(self, value: list[str], data_key: str) -> None:
        if len(dict.fromkeys(value)) > MAX_DATASETS:
            raise ma.ValidationError(f"at most {MAX_DATASETS} datasets; ask in several requests")


class MultiQueryArgs(DatasetsArgs, PageArgs, CountArgs):
    """The datasets, the observations' filters, the page and the count."""


class MultiCsvArgs(DatasetsArgs, ObservationFilterArgs):
    """The datasets and the observations' filters."""


class MultiObservationSchema(ObservationSchema):
    """An observation of one of the datasets asked for."""

    dataset = ma.fields.String(required=True, metadata={"description": "The dataset's id."})

    class Meta:
        exclude = ("change", "updated_at")  # no history here


class MultiObservationPageSchema(ObservationPageSchema):
    """A page of observations of several datasets."""

    data = ma.fields.List(ma.fields.Nested(MultiObservationSchema), required=True)

    class Meta:
        exclude = ("as_of",)


@dataclass
class Part:
    """One dataset of the request: its metadata and its store query."""

    meta: DatasetMeta
    query: queries.ObservationQuery


def parts_of(args: dict) -> list[Part]:
    """Each dataset's query of these filters; UnknownDataset (404) or FilterError (400)."""
    metas = [dataset_meta(dataset_id) for dataset_id in dict.fromkeys(args["dataset"])]
    wanted = dimension_filters(request.args.items(multi=True))
    for slug, codes in wanted.items():
        having = [m for m in metas if slug in m.slugs]
        if not having:
            have = sorted({s for m in metas for s in m.slugs})
            raise FilterError(
                f"dim.{slug}",
                f"none of the datasets has a dimension {echo(slug)} "
                f"(they have: {', '.join(have) or 'none'})",
            )
        known = {
            code
            for m in having
            for d in m.dimensions
            if d.slug == slug
            for code, _label, _total in d.values
        }
        bad = [c for c in codes if c not in known]
        if bad:
            raise FilterError(
                f"dim.{slug}",
                f"unknown value(s) {clip(', '.join(bad))}; known: {', '.join(sorted(known))}",
            )
    return [
        Part(m, common_query(m.dataset_id, args, {s: c for s, c in wanted.items() if s in m.slugs}))
        for m in metas
    ]


def digest_of(parts: list[Part]) -> str:
    """The filters' digest of the whole list: each dataset's, in order."""
    text = " ".join(filters_digest(part.query) for part in parts)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def decode(cursor: str, parts: list[Part], digest: str) -> tuple[int, tuple]:
    """``<position>.<keyset cursor>`` -> the dataset's position and the keyset in it."""
    position, _dot, rest = cursor.partition(".")
    if not position.isascii() or not position.isdigit() or int(position) >= len(parts):
        raise FilterError("cursor", "not a cursor of this API; use the 'next' link of a page")
    return int(position), decode_cursor(rest, digest)


def warnings_of(parts: list[Part]) -> list[str]:
    """Every dataset's warnings, each once."""
    found = [w for part in parts for w in region_warnings(part.meta.dataset_id, part.query)]
    return list(dict.fromkeys(found))


def read_page(conn, parts: list[Part], start: int, after: tuple | None, limit: int) -> list:
    """Up to ``limit`` rows from dataset ``start`` (after ``after``) on: [(position, rows)]."""
    found, left = [], limit
    for position in range(start, len(parts)):
        query = parts[position].query
        query.after, query.limit = (after if position == start else None), left
        rows = queries.page_of_observations(conn, query)
        if rows:
            found.append((position, rows))
            left -= len(rows)
        if left == 0:
            break
    return found


@blp.route("/observations")
class MultiObservationList(MethodView):
    @blp.versioned
    @blp.arguments(MultiQueryArgs, location="query")
    @blp.response(
        200,
        MultiObservationPageSchema,
        headers={
            "Link": LINK_HEADER,
            "Opendata-Warnings": WARNINGS_HEADER,
            "X-Total-Count": TOTAL_HEADER,
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args):
        """Observations of several datasets, a page at a time

        `dataset=a,b`: the rows of each dataset as its own observations serve them, with
        `dataset` on each, one dataset after the other in the order asked. The same filters
        (`region`, `within`, `level`, `from`, `to`, `latest`, `dim.<dimension id>`, which
        applies to the datasets that have that dimension), paging and `count` as there.
        """
        parts = parts_of(args)
        digest = digest_of(parts)
        start, after = decode(args["cursor"], parts, digest) if args.get("cursor") else (0, None)
        limit = args.get("limit") or state().settings.PAGE_SIZE
        conn = connection()
        found = read_page(conn, parts, start, after, limit + 1)
        next_url = None
        if sum(len(rows) for _position, rows in found) > limit:
            position, rows = found[-1]
            found[-1] = (position, rows[:-1])
            if not found[-1][1]:
                found.pop()
            position, rows = found[-1]
            next_url = next_link(f"{position}.{encode_cursor(queries.keyset(rows[-1]), digest)}")
        texts = []
        for position, rows in found:
            meta = parts[position].meta
            series = meta.series_dimensions_on(conn)
            texts += observation_parts(rows, meta.slugs, series, meta.dataset_id)
        warnings = warnings_of(parts)
        total = None
        if counted(args):
            total = sum(queries.count_observations(conn, part.query) for part in parts)
        body = write_page(texts, next_url, warnings, total)
        response = Response(body, mimetype="application/json")
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        if total is not None:
            response.headers["X-Total-Count"] = str(total)
        return warn_header(response, warnings)


def csv_columns(parts: list[Part]) -> tuple[list[str], bool]:
    """The union of the datasets' dimensions (in dataset order) and whether any is a target
    set; FilterError if the union would give the CSV a column twice."""
    slugs = list(dict.fromkeys(slug for part in parts for slug in part.meta.slugs))
    ranges = any(part.meta.ranges for part in parts)
    try:
        header(slugs, ranges)
    except ValueError as exc:
        raise FilterError("dataset", f"these datasets cannot share one CSV: {exc}") from None
    return slugs, ranges


def _header_line(slugs: list[str], ranges: bool) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(header(slugs, ranges))
    return buffer.getvalue()


@blp.route("/observations.csv")
class MultiObservationCsv(MethodView):
    @blp.versioned(keep=False)
    @blp.arguments(MultiCsvArgs, location="query")
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description="The long CSV of each dataset, one after the other under one header: "
        "dataset, region_code, region_name, period, `<dimension>_code` and `<dimension>` for "
        "each dimension of any of the datasets (in dataset order; empty where a dataset lacks "
        "one), value (and value_to if any dataset is a target set), unit, flag, note.",
        headers={
            "Content-Disposition": DISPOSITION_HEADER,
            "Opendata-Warnings": WARNINGS_HEADER,
            "X-Total-Count": TOTAL_HEADER,
        },
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args):
        """Observations of several datasets as one CSV file

        The same datasets and filters as the JSON list, every matching row, streamed.
        """
        parts = parts_of(args)
        slugs, ranges = csv_columns(parts)
        line = _header_line(slugs, ranges)
        engine = state().engine

        def chunks():
            # as the dataset's CSV: a connection of its own, closed when the stream ends
            with engine.connect() as conn:
                for number, part in enumerate(parts):
                    rows = queries.iter_observations(conn, part.query)
                    series = part.meta.series_dimensions_on(conn)
                    written = write_csv(part.meta.dataset_id, slugs, rows, series, ranges)
                    for chunk_number, chunk in enumerate(written):
                        # the same columns for each: the header once, atop the first
                        yield chunk[len(line) :] if number and not chunk_number else chunk

        conn = connection()
        total = sum(queries.count_observations(conn, part.query) for part in parts)
        response = Response(chunks(), mimetype="text/csv")
        ids = [part.meta.dataset_id for part in parts]
        wanted = dimension_filters(request.args.items(multi=True))
        name = file_name(_codes(ids), replace(parts[0].query, dimensions=wanted), args, slugs)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["X-Total-Count"] = str(total)
        return warn_header(response, warnings_of(parts))
