"""Spreadsheets: a CSV file or an XLSX sheet, on disk beside the catalog or at a URL.

Bappeda and the kabupaten/kota publish indicators as files. One catalog entry is one table::

    source: spreadsheet
    spreadsheet:
      path: files/ppk.xlsx      # relative to the folder of the .yaml file; or  url: https://...
      sheet: table              # XLSX: the sheet's name (default: the first sheet)
      delimiter: ";"            # CSV: default detected among , ; TAB (said in the run log)
      encoding: utf-8           # CSV: UTF-8 with or without BOM by default
    table: {...}                # how to read it: harvesters/table_spec.py, docs/harvesters.md

Fetch reads ``path`` from disk or GETs ``url`` (:mod:`harvesters.http`: User-Agent, timeout,
retries, the dataset's deadline) and keeps the file as one payload; offline, ``url`` reads the
file of the same name in the dataset's snapshot folder (``datasets/snapshots/<id>/``). Parse is
pure over the payload's bytes: what the file is comes from its bytes
(:mod:`harvesters.spreadsheet_files`), how to read it from the payload's parameters (sheet,
delimiter, encoding), and the table from :func:`harvesters.table.read_table`.
"""

from __future__ import annotations

import codecs
import difflib
import mimetypes
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit

import requests

from harvesters import http
from harvesters.base import Harvester
from harvesters.exceptions import ParseError, UpstreamError
from harvesters.table import parse_table_spec, read_table
from harvesters.table_spec import TableSpec
from harvesters.transport import Deadline, SystemClock
from opendata.exceptions import CatalogError
from opendata.model import Keep, ParseResult, Payload
from opendata.region_names import rules_version

if TYPE_CHECKING:
    from opendata.model import DatasetSpec
    from opendata.regions import RegionIndex

QUERY_KEYS = ("path", "url", "sheet", "delimiter", "encoding")
DELIMITER_NAMES = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "\\t": "\t"}


@dataclass(frozen=True)
class SpreadsheetQuery:
    """A validated ``spreadsheet:`` section."""

    path: str | None = None
    url: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    encoding: str | None = None

    @property
    def name(self) -> str:
        """The file as the catalog names it (used in every message)."""
        return self.path or self.url or ""

    def params(self) -> dict[str, str]:
        """What parse needs to know of the file, kept with its payload."""
        fields = {"path": self.path, "url": self.url, "sheet": self.sheet}
        fields.update(delimiter=self.delimiter, encoding=self.encoding)
        return {key: value for key, value in fields.items() if value is not None}


def parse_query(spec: DatasetSpec) -> tuple[SpreadsheetQuery, TableSpec]:
    """Validate a dataset's ``spreadsheet:`` and ``table:`` sections (CatalogError says why)."""
    where = f"{spec.path}: spreadsheet"
    raw = spec.query
    for key in raw:
        if key not in QUERY_KEYS:
            close = difflib.get_close_matches(str(key), QUERY_KEYS, n=1, cutoff=0.7)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise CatalogError(
                f"{where}: unknown key '{key}': {hint}(known: {', '.join(QUERY_KEYS)})"
            )
    if ("path" in raw) == ("url" in raw):
        raise CatalogError(
            f"{where}: give either 'path' (a file relative to the folder of {spec.path.name}) "
            "or 'url'"
        )
    options = _options(raw, where)
    if "table" not in spec.extra:
        close = difflib.get_close_matches("table", [str(k) for k in spec.extra], n=1, cutoff=0.6)
        hint = f" ('{close[0]}' is misspelt?)" if close else ""
        raise CatalogError(
            f"{spec.path}: the key 'table' is missing{hint}: it says how to read "
            "the file (see docs/harvesters.md)"
        )
    table = parse_table_spec(
        spec.extra["table"], f"{spec.path}: table", ranges=spec.target is not None
    )
    return SpreadsheetQuery(**options), table


