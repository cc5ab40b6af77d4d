"""What every resource module shares: its Blueprint class, strict query arguments, caching.

- Query parameters are parsed strictly: an unknown one, like a malformed one, is a 400 problem;
  so is a single-valued one given twice (``from=2020&from=2021``). A list parameter may be
  repeated: ``region=6371&region=6372`` is ``region=6371,6372``.
- :meth:`Blueprint.versioned` serves a GET at the store's data version: an ``ETag`` from that
  version and the URL, ``304 Not Modified`` on a matching ``If-None-Match`` (weak comparison,
  RFC 9110 13.1.2: a proxy that compresses may have weakened the tag), and whole
  responses kept in the worker's cache until a harvest changes the data (a cached URL answers
  a 304 without touching the store beyond reading the version).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from copy import deepcopy
from functools import wraps
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import Request, Response, request
from webargs.fields import DelimitedFieldMixin
from webargs.flaskparser import FlaskParser

from opendata.api import lang as languages
from opendata.api.context import data_version, freshness, last_finished_run, state

#: served with every versioned response: caches may keep it but must ask again (ETag) each time
CACHE_CONTROL = "no-cache"


class QueryData(dict):
    """A query string read for a schema, and the single-valued parameters given more than once."""

    def __init__(self, data: Mapping[str, Any], repeated: Mapping[str, list[str]]):
        super().__init__(data)
        self.repeated = dict(repeated)


class QueryParser(FlaskParser):
    """webargs' Flask parser whose validation errors are 400s, and that drops no repeated value.

    webargs reads the first value of a repeated parameter and silently drops the others. Here
    the values of a repeated delimited list are joined (``region=a&region=b`` reads as
    ``region=a,b``), those of a list are all kept, and a single-valued parameter given twice is
    a 400 naming it, reported with the other bad parameters.
    """

    DEFAULT_VALIDATION_STATUS = 400

    def load_querystring(self, req: Request, schema: ma.Schema) -> QueryData:
        """The query string as a dict for ``schema``: see the class."""
        fields = {field.data_key or name: field for name, field in schema.fields.items()}
        data: dict[str, Any] = {}
        repeated: dict[str, list[str]] = {}
        for name, values in req.args.lists():
            field = fields.get(name)
            if isinstance(field, DelimitedFieldMixin):
                data[name] = field.delimiter.join(values)
            elif isinstance(field, ma.fields.List | ma.fields.Tuple):
                data[name] = values
            elif field is not None and len(values) > 1:
                repeated[name] = [f"given {len(values)} times; give it once"]
            else:  # a single value, or a parameter the schema does not know (it decides)
                data[name] = values[0]
        return QueryData(data, repeated)

    def _process_location_data(self, location_data, schema, *args, **kwargs):
        """Load as webargs does, then add the repeated parameters to the errors, if any.

        webargs' (8.x) step between reading a location and loading it into the schema: the one
        place where both the repeated parameters and the schema's own errors are known.
        """
        repeated = getattr(location_data, "repeated", None)
        if not repeated:
            return super()._process_location_data(location_data, schema, *args, **kwargs)
        try:
            super()._process_location_data(location_data, schema, *args, **kwargs)
        except ma.ValidationError as error:
            messages = error.normalized_messages()
            raise ma.ValidationError({**messages, **repeated}) from None
        raise ma.ValidationError(repeated)


class QueryArgs(ma.Schema):
    """Query arguments; endpoints without any still refuse unknown ones.

    ``openapi_parameters``: parameters the fields cannot declare (``dim.<id>``, named after the
    data), added as they are to the spec of every operation that takes these arguments.
    """

    openapi_parameters: tuple[dict[str, Any], ...] = ()


class LangArgs(QueryArgs):
    """Only ``lang``: the language of the titles of the answer (:mod:`opendata.api.lang`)."""

    lang = languages.lang_field()


class Blueprint(flask_smorest.Blueprint):
    """A resource's blueprint: strict query parsing and data-versioned responses."""

    ARGUMENTS_PARSER = QueryParser(unknown=ma.RAISE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # flask-smorest builds each operation's doc with these callbacks, arguments first.
        self._prepare_doc_cbks.append(self._prepare_schema_parameters_doc)
        self._prepare_doc_cbks.append(self._prepare_limits_doc)

    @staticmethod
    def _prepare_schema_parameters_doc(doc: dict, _doc_info: dict, **_kwargs) -> dict:
        """Add the ``openapi_parameters`` of the operation's query schemas to its parameters."""
        parameters = doc.get("parameters", [])
        for parameter in list(parameters):
            schema = parameter.get("schema") if isinstance(parameter, Mapping) else None
            parameters.extend(deepcopy(list(getattr(schema, "openapi_parameters", ()))))
        return doc

    @staticmethod
    def _prepare_limits_doc(doc: dict, _doc_info: dict, **_kwargs) -> dict:
        """Document the request limits every operation answers (``opendata/api/limits.py``)."""
        responses = doc.setdefault("responses", {})
        responses.setdefault("414", "REQUEST_URI_TOO_LONG")
        if doc.get("parameters"):
            responses.setdefault("400", "BAD_REQUEST")
        return doc

    def arguments(self, schema, *args, **kwargs):
        """flask-smorest's ``arguments``, with one instance of a schema class for every request:
        webargs makes a new instance of a class per request, a deep copy of every field (7 %
        of an uncached page with the observations' dozen parameters)."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def versioned(
        self,
        func=None,
        *,
        keep: bool = True,
        runs: bool = False,
        fresh: bool = False,
        lang: bool = False,
        representation: Callable[[], str] | None = None,
    ):
        """Decorate a GET view: ETag, 304 and (with ``keep``) the response cache.

        With ``runs``, the response also changes with every finished harvest run, also one
        that changed no data (for views that show the last harvest); with ``fresh``, also when
        a dataset's freshness changes with the clock (due, overdue: ``context.freshness``);
        with ``lang``, with the language ``Accept-Language`` chose (:mod:`opendata.api.lang`).
        With ``representation`` (a view that negotiates its format from ``Accept``: see
        ``api/negotiate.py``), what it returns is part of the cache key and the ETag, so two
        representations of one URL never share either, and every answer has ``Vary: Accept``.
        """
        if func is None:
            return lambda f: self.versioned(
                f, keep=keep, runs=runs, fresh=fresh, lang=lang, representation=representation
            )

        @wraps(func)
        def wrapper(*args, **kwargs):
            version = data_version()
            # The path and query, with the mount path a configured proxy gave: never the Host
            # or scheme, which change no body (links are relative or OPENDATA_PUBLIC_URL's).
            url = request.script_root + request.full_path
            key = f"{last_finished_run()} {url}" if runs else url
            if fresh:
                states = sorted((d, f.state, f.due) for d, f in freshness().items())
                key = f"{hashlib.blake2b(repr(states).encode(), digest_size=8).hexdigest()} {key}"
            if lang and (chosen := languages.variant()):
                key = f"lang={chosen} {key}"
            if representation is not None:
                key = f"{representation()} {key}"
            response = _cached(version, key) if keep else None
            if response is None:
                # Run the view even when If-None-Match may match: a request that would fail
                # (a bad parameter, an unknown dataset) must fail, not be "not modified"
                # (RFC 9110, 13.2.1). A streamed body is not started before it is sent.
                response = func(*args, **kwargs)
                if keep and response.status_code == 200 and not response.is_streamed:
                    _keep(version, key, response)
            etag = hashlib.blake2b(f"{version} {key}".encode(), digest_size=10).hexdigest()
            matched = _matching_tag(etag)
            if matched is not None:
                response.close()
                response = Response(status=304)
                etag = matched  # the tag the client holds: a compressed body's carries ":gzip"
            response.set_etag(etag)
            response.headers["Cache-Control"] = CACHE_CONTROL
            if lang:
                languages.stamp(response)
            if representation is not None:
                response.vary.add("Accept")
            return response

        # flask-smorest documents If-None-Match, 304 and the ETag header of "etag" views.
        wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
        wrapper._apidoc["etag"] = True
        return wrapper


#: what flask-compress appends to the ETag of a body it compressed (``"tag:gzip"``)
ENCODINGS = ("gzip", "br", "zstd", "deflate")


def _matching_tag(etag: str) -> str | None:
    """The tag of ``If-None-Match`` that ``etag`` matches, or None.

    Weak comparison (RFC 9110, 13.1.2): ``W/"tag"`` and ``*`` match too; and so does the tag of
    the same body compressed (``"tag:gzip"``: flask-compress gives each encoding its own tag, and
    a client sends back the one it got).
    """
    tags = request.if_none_match
    if tags.contains_weak(etag):
        return etag
    for encoding in ENCODINGS:
        if tags.contains_weak(f"{etag}:{encoding}"):
            return f"{etag}:{encoding}"
    return None


def _cached(version: str, key: str) -> Response | None:
    entry = state().responses.get(version, key)
    if entry is None:
        return None
    body, headers = entry
    return Response(body, status=200, headers=headers)


def _keep(version: str, key: str, response: Response) -> None:
    body = response.get_data()
    if len(body) <= state().max_body:
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
        state().responses.put(version, key, (body, headers))


class SettingsPlugin(BasePlugin):
    """Document a parameter's default and maximum from the app's settings.

    A field with ``metadata={"x-default-setting": "PAGE_SIZE"}`` (or ``x-maximum-setting``) is
    documented with that setting's value, so the spec shows what this deployment does.
    """

    KEYS = {"x-default-setting": "default", "x-maximum-setting": "maximum"}

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = settings

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Replace the settings' names in the parameters' schemas by their values."""
        for operation in (operations or {}).values():
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema") if isinstance(parameter, dict) else None
                for key, keyword in self.KEYS.items():
                    if schema and key in schema:
                        schema[keyword] = self.settings[schema.pop(key)]
