"""Which representation of the observations a request wants: ``format=``, else ``Accept``.

``GET /datasets/{id}/observations`` serves every format of the observations. ``format=`` names
one (``json``, the default, ``csv``, ``xlsx``, ``jsonstat``, ``sdmx-ml``, ``sdmx-csv``) and wins
over ``Accept``; without it, ``Accept`` picks among the media types of :data:`FORMATS` (with
quality values and wildcards: ``*/*`` or no ``Accept`` is JSON), and one naming nothing served
is a 406 problem listing them. JSON-stat has no media type of its own (it is
``application/json``): only ``format=jsonstat`` selects it.

A format with a URL of its own (``observations.csv``, ``.xlsx``, ``.jsonstat``) is answered by
that URL's view, called as it is with the query minus ``format`` and the JSON pages' ``cursor``,
``limit`` and ``count`` (ignored: a download is whole, and always counted), and the request's
endpoint set to it, so the answer is that URL's (body, headers, errors: ``updated_after`` is a
400 for XLSX there too). The SDMX data, which has no other URL, is
:func:`opendata.api.sdmx.data_response`.

Caching: :func:`representation` is part of the response cache's key and of the ETag
(``Blueprint.versioned(representation=...)``), so two representations of one URL never share
an ETag or a cached body, and every answer says ``Vary: Accept``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus

from flask import Response, current_app, request
from werkzeug.datastructures import ImmutableMultiDict

from opendata.api.errors import problem
from opendata.formats import sdmx as sdmx_format

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Format:
    """A representation: its ``format=`` value, the media type it is sent as, the media types
    of ``Accept`` that select it, and the view of its own URL (if it has one)."""

    name: str
    media_type: str
    accepted: tuple[str, ...]
    endpoint: str | None = None


FORMATS = {
    f.name: f
    for f in (
        Format("json", "application/json", ("application/json",)),
        Format("csv", "text/csv", ("text/csv",), "observations.ObservationCsv"),
        Format("xlsx", XLSX, (XLSX,), "xlsx.ObservationXlsx"),
        Format("jsonstat", "application/json", (), "jsonstat.ObservationJsonStat"),
        Format(
            "sdmx-ml",
            sdmx_format.DATA_TYPE,
            (sdmx_format.DATA_TYPE, sdmx_format.DATA_TYPE.partition(";")[0]),
        ),
        Format(
            "sdmx-csv",
            sdmx_format.CSV_TYPE,
            (sdmx_format.CSV_TYPE, sdmx_format.CSV_TYPE.partition(";")[0]),
        ),
    )
}
FORMAT_DESCRIPTION = (
    "The representation: `json` (the default: pages of JSON), `csv` (the answer of "
    "`observations.csv`), `xlsx` (of `observations.xlsx`), `jsonstat` (of "
    "`observations.jsonstat`), `sdmx-ml` (SDMX-ML 2.1 structure-specific data, whose structure "
    "is `/datasets/{id}/structure`) or `sdmx-csv` (SDMX-CSV 1.0). Each answers what its own "
    "URL answers, with that URL's parameters (`cursor`, `limit` and `count` are the JSON "
    "pages' only: other formats ignore them; `as_of` is not JSON-stat's, `updated_after` "
    "JSON's and CSV's only, a 400 elsewhere). Wins over `Accept`, which selects the "
    "same by media type (`text/csv`, the XLSX type, `application/vnd.sdmx.structurespecificdata"
    "+xml`, `application/vnd.sdmx.data+csv`, with or without their `version`); an `Accept` "
    "naming none of them is a 406. See docs/api.md, Formats and negotiation."
)
#: the 200 answer's other media types, for the spec (JSON's is the response schema's own)
OTHER_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
    sdmx_format.DATA_TYPE: {"schema": {"type": "string"}},
    sdmx_format.CSV_TYPE: {"schema": {"type": "string"}},
}


def document(blp):
    """Decorate the JSON view: its 200 answer also lists each other media type (OpenAPI 3 puts
    the content types of one status in one response); and the 406 of an Accept naming none,
    the 413 of SDMX-ML and XLSX past their row limits."""

    def decorate(view):
        view = blp.alt_response(406, response="NOT_ACCEPTABLE")(view)
        view = blp.alt_response(413, response=HTTPStatus(413).name)(view)  # named per Python
        for media_type, content in reversed(OTHER_CONTENT.items()):
            view = blp.alt_response(
                200, schema=content["schema"], content_type=media_type, success=True
            )(view)
        return view

    return decorate


#: media type in Accept -> format, JSON first: what ``*/*`` gets
OFFERS = {media_type: f.name for f in FORMATS.values() for media_type in f.accepted}
#: what :func:`representation` says when Accept names nothing served
NOT_ACCEPTABLE = "-"


def representation() -> str:
    """The format this request asks for: ``format=`` as given, else the best match of
    ``Accept``, else NOT_ACCEPTABLE."""
    given = request.args.get("format")
    if given is not None:
        return given
    if not request.accept_mimetypes:
        return "json"
    best = request.accept_mimetypes.best_match(list(OFFERS))
    return NOT_ACCEPTABLE if best is None else OFFERS[best]


def not_acceptable() -> Response:
    """The 406 problem: what Accept may name, and the ``format=`` values."""
    media_types = list(OFFERS)
    names = list(FORMATS)
    return problem(
        406,
        "Accept names no media type of the observations: accept one of "
        f"{', '.join(media_types)}, or give format= ({', '.join(names)}); "
        "format= wins over Accept",
        media_types=media_types,
        formats=names,
    )


#: parameters of the JSON pages that another format ignores: ``format`` itself, and paging
#: (meaningless for a download, which is whole)
JSON_ONLY = ("format", "cursor", "limit", "count")


@contextmanager
def _as_endpoint(endpoint: str) -> Iterator[None]:
    """Run a view as if the request had come to ``endpoint`` without JSON_ONLY's parameters."""
    saved_args, saved_rule = request.args, request.url_rule
    request.args = ImmutableMultiDict(
        [(key, value) for key, value in saved_args.items(multi=True) if key not in JSON_ONLY]
    )
    request.url_rule = next(current_app.url_map.iter_rules(endpoint))
    try:
        yield
    finally:
        request.args, request.url_rule = saved_args, saved_rule


def dispatch(dataset_id: str) -> Response | None:
    """The answer in the format asked for, or None for JSON (the caller's own answer)."""
    name = representation()
    if name == "json":
        return None
    if name == NOT_ACCEPTABLE:
        return not_acceptable()
    chosen = FORMATS[name]  # format= is validated by the view's arguments (OneOf)
    if chosen.endpoint is None:
        from opendata.api import sdmx

        with _as_endpoint(request.endpoint or ""):
            return sdmx.data_response(dataset_id, as_csv=name == "sdmx-csv")
    with _as_endpoint(chosen.endpoint):
        view = current_app.view_functions[chosen.endpoint]
        return view(dataset_id=dataset_id)