def _options(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The ``spreadsheet:`` keys, checked one by one."""
    options: dict[str, Any] = {}
    for key in QUERY_KEYS:
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip():
                raise CatalogError(f"{where}.{key} must be a text (got {value!r})")
            options[key] = value if key == "delimiter" else value.strip()
    if "url" in options and urlsplit(options["url"]).scheme not in ("http", "https"):
        raise CatalogError(f"{where}.url must be an http(s) URL (got {options['url']!r})")
    if "delimiter" in options:
        delimiter = DELIMITER_NAMES.get(options["delimiter"].lower())
        if delimiter is None:
            raise CatalogError(
                f'{where}.delimiter must be ",", ";" or "tab" (got {raw["delimiter"]!r})'
            )
        options["delimiter"] = delimiter
    if "encoding" in options:
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            raise CatalogError(f"{where}.encoding: no encoding {options['encoding']!r}") from None
    return options


def url_filename(url: str) -> str:
    """The file name a URL ends with (``.../download/ppk.xlsx`` -> ``ppk.xlsx``)."""
    name = posixpath.basename(unquote(urlsplit(url).path))
    return name or "index"


class SpreadsheetHarvester(Harvester):
    """CSV and XLSX files, read by the shared table reader."""

    id: ClassVar[str] = "spreadsheet"
    title: ClassVar[str] = "Spreadsheets (CSV, XLSX)"
    #: bump the first part when the same files would parse differently; the second part moves
    #: with the rules of matching region names (a re-harvest of the same file is then re-parsed)
    version: ClassVar[str] = f"2+names.{rules_version()}"

    def __init__(
        self,
        settings: Mapping[str, Any],
        session: Any = None,
        clock: Any = None,
        offline: bool = False,
    ):
        super().__init__(settings, session=session, clock=clock or SystemClock(), offline=offline)

    @classmethod
    def validate_spec(cls, spec: DatasetSpec) -> None:
        """Check the ``spreadsheet:`` and ``table:`` sections; raise CatalogError saying why."""
        parse_query(spec)

    def fetch(self, spec: DatasetSpec, keep: Keep) -> list[Payload]:
        """Read the file (disk, URL, or offline the snapshot folder); keep it as one payload."""
        query, _table = parse_query(spec)
        if query.path is not None:
            payload = self._read_file(spec.path.parent / query.path, query.path, query)
        elif self.offline:
            name = url_filename(query.url or "")
            payload = self._read_file(spec.snapshot_dir / name, query.name, query, offline=True)
        else:
            payload = self._get(query, keep)
            return [payload]
        keep(payload)
        return [payload]

    def _read_file(
        self, path: Path, shown: str, query: SpreadsheetQuery, offline: bool = False
    ) -> Payload:
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            if offline:
                raise UpstreamError(
                    f"no snapshot file {path.name} in {path.parent} (offline harvest of "
                    f"{shown}): record the file there"
                ) from None
            raise UpstreamError(f"{shown}: no such file (looked for {path})") from None
        except OSError as exc:
            raise UpstreamError(f"{shown}: cannot read {path}: {exc.strerror}") from None
        return Payload(
            url=shown,
            body=body,
            status=200,
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            fetched_at=datetime.now(UTC),
            params=query.params(),
        )

    def _get(self, query: SpreadsheetQuery, keep: Keep) -> Payload:
        options = http.settings_of(self.settings)
        session, owned = (self.session, False) if self.session else (requests.Session(), True)
        try:
            deadline = Deadline(self.clock, float(options["HARVEST_DATASET_TIMEOUT"]))
            return http.get(
                query.url or "",
                session=session,
                settings=options,
                clock=self.clock,
                deadline=deadline,
                keep=keep,
                params=query.params(),
            )
        finally:
            if owned:
                session.close()

    def parse(
        self, spec: DatasetSpec, payloads: Sequence[Payload], regions: RegionIndex
    ) -> ParseResult:
        """Read the file's table; pure, stable and offline."""
        from harvesters import spreadsheet_files as files

        query, table = parse_query(spec)
        if len(payloads) != 1:
            raise ParseError(f"a spreadsheet dataset has one file, not {len(payloads)}")
        payload = payloads[0]
        params = payload.params or query.params()
        where = params.get("path") or params.get("url") or payload.url
        if files.kind_of(payload.body, where) == "xlsx":
            grid, messages = files.xlsx_grid(payload.body, where, params.get("sheet"))
        else:
            grid, messages = files.csv_grid(
                payload.body, where, params.get("delimiter"), params.get("encoding")
            )
        result = read_table(grid, table, regions)
        result.messages[:0] = messages
        return result
