"""The web catalog: pages for people beside the API for programs (:mod:`opendata.web.views`)."""

from __future__ import annotations

from flask import Flask

from opendata.api.errors import Api


def init_web(app: Flask, api: Api) -> None:
    """Serve the pages at ``/``, and their errors as pages."""
    from opendata.web.views import blp, page_error

    app.register_blueprint(blp)
    api.page_error = page_error
