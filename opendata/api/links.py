"""The links the API answers (``next``, ``Link``, ``links``, redirects), never from ``Host``.

With ``OPENDATA_PUBLIC_URL`` set, a link is that URL followed by the route's path: absolute,
whatever the request said. Without it a link is relative to the server's root
(``/api/v1/datasets/demo``), which RFC 8288 (``Link``) and RFC 9110 (``Location``) allow and
every HTTP client resolves against the URL it asked for. The ``Host`` header, which any client
can forge, is never echoed. Behind a configured proxy (``OPENDATA_PROXY_COUNT``) the root may
carry the proxy's ``X-Forwarded-Prefix`` (``/stats/api/v1/...``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import request, url_for

from opendata.api.context import state

#: the ``Link`` header of a paged list, as the OpenAPI spec documents it
LINK_HEADER = {
    "description": 'The next page, `<url>; rel="next"`, on every page that has one.',
    "schema": {"type": "string"},
}

#: a mount path a proxy may announce: segments of plain characters (never ``//host``)
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~-]+)+")


def link(endpoint: str, query: str = "", **values: Any) -> str:
    """The link to ``endpoint`` with these path ``values`` and an encoded ``query``, if any."""
    path = url_for(endpoint, **values)  # relative, with the request's root (script_root)
    root = request.script_root
    if root and not _PREFIX.fullmatch(root):
        # A forwarded prefix that is no plain path (``//evil.example``) would turn every link
        # into one to another host: links are then served from the root.
        path = path.removeprefix(root)
    public = state().settings.PUBLIC_URL
    if public:
        path = public + path.removeprefix(request.script_root)
    return f"{path}?{query}" if query else path


def link_here(query: str) -> str:
    """The link to this request's endpoint and path with another ``query``."""
    return link(request.endpoint or "", query, **(request.view_args or {}))


def next_link(cursor: str) -> str:
    """This request's link with ``cursor`` in place of its own: the next page of a list."""
    params = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
    params.append(("cursor", cursor))
    return link_here(urlencode(params, safe=",:"))
