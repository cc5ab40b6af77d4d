"""The REST API: every resource registered in one place, under ``/api/v1``.

Also served here: ``/openapi.json`` (OpenAPI 3.1), ``/docs`` (Swagger UI, whose assets come from
the ``flask-swagger-ui`` package and are served by the app itself: no CDN), ``/healthz``, and
``/``, a temporary redirect to ``/docs`` until the web catalog takes its place.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Flask, Response, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from opendata.api import (
    achievement,
    datapackage,
    datasets,
    health,
    jsonstat,
    multi,
    observations,
    regions,
    revisions,
    runs,
    sdmx,
    search,
    xlsx,
)
from opendata.api.base import SettingsPlugin
from opendata.api.context import EXTENSION, ApiState, close_connection
from opendata.api.errors import Api
from opendata.api.limits import init_limits
from opendata.api.metrics import init_metrics
from opendata.api.ratelimit import init_rate_limit
from opendata.config import parse_origins

PREFIX = "/api/v1"
RESOURCES = (
    datasets,
    observations,
    revisions,
    achievement,
    regions,
    runs,
    xlsx,
    jsonstat,
    datapackage,
    multi,
    sdmx,
    search,
)
DOCS_ASSETS = "/docs/assets/"
API_DESCRIPTION = """\
Official statistics of Kalimantan Selatan (BPS and other sources), harvested into one store.

Errors are RFC 9457 problem details (`application/problem+json`). Every `GET` under `/api/v1`
has an `ETag` that changes when a harvest changes the data: send it back in `If-None-Match` to
get `304 Not Modified`. The full guide is `docs/api.md`.
"""


class App(Flask):
    """Flask, whose automatic ``OPTIONS`` answer is ``204 No Content`` with ``Allow``.

    Flask's own is a ``200`` with an empty ``text/html`` body. CORS headers, and the answer to a
    cross-origin preflight, come from flask-cors (:func:`init_cors`).
    """

    def make_default_options_response(self) -> Response:
        """``204``, the methods of the URL in ``Allow``, no body and no content type."""
        response = super().make_default_options_response()
        response.status_code = 204
        response.headers.pop("Content-Type", None)
        return response


def _swagger_ui_dist() -> str:
    return str(files("flask_swagger_ui") / "dist")


#: the response headers a page on another origin may read (besides the CORS-safelisted ones)
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Content-Disposition",
    "Opendata-Warnings",
    "Opendata-As-Of",
    "X-Total-Count",
    "Repr-Digest",
    "Content-Language",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)


def init_cors(app: Flask, origins: str | tuple[str, ...]) -> None:
    """CORS on every read (flask-cors): a browser page on an allowed origin may read the API.

    ``*`` is sent as ``*`` (the data is public, no credentials are ever involved); a list of
    origins is matched per request, with ``Vary: Origin``. Preflights get the allowed methods,
    and may be cached by the browser for a day.
    """
    if isinstance(origins, str):  # the default, or a value given as text: parsed as the env's
        origins = parse_origins(origins)
    if not origins:
        return
    from flask_cors import CORS

    options = {
        "origins": "*" if origins == ("*",) else list(origins),
        "send_wildcard": origins == ("*",),
        "methods": ["GET", "HEAD", "OPTIONS"],
        "expose_headers": list(EXPOSED_HEADERS),
        "max_age": 86400,
        "supports_credentials": False,
        # a wildcard answer is the same for every origin: no Vary, so shared caches keep one
        "vary_header": origins != ("*",),
    }
    CORS(app, resources={path: options for path in (r"/api/*", r"/healthz", r"/openapi.json")})


#: the media types compressed when a client asks (Accept-Encoding): what the API and docs serve
COMPRESSED_TYPES = (
    "application/json",
    "application/problem+json",
    "text/csv",
    "text/html",
    "text/css",
    "application/javascript",
    "text/javascript",
    # SDMX (api/sdmx.py): XML and CSV that gzip shrinks tenfold (matched without ;version=)
    "application/vnd.sdmx.structure+xml",
    "application/vnd.sdmx.structurespecificdata+xml",
    "application/vnd.sdmx.data+csv",
)


def init_compress(app: Flask) -> None:
    """gzip or brotli when the client asks (flask-compress), streamed for CSV downloads.

    Each encoding gets its own ETag (``"tag:gzip"``), which ``versioned`` accepts back; the
    conditional requests themselves are answered there, before any compression.
    """
    from flask_compress import Compress

    app.config.update(
        COMPRESS_MIMETYPES=list(COMPRESSED_TYPES),
        COMPRESS_ALGORITHM=["gzip", "br"],
        COMPRESS_ALGORITHM_STREAMING=["gzip", "br"],
        COMPRESS_STREAMS=True,
        COMPRESS_LEVEL=6,
        COMPRESS_BR_LEVEL=4,
        COMPRESS_MIN_SIZE=500,
        COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False,
    )
    Compress(app)
    # registered after flask-compress, so it runs before it
    app.after_request(_read_file_body)


def _read_file_body(response: Response) -> Response:
    """Read a static file's body (the docs' and pages' assets, a few KB) into memory, closing
    the file: flask-compress compresses a file response's body without closing its file."""
    if response.direct_passthrough and response.mimetype in COMPRESSED_TYPES:
        wrapper = response.response
        body = b"".join(wrapper)
        close = getattr(wrapper, "close", None)
        if close is not None:
            close()
        response.direct_passthrough = False
        response.set_data(body)
    return response


def _one_vary_header(response: Response) -> Response:
    """Merge the Vary headers that flask-cors and flask-compress each add into one; and drop
    a ``Repr-Digest`` that compression made untrue (RFC 9530: it is of the bytes sent)."""
    if response.headers.get("Content-Encoding"):
        response.headers.pop("Repr-Digest", None)
    values = response.headers.getlist("Vary")
    if len(values) > 1:
        names = dict.fromkeys(v.strip() for value in values for v in value.split(",") if v.strip())
        response.headers["Vary"] = ", ".join(names)
    return response


def init_api(app: Flask, api_state: ApiState) -> Api:
    """Register the API, its docs and its error handlers on ``app``."""
    app.extensions[EXTENSION] = api_state
    app.teardown_appcontext(close_connection)
    init_limits(app, api_state.settings)
    # after_request hooks run last-registered first: this one, registered before flask-cors and
    # flask-compress, sees both of their Vary headers and makes them one
    app.after_request(_one_vary_header)
    init_cors(app, api_state.settings.CORS_ORIGINS)
    init_compress(app)
    init_rate_limit(app, api_state.settings)
    app.config.update(
        API_TITLE="Open statistics of Kalimantan Selatan",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None, "deepLinking": True},
        API_SPEC_OPTIONS={"info": {"description": API_DESCRIPTION}},
    )
    hops = api_state.settings.PROXY_COUNT
    if hops:
        # Only behind proxies the operator configured: anyone can send X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    api = Api(spec_kwargs={"extra_plugins": [SettingsPlugin(api_state.settings)]})
    api.init_app(app)
    for module in RESOURCES:
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    api.register_blueprint(health.blp)
    dist = _swagger_ui_dist()

    @app.get(f"{DOCS_ASSETS}<path:filename>")
    def docs_asset(filename: str):
        """Swagger UI's scripts and styles, from the flask-swagger-ui package."""
        return send_from_directory(dist, filename, max_age=86400)

    init_metrics(app, api_state)
    return api
