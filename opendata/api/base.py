"""What every resource module shares: its Blueprint class, strict query arguments, caching.

- Query parameters are parsed strictly: an unknown one, like a malformed one, is a 400 problem.
- :meth:`Blueprint.versioned` serves a GET at the store's data version: an ``ETag`` from that
  version and the URL, ``304 Not Modified`` on a matching ``If-None-Match``, and whole
  responses kept in the worker's cache until a harvest changes the data (a cached URL answers
  a 304 without touching the store beyond reading the version).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from copy import deepcopy
from functools import wraps
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import Response, request
from webargs.flaskparser import FlaskParser

from opendata.api.context import data_version, last_finished_run, state

#: served with every versioned response: caches may keep it but must ask again (ETag) each time
CACHE_CONTROL = "no-cache"
#: larger bodies are not kept, so that the cache of OPENDATA_CACHE_SIZE responses stays small
#: (at most 512 x 64 KiB = 32 MiB per worker by default) whatever URLs clients make up
MAX_CACHED_BYTES = 64 * 1024


class QueryParser(FlaskParser):
    """webargs' Flask parser whose validation errors are 400s."""

    DEFAULT_VALIDATION_STATUS = 400


class QueryArgs(ma.Schema):
    """Query arguments; endpoints without any still refuse unknown ones."""


class Blueprint(flask_smorest.Blueprint):
    """A resource's blueprint: strict query parsing and data-versioned responses."""

    ARGUMENTS_PARSER = QueryParser(unknown=ma.RAISE)

    def versioned(self, func=None, *, keep: bool = True, runs: bool = False):
        """Decorate a GET view: ETag, 304 and (with ``keep``) the response cache.

        With ``runs``, the response also changes with every finished harvest run, also one
        that changed no data (for views that show the last harvest).
        """
        if func is None:
            return lambda f: self.versioned(f, keep=keep, runs=runs)

        @wraps(func)
        def wrapper(*args, **kwargs):
            version = data_version()
            key = f"{last_finished_run()} {request.url}" if runs else request.url
            response = _cached(version, key) if keep else None
            if response is None:
                # Run the view even when If-None-Match may match: a request that would fail
                # (a bad parameter, an unknown dataset) must fail, not be "not modified"
                # (RFC 9110, 13.2.1). A streamed body is not started before it is sent.
                response = func(*args, **kwargs)
                if keep and response.status_code == 200 and not response.is_streamed:
                    _keep(version, key, response)
            etag = hashlib.blake2b(f"{version} {key}".encode(), digest_size=10).hexdigest()
            if request.if_none_match.contains(etag):
                response.close()
                response = Response(status=304)
            response.set_etag(etag)
            response.headers["Cache-Control"] = CACHE_CONTROL
            return response

        # flask-smorest documents If-None-Match, 304 and the ETag header of "etag" views.
        wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
        wrapper._apidoc["etag"] = True
        return wrapper


def _cached(version: int, key: str) -> Response | None:
    entry = state().responses.get(version, key)
    if entry is None:
        return None
    body, headers = entry
    return Response(body, status=200, headers=headers)


def _keep(version: int, key: str, response: Response) -> None:
    body = response.get_data()
    if len(body) <= MAX_CACHED_BYTES:
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
