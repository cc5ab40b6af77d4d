"""The catalog's ``table:`` section, validated: how a grid of cells becomes observations.

One description serves every source whose data is a table (a CSV file, an XLSX sheet, a CKAN
DataStore resource); :func:`parse_table_spec` checks it and raises :class:`CatalogError` naming
the file and the key. The keys (see docs/harvesters.md, "The table description")::

    table:
      skip_rows: 0                  # rows above the header (titles, logos)
      header_rows: 1                # rows that form the header; merged cells read as filled
      region: {column: Wilayah, by: name, within: "6300", aliases: {Batola: "6304"}}
                                    # or {code: "6371"}: the whole table is one region
      periods: across               # every header cell that reads as a period is a value column
                                    # or {"Realisasi 2014": 2014, ...}: columns named with periods
      period: {column: tahun}       # long layout instead: the period in a column ...
      value: {column: jumlah}       # ... and the value in another; or period: 2024 (one period)
      dimensions:                   # long: {column}; wide: {columns: [...]} or {header_row: 2}
        - {column: "Kelas Jalan", id: kelas_jalan, label: Kelas jalan}
      totals: ["Jumlah"]            # labels of a dimension's (or the regions') total: code _T
      decimal: ","                  # the decimal mark of numbers written as text
      missing: ["-", "…", "...", "x", ""]   # or {marker: flag}
      marks: {"*": angka sementara} # footnote marks glued to values: the note they stand for
      indicator: {code: ppk, name: Pengeluaran per kapita, unit: Ribu Rupiah}
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opendata import columns
from opendata.exceptions import CatalogError
from opendata.model import CONFIDENTIAL, MAX_FLAG_LENGTH, MISSING, NOT_AVAILABLE
from opendata.periods import read_period

KEYS = (
    "skip_rows",
    "header_rows",
    "region",
    "periods",
    "period",
    "value",
    "dimensions",
    "totals",
    "decimal",
    "missing",
    "marks",
    "indicator",
)
REGION_KEYS = ("column", "by", "code", "within", "aliases")
DIMENSION_KEYS = ("column", "columns", "header_row", "id", "label")
INDICATOR_KEYS = ("code", "name", "unit", "decimals", "definition", "notes")
#: the flag of each default missing marker (see opendata.model.FLAGS); "" is an empty cell
KNOWN_MARKERS = {
    "-": MISSING,
    "\u2013": MISSING,
    "\u2014": MISSING,
    "--": MISSING,
    "\u2026": NOT_AVAILABLE,
    "...": NOT_AVAILABLE,
    "..": NOT_AVAILABLE,
    "x": CONFIDENTIAL,
    "": "",
}
DASHES = ("\u2013", "\u2014")
DEFAULT_MISSING = ("-", "\u2026", "...", "x", "")
DEFAULT_TOTALS = ("Jumlah", "Total", "Jumlah Total")
TOTAL_CODE = "_T"
MAX_INDICATOR_CODE = 80
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,62}")


def normalize(text: Any) -> str:
    """A label as compared: spacing collapsed, case folded."""
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class RegionSpec:
    """Where a row's region is: a column read by name or by code, or one code for the table."""

    column: str | None = None
    by: str = "name"  #: name | code
    code: str | None = None  #: the whole table is this region
    within: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DimensionSpec:
    """A breakdown: long (a ``column`` of labels) or wide (``columns``, or a ``header_row``)."""

    id: str
    label: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    header_row: int | None = None  #: 1-based, within the header

    @property
    def wide(self) -> bool:
        return self.column is None


