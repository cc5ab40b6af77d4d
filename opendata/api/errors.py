"""Every error of the web app in one shape: RFC 9457 ``application/problem+json``.

A problem has ``type`` (``about:blank``: the status says what kind of problem it is), ``title``
(the status phrase), ``status``, ``detail`` (what the caller should change) and, for bad query
parameters, ``errors``: the messages of each parameter, by name. Werkzeug's own headers are kept,
so a 405 carries its ``Allow`` header. What the caller sent (a path, a parameter's name or value)
is quoted cut short (:func:`opendata.exceptions.clip`), never whole.
"""

from __future__ import annotations

import http
import json
from collections.abc import Callable, Mapping
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Flask, Response, request
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from opendata.exceptions import UnknownRegion, clip
from opendata.filters import FilterError, UnknownDataset

PROBLEM_JSON = "application/problem+json"


class ProblemSchema(ma.Schema):
    """An error (RFC 9457 problem details)."""

    type = ma.fields.String(
        required=True, metadata={"description": "A URI naming the kind of problem."}
    )
    title = ma.fields.String(required=True, metadata={"description": "The HTTP status phrase."})
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = ma.fields.String(
        required=True, metadata={"description": "What went wrong and what to change."}
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For bad parameters: the messages of each, by parameter name."},
    )


def problem(
    status: int,
    detail: str,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response."""
    body = {
        "type": "about:blank",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = dict(errors)
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    response.headers.extend(dict(headers or {}))
    return response


def _messages(value: Any) -> list[str]:
    """Flatten marshmallow's nested messages (lists, dicts by list index) to texts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [m for v in value.values() for m in _messages(v)]
    return [m for v in value for m in _messages(v)]


def _parameter_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """{parameter: [messages]} from webargs' ``{location: {parameter: messages}}``."""
    schema = data.get("schema")
    known = sorted(f.data_key or name for name, f in getattr(schema, "fields", {}).items())
    known += getattr(schema, "extra_parameters", ())
    errors: dict[str, list[str]] = {}
    for by_param in data.get("messages", {}).values():
        for name, messages in by_param.items():
            param = clip(name)  # any name may be sent: it is input too
            texts = _messages(messages)
            if texts == ["Unknown field."]:
                accepted = ", ".join(known) if known else "none"
                texts = [f"unknown parameter; this endpoint accepts: {accepted}"]
            errors[param] = texts
    return errors


def _detail(error: HTTPException) -> str:
    if error.code == 404:
        return f"nothing is at {clip(request.path)}; the API is under /api/v1 (see /docs)"
    if error.code == 405:
        allowed = ", ".join(error.valid_methods or ())  # type: ignore[attr-defined]
        return f"{clip(request.method)} is not allowed on {clip(request.path)}; use {allowed}"
    if error.code == 500:
        return "the server failed to answer; try again later"
    if error.code == 429:  # flask-limiter's: its description is the limit
        return (
            f"too many requests from your address: at most {error.description}; try again "
            "after the seconds in Retry-After"
        )
    return error.description or http.HTTPStatus(error.code or 500).phrase


class Api(flask_smorest.Api):
    """flask-smorest's Api whose errors, documented and served, are problem+json."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"
    #: the web catalog's error page (``status, detail -> Response``, or None where the request
    #: is not a page's): a person gets an HTML page, a program a problem
    page_error: Callable[[int, str], Response | None] | None = None

    def _problem(self, status: int, detail: str, errors=None, headers=None) -> Response:
        if self.page_error is not None:
            page = self.page_error(status, detail)
            if page is not None:
                return page
        return problem(status, detail, errors, headers)

    def _register_responses(self) -> None:
        # flask-smorest documents its error responses as application/json; ours are problems.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _register_error_handlers(self) -> None:
        app: Flask = self._app
        app.register_error_handler(HTTPException, self.handle_http_exception)
        app.register_error_handler(FilterError, self.handle_filter_error)
        app.register_error_handler(UnknownDataset, self.handle_not_found)
        app.register_error_handler(UnknownRegion, self.handle_not_found)

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Turn any HTTP error (webargs' validation errors too) into a problem."""
        status = error.code or 500
        if status == 304:
            return Response(status=304)
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        data = getattr(error, "data", None) or {}
        headers.update(data.get("headers") or {})
        errors = _parameter_errors(data) if "messages" in data else None
        if errors:
            detail = "; ".join(f"{p}: {' '.join(m)}" for p, m in errors.items())
        else:
            detail = data.get("message") or _detail(error)
        return self._problem(status, detail, errors, headers)

    def handle_filter_error(self, error: FilterError) -> Response:
        """A filter value that names nothing or cannot be read: 400."""
        return self._problem(400, str(error), {error.param: [error.message]})

    def handle_not_found(self, error: Exception) -> Response:
        """An unknown dataset or region in the path: 404."""
        return self._problem(404, str(error))
