"""The ``ckan:`` catalog section, validated, and where a portal's action API is.

A CKAN entry names a portal and one of its resources; the resource's table is described by the
shared ``table:`` section (:mod:`harvesters.table_spec`)::

    ckan:
      url: https://data.example.go.id      # the portal (see :func:`action_base` for its forms)
      resource_id: d9fbaddb-4995-4dd1-bd93-d2732998e3ac
      page_size: 1000                      # optional: rows asked of each datastore_search
      sheet: Tabel                         # optional, for the resource's file (no DataStore):
      delimiter: ";"                       #   as in spreadsheet: (harvesters/spreadsheet.py)
      encoding: utf-8

:func:`parse_query` raises :class:`CatalogError` naming the file and the key.
"""

from __future__ import annotations

import codecs
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harvesters.spreadsheet import DELIMITER_NAMES
from harvesters.table import parse_table_spec
from harvesters.table_spec import TableSpec
from opendata.exceptions import CatalogError

if TYPE_CHECKING:
    from opendata.model import DatasetSpec

QUERY_KEYS = ("url", "resource_id", "page_size", "sheet", "delimiter", "encoding")
FILE_KEYS = ("sheet", "delimiter", "encoding")
PAGE_SIZE = 1000  #: rows asked of each datastore_search (CKAN serves at most its rows_max)
MAX_PAGE_SIZE = 32000  #: CKAN's default rows_max: asking more only gets short pages
#: ``url`` already names the action API (CKAN serves it with and without the version)
_ACTION_API = re.compile(r"/api(?:/3)?/action$")
#: a last path segment that is a CKAN UI locale (``/tr``, ``/id``, ``/pt_BR``, ``/zh_Hans_CN``)
_LOCALE = re.compile(r"[a-z]{2,3}(?:_[A-Za-z]{2,4}){0,2}")
_RESOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_PAGE_IN_URL = re.compile(r"/dataset/|/resource/")


@dataclass(frozen=True)
class CKANQuery:
    """A validated ``ckan:`` section."""

    url: str  #: as the catalog gives it
    resource_id: str
    page_size: int = PAGE_SIZE
    sheet: str | None = None
    delimiter: str | None = None
    encoding: str | None = None

    @property
    def api(self) -> str:
        """The portal's action API: ``https://data.example.go.id/api/3/action``."""
        return action_base(self.url)

    @property
    def portal(self) -> str:
        """The portal's root, where its pages are: the action API without ``/api/3/action``."""
        return _ACTION_API.sub("", self.api)


def action_base(url: str) -> str:
    """The action API of a portal whose ``url`` a catalog entry gives (docs: "CKAN").

    ``https://data.example.go.id`` -> ``https://data.example.go.id/api/3/action``; a portal
    mounted under a path keeps it (``https://example.go.id/ckan`` -> ``.../ckan/api/3/action``);
    a trailing UI locale, copied from the browser, is dropped (``https://data.example.go.id/tr``
    -> ``https://data.example.go.id/api/3/action``): the API answers the same data without it,
    and its messages in the portal's own language; a ``url`` that already ends in
    ``/api/3/action`` or ``/api/action`` is the action API as given (locale and all).
    """
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    root = f"{parts.scheme}://{parts.netloc}"
    if _ACTION_API.search(path):
        return root + path
    head, _, last = path.rpartition("/")
    if _LOCALE.fullmatch(last):
        path = head
    return f"{root}{path}/api/3/action"


def parse_query(spec: DatasetSpec) -> tuple[CKANQuery, TableSpec]:
    """Validate a dataset's ``ckan:`` and ``table:`` sections (CatalogError says why)."""
    where = f"{spec.path}: ckan"
    raw = spec.query
    for key in raw:
        if key not in QUERY_KEYS:
            close = difflib.get_close_matches(str(key), QUERY_KEYS, n=1, cutoff=0.7)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise CatalogError(
                f"{where}: unknown key '{key}': {hint}(known: {', '.join(QUERY_KEYS)})"
            )
    for key in ("url", "resource_id"):
        if key not in raw:
            raise CatalogError(f"{where}.{key} is missing")
    query = CKANQuery(
        url=_url(raw["url"], f"{where}.url"),
        resource_id=_resource_id(raw["resource_id"], f"{where}.resource_id"),
        page_size=_page_size(raw.get("page_size", PAGE_SIZE), f"{where}.page_size"),
        **_file_options(raw, where),
    )
    if "table" not in spec.extra:
        raise CatalogError(
            f"{spec.path}: the key 'table' is missing: it says how to read the resource's "
            "table (see docs/harvesters.md)"
        )
    return query, parse_table_spec(
        spec.extra["table"], f"{spec.path}: table", ranges=spec.target is not None
    )


def _url(value: Any, where: str) -> str:
    example = "e.g. https://data.example.go.id"
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where} must be the portal's address, {example} (got {value!r})")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CatalogError(f"{where} must be an http(s) URL, {example} (got {value!r})")
    if parts.query or parts.fragment:
        raise CatalogError(
            f"{where} must be the portal's address without '?' or '#' ({example}); the resource "
            f"goes in ckan.resource_id (got {value!r})"
        )
    if _PAGE_IN_URL.search(parts.path):
        raise CatalogError(
            f"{where} is a dataset or resource page ({value!r}): give the portal's address "
            f"({parts.scheme}://{parts.netloc}) here and the resource's id in ckan.resource_id"
        )
    return value.strip()


def _resource_id(value: Any, where: str) -> str:
    if isinstance(value, str) and _RESOURCE_ID.fullmatch(value.strip()):
        return value.strip()
    raise CatalogError(
        f"{where} must be the resource's id as the portal shows it (its page's URL ends in "
        f"/resource/<id>), e.g. d9fbaddb-4995-4dd1-bd93-d2732998e3ac (got {value!r})"
    )


def _page_size(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_PAGE_SIZE:
        return value
    raise CatalogError(f"{where} must be a whole number from 1 to {MAX_PAGE_SIZE} (got {value!r})")


def _file_options(raw: Mapping[str, Any], where: str) -> dict[str, str]:
    """``sheet``, ``delimiter``, ``encoding``: for the resource's file, as in ``spreadsheet:``."""
    options = {}
    for key in FILE_KEYS:
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip():
                raise CatalogError(f"{where}.{key} must be a text (got {value!r})")
            options[key] = value if key == "delimiter" else value.strip()
    if "delimiter" in options:
        delimiter = DELIMITER_NAMES.get(options["delimiter"].lower())
        if delimiter is None:
            raise CatalogError(
                f'{where}.delimiter must be ",", ";" or "tab" (got {options["delimiter"]!r})'
            )
        options["delimiter"] = delimiter
    if "encoding" in options:
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            raise CatalogError(f"{where}.encoding: no encoding {options['encoding']!r}") from None
    return options