@dataclass(frozen=True)
class IndicatorSpec:
    """The one indicator a table's values measure."""

    code: str
    name: str
    unit: str | None = None
    decimals: int | None = None
    definition: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A validated ``table:`` section."""

    region: RegionSpec
    indicator: IndicatorSpec
    skip_rows: int = 0
    header_rows: int = 1
    periods_across: bool = False
    #: header -> period: the named columns are the value columns
    period_columns: Mapping[str, str] = field(default_factory=dict)
    period_column: str | None = None
    period: str | None = None  #: one period for the whole table
    value_column: str | None = None
    dimensions: tuple[DimensionSpec, ...] = ()
    totals: frozenset[str] = frozenset(normalize(t) for t in DEFAULT_TOTALS)
    decimal: str | None = None
    #: normalized marker -> flag ("" for an empty cell: no observation)
    missing: Mapping[str, str] = field(
        default_factory=lambda: _with_dashes(
            {normalize(m): KNOWN_MARKERS[m] for m in DEFAULT_MISSING}
        )
    )
    marks: Mapping[str, str] = field(default_factory=dict)  #: footnote mark -> note
    #: value cells may be ranges (``6,0-6,9``): the catalog entry's figures are targets
    ranges: bool = False


def parse_table_spec(raw: Any, where: str, *, ranges: bool = False) -> TableSpec:
    """Validate a ``table:`` section; ``where`` names it (``datasets/x.yaml: table``).

    ``ranges``: the entry has ``target:``, so a value cell may be a range of two numbers.
    """
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where} must be a mapping of keys to values (see docs/harvesters.md)")
    _known(raw, KEYS, where)
    for key in ("region", "indicator"):
        if key not in raw:
            raise CatalogError(f"{where}.{key} is missing")
    period_keys = [k for k in ("periods", "period") if k in raw]
    if len(period_keys) != 1:
        raise CatalogError(
            f"{where}: say where the periods are with exactly one of 'periods: across' (wide: "
            "the header's period cells), 'period: {column: ...}' (long) or 'period: 2024' "
            f"(one period for the table){'; both are given' if period_keys else ''}"
        )
    options: dict[str, Any] = {
        "region": _region(raw["region"], f"{where}.region"),
        "indicator": _indicator(raw["indicator"], f"{where}.indicator"),
        "skip_rows": _count(raw.get("skip_rows", 0), f"{where}.skip_rows", 0),
        "header_rows": _count(raw.get("header_rows", 1), f"{where}.header_rows", 1),
    }
    options.update(_periods(raw, where))
    options["dimensions"] = _dimensions(raw.get("dimensions") or [], f"{where}.dimensions")
    if "totals" in raw:
        options["totals"] = frozenset(
            normalize(t) for t in _texts(raw["totals"], f"{where}.totals")
        )
    if "decimal" in raw:
        if raw["decimal"] not in (",", "."):
            raise CatalogError(f'{where}.decimal must be "," or "." (got {raw["decimal"]!r})')
        options["decimal"] = raw["decimal"]
    if "missing" in raw:
        options["missing"] = _missing(raw["missing"], f"{where}.missing")
    if "marks" in raw:
        options["marks"] = _marks(raw["marks"], f"{where}.marks")
    spec = TableSpec(**options, ranges=ranges)
    _check_layout(spec, where)
    return spec


def _known(raw: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in raw:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.7)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CatalogError(f"{where}: unknown key '{key}': {hint}(known: {', '.join(known)})")


def _text(value: Any, where: str) -> str:
    """A non-empty text; numbers are read as their text (a header ``2020``)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CatalogError(f"{where} must be a text (got {value!r})")
    text = " ".join(str(value).split())
    if not text:
        raise CatalogError(f"{where} must not be empty")
    return text


def _texts(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise CatalogError(f"{where} must be a list of texts")
    return [_text(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _count(value: Any, where: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise CatalogError(f"{where} must be a whole number, {least} or more (got {value!r})")
    return value


def _code(value: Any, where: str) -> str:
    """A region code as the catalog writes it (YAML may read ``6300`` as a number)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f'{where} must be a region code, e.g. "6300" (got {value!r})')
    return value.strip()


def _region(raw: Any, where: str) -> RegionSpec:
    if not isinstance(raw, Mapping):
        raise CatalogError(
            f"{where} must be a mapping: {{column: ..., by: name|code}} or {{code: ...}}"
        )
    _known(raw, REGION_KEYS, where)
    if ("column" in raw) == ("code" in raw):
        raise CatalogError(
            f"{where}: give either 'column' (the column that names each row's region) or "
            "'code' (the one region of the whole table)"
        )
    if "code" in raw:
        extra = sorted(set(raw) - {"code"})
        if extra:
            raise CatalogError(f"{where}: {', '.join(extra)} only apply with 'column'")
        return RegionSpec(code=_code(raw["code"], f"{where}.code"))
    by = raw.get("by", "name")
    if by not in ("name", "code"):
        raise CatalogError(f"{where}.by must be 'name' or 'code' (got {by!r})")
    aliases = raw.get("aliases") or {}
    if not isinstance(aliases, Mapping):
        raise CatalogError(f"{where}.aliases must map a name to a region code")
    return RegionSpec(
        column=_text(raw["column"], f"{where}.column"),
        by=by,
        within=_code(raw["within"], f"{where}.within") if raw.get("within") is not None else None,
        aliases={
            _text(k, f"{where}.aliases"): _code(v, f"{where}.aliases.{k}")
            for k, v in aliases.items()
        },
    )


def _indicator(raw: Any, where: str) -> IndicatorSpec:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where} must be a mapping {{code: ..., name: ..., unit: ...}}")
    _known(raw, INDICATOR_KEYS, where)
    for key in ("code", "name"):
        if key not in raw:
            raise CatalogError(f"{where}.{key} is missing")
    code = _text(raw["code"], f"{where}.code")
    if len(code) > MAX_INDICATOR_CODE:
        raise CatalogError(f"{where}.code is longer than {MAX_INDICATOR_CODE} characters")
    decimals = raw.get("decimals")
    if decimals is not None:
        decimals = _count(decimals, f"{where}.decimals", 0)
    optional = {
        k: _text(raw[k], f"{where}.{k}") if raw.get(k) is not None else None
        for k in ("unit", "definition", "notes")
    }
    return IndicatorSpec(code, _text(raw["name"], f"{where}.name"), decimals=decimals, **optional)


def _column_of(raw: Any, where: str) -> str:
    if not isinstance(raw, Mapping) or set(raw) != {"column"}:
        raise CatalogError(f"{where} must be {{column: <header text or letter>}}")
    return _text(raw["column"], f"{where}.column")


def _periods(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    if "periods" in raw:
        value = raw["periods"]
        if "value" in raw:
            raise CatalogError(f"{where}.value: with 'periods' the period columns hold the values")
        if value == "across":
            return {"periods_across": True}
        if isinstance(value, Mapping) and value:
            named = {}
            for header, period in value.items():
                key = f"{where}.periods.{header}"
                text = read_period(_text(period, key))
                if text is None:
                    raise CatalogError(f"{key}: {period!r} is not a period (2024, 2024-Q1, ...)")
                named[_text(header, key)] = text
            return {"period_columns": named}
        raise CatalogError(
            f"{where}.periods must be 'across' or a mapping of column headers to periods "
            '({"Realisasi 2014": 2014})'
        )
    value = raw["period"]
    if isinstance(value, Mapping):
        options: dict[str, Any] = {"period_column": _column_of(value, f"{where}.period")}
    else:
        text = read_period(_text(value, f"{where}.period"))
        if text is None:
            raise CatalogError(
                f"{where}.period: {value!r} is not a period; use {{column: ...}} or a period "
                "(2024, 2024-Q1, 2024-03)"
            )
        options = {"period": text}
    if "value" in raw:
        options["value_column"] = _column_of(raw["value"], f"{where}.value")
    return options


def _dimensions(raw: Any, where: str) -> tuple[DimensionSpec, ...]:
    if not isinstance(raw, list):
        raise CatalogError(f"{where} must be a list of {{column: ..., id: ..., label: ...}}")
    found: list[DimensionSpec] = []
    for i, item in enumerate(raw):
        key = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise CatalogError(f"{key} must be a mapping {{column: ..., id: ..., label: ...}}")
        _known(item, DIMENSION_KEYS, key)
        ways = [k for k in ("column", "columns", "header_row") if k in item]
        if len(ways) != 1:
            raise CatalogError(
                f"{key}: give one of 'column' (long: a column of labels), 'columns' (wide: "
                "value columns, one per label) or 'header_row' (wide: a header row's labels)"
            )
        if "id" not in item:
            raise CatalogError(f"{key}.id is missing (a slug, e.g. kelas_jalan)")
        dimension_id = item["id"]
        if not isinstance(dimension_id, str) or not _SLUG.fullmatch(dimension_id):
            raise CatalogError(
                f"{key}.id must be lowercase letters, digits and '_', starting with a letter "
                f"(got {dimension_id!r})"
            )
        why = columns.clash(dimension_id, [d.id for d in found])
        if why:
            raise CatalogError(
                f"{key}.id: '{dimension_id}' would repeat a CSV column: {why}; choose another "
                f"id, e.g. '{columns.unique_id(dimension_id, [d.id for d in found])}'"
            )
        options: dict[str, Any] = {}
        if "column" in item:
            options["column"] = _text(item["column"], f"{key}.column")
        elif "columns" in item:
            options["columns"] = tuple(_texts(item["columns"], f"{key}.columns"))
        else:
            options["header_row"] = _count(item["header_row"], f"{key}.header_row", 1)
        default_label = options.get("column") or dimension_id.replace("_", " ").capitalize()
        label = _text(item["label"], f"{key}.label") if "label" in item else default_label
        found.append(DimensionSpec(id=dimension_id, label=label, **options))
    return tuple(found)


def _flag(flag: Any, where: str) -> str:
    text = _text(flag, where)
    if len(text) > MAX_FLAG_LENGTH:
        raise CatalogError(f"{where}: a flag has at most {MAX_FLAG_LENGTH} characters")
    return text


def _missing(raw: Any, where: str) -> dict[str, str]:
    if isinstance(raw, Mapping):
        pairs = [
            (str(k), _flag(v, f"{where}.{k}") if str(k).strip() else "") for k, v in raw.items()
        ]
    elif isinstance(raw, list):
        pairs = []
        for i, marker in enumerate(raw):
            if isinstance(marker, bool) or not isinstance(marker, str | int | float):
                raise CatalogError(f"{where}[{i}] must be a text (got {marker!r})")
            text = " ".join(str(marker).split())
            flag = KNOWN_MARKERS.get(text.casefold())
            pairs.append((text, flag if flag is not None else _flag(text, f"{where}[{i}]")))
    else:
        raise CatalogError(f"{where} must be a list of markers, or a mapping marker -> flag")
    return _with_dashes({normalize(marker): flag for marker, flag in pairs})


def _with_dashes(markers: dict[str, str]) -> dict[str, str]:
    """A hyphen marker stands for the en and em dashes a word processor makes of it too."""
    if "-" in markers:
        for dash in DASHES:
            markers.setdefault(dash, markers["-"])
    return markers


def _marks(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise CatalogError(f'{where} must map a footnote mark to its note ({{"*": ...}})')
    return {
        str(mark).strip().strip("()"): _text(note, f"{where}.{mark}") for mark, note in raw.items()
    }


def _check_layout(spec: TableSpec, where: str) -> None:
    """Refuse descriptions whose value columns cannot be told."""
    wide_columns = [d for d in spec.dimensions if d.columns]
    by_row = [d for d in spec.dimensions if d.header_row is not None]
    columnwise = spec.periods_across or spec.period_columns
    if len(wide_columns) > 1:
        raise CatalogError(f"{where}.dimensions: at most one dimension may list 'columns'")
    if columnwise and wide_columns:
        raise CatalogError(
            f"{where}.dimensions: 'columns' names value columns, and so does 'periods'; "
            "describe a header row of labels with 'header_row' instead"
        )
    if by_row and not columnwise:
        raise CatalogError(
            f"{where}.dimensions: 'header_row' reads labels above period columns; it needs "
            "'periods'"
        )
    for dimension in by_row:
        if dimension.header_row > spec.header_rows:  # type: ignore[operator]
            raise CatalogError(
                f"{where}.dimensions: {dimension.id}: header_row {dimension.header_row} is "
                f"below the header (header_rows: {spec.header_rows})"
            )
    if not columnwise and bool(spec.value_column) == bool(wide_columns):
        raise CatalogError(
            f"{where}: with 'period' say which column holds the values: 'value: {{column: ...}}' "
            "or a dimension with 'columns'"
        )
