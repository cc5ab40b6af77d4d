"""Decode BPS dynamic tables (``list?model=data`` bodies) into records: pure, stable, offline.

A BPS body describes a table by its axes, each a list of ``{val, label}`` items:

- ``vervar``: the rows (regions *or* categories; ``labelvervar`` says what they are);
- ``var``: the one variable (the indicator);
- ``turvar``: the columns (sex, price basis); ``{"val": "0", "label": "Tidak ada"}`` or a lone
  ``"Tahun"`` item means there are none;
- ``tahun``: the years; ``turtahun``: the sub-periods (months, quarters, semesters, survey months).

``datacontent`` maps a key to a value, the key being the plain concatenation
``str(vervar.val) + str(var.val) + str(turvar.val) + str(tahun.val) + str(turtahun.val)``. Because
the parts have no separator and vary in length (month ``10`` adds a digit), a key cannot be split
reliably: we build every combination from the axes and look each one up. A key of
``datacontent`` that two combinations build is ambiguous and a key no combination builds is
unexplained; both fail the parse (:class:`ParseError`) instead of guessing or dropping a cell.
The small readings of labels, periods and values live in :mod:`harvesters.bps_labels`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harvesters.bps_labels import (
    Item,
    cell_value,
    clean_label,
    clean_notes,
    display_name,
    guess_column_name,
    is_pseudo_turvar,
    is_total,
    load_json,
    period_of,
    slugify,
    year_of,
)
from harvesters.exceptions import ParseError
from opendata import columns
from opendata.model import (
    Dimension,
    DimensionValue,
    Indicator,
    ParseResult,
    Payload,
    Record,
    Region,
)

if TYPE_CHECKING:
    from opendata.regions import RegionIndex

COUNTRY = "0000"
AGGREGATE_ROW = "9999"  #: the row of the domain's own aggregate (Indonesia, or the domain)
NO_DATA = frozenset({"list-not-available", "not-available"})
DEFAULT_LIST_URL = "https://webapi.bps.go.id/v1/api/list"


# --- the body ---------------------------------------------------------------------------------


def _items(body: Mapping[str, Any], axis: str) -> list[Item]:
    raw = body.get(axis)
    if not isinstance(raw, list) or not raw:
        raise ParseError(f"'{axis}' must be a non-empty list of {{val, label}} items")
    items = []
    for entry in raw:
        if not isinstance(entry, Mapping) or "val" not in entry:
            raise ParseError(f"'{axis}' holds {entry!r}, not a {{val, label}} item")
        items.append(Item(str(entry["val"]), clean_label(entry.get("label"))))
    return items


def _status_error(body: Any) -> str | None:
    if body is None:
        return "the body is null (a window of years too large for BPS to serve)"
    if not isinstance(body, Mapping):
        return f"the body is a JSON {type(body).__name__}, not an object"
    if str(body.get("status", "")).lower() == "error":
        return f"BPS answered an error: {body.get('message')!r}"
    return None


def is_no_data(body: Any) -> bool:
    """Say whether a data body says there is nothing for its window (not an error)."""
    if not isinstance(body, Mapping) or str(body.get("status", "")).lower() != "ok":
        return False
    if body.get("data-availability") in NO_DATA:
        return True
    return "datacontent" in body and body["datacontent"] in ({}, [], None, "")


def has_columns(body: Any) -> bool:
    """Say whether a data body has real columns (turvar values), so their group name is wanted."""
    if not isinstance(body, Mapping) or is_no_data(body) or _status_error(body):
        return False
    try:
        return not is_pseudo_turvar(_items(body, "turvar"))
    except ParseError:
        return False


def turvar_group(body: Any) -> str | None:
    """Return the group name of a ``list?model=turvar`` answer (``Jenis Kelamin``), if any."""
    if not isinstance(body, Mapping) or body.get("data-availability") != "available":
        return None
    data = body.get("data")
    if not isinstance(data, list) or len(data) < 2 or not isinstance(data[1], list):
        return None
    for item in data[1]:
        if isinstance(item, Mapping) and item.get("name_group_turvar"):
            return clean_label(item["name_group_turvar"]) or None
    return None


#: BPS writes ``last_update`` in Jakarta's time (WIB, UTC+7, no daylight saving) without saying so
WIB = timezone(timedelta(hours=7), "WIB")


def _last_update(body: Mapping[str, Any]) -> datetime | None:
    """The table's ``last_update`` as an aware datetime (WIB unless the text names an offset)."""
    text = body.get("last_update")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=WIB)


def source_ref(url: str, domain: str, var: int) -> str:
    """Return where a table comes from: its request URL without key, years and language."""
    parts = urlsplit(url or DEFAULT_LIST_URL)
    if not parts.scheme or not parts.netloc:
        parts = urlsplit(DEFAULT_LIST_URL)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?model=data&domain={domain}&var={var}"


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """Where a vervar row's cells go: a region, and a category value when rows are categories."""

    region: str
    category: DimensionValue | None = None


class _Decoder:
    """Decode the payloads of one dataset (one var on one domain) into a ParseResult."""

    def __init__(
        self,
        domain: str,
        var: int,
        overrides: Mapping[str, str],
        regions: RegionIndex,
    ):
        self.domain = domain
        self.var = var
        self.overrides = overrides
        self.regions = regions
        self.domain_region = self._domain_region()
        self.messages: list[str] = []
        self.new_regions: dict[str, Region] = {}
        self.turvar_group: str | None = None
        #: (region, period, vervar code, turvar code) -> ((value, flag, note), its key)
        self.cells: dict[tuple[str, str, str | None, str | None], tuple[Any, ...]] = {}
        self.categories: dict[str, DimensionValue] = {}
        self.columns: dict[str, DimensionValue] = {}
        self.labelvervar: str | None = None
        self.layouts: set[tuple[bool, bool]] = set()

    def _domain_region(self) -> str:
        info = self.regions.resolve_bps(self.domain)
        if info is None:
            raise ParseError(f"the BPS domain {self.domain} is not in the region reference")
        return info.code

    # ---- rows

    def _district_rows(self, labelvervar: str) -> bool:
        regency = self.domain != COUNTRY and not self.domain.endswith("00")
        return regency and "kecamatan" in labelvervar.lower()

    def _region_row(self, item: Item, labelvervar: str) -> str | None:
        """Return the region a row names, adding districts and regencies the reference lacks."""
        info = self.regions.resolve_bps(item.val)
        if info is not None:
            return info.code
        code = item.val
        if self._district_rows(labelvervar) and code.isdigit() and int(code) < 1000:
            return self._add_region(f"{self.domain_region}{int(code):03d}", item, "district")
        if re.fullmatch(r"\d{4}", code) and not code.endswith("00"):
            if f"{code[:2]}00" in self.regions:
                return self._add_region(code, item, "regency")
        if re.fullmatch(r"\d{7}", code) and code[:4] in self.regions:
            return self._add_region(code, item, "district")
        return None

    def _add_region(self, code: str, item: Item, level: str) -> str:
        if code in self.regions or code in self.new_regions:
            return code
        parent = code[:4] if level == "district" else f"{code[:2]}00"
        region = Region(code, display_name(item.label) or code, level, parent)
        self.new_regions[code] = region
        if level != "district":
            self.messages.append(
                f"added {level} {code} {region.name!r} under {parent}: BPS var {self.var} "
                "lists it but the region reference does not know it"
            )
        return code

    def _rows(self, vervar: Sequence[Item], labelvervar: str) -> list[Row]:
        kinds: list[str | None] = []
        for item in vervar:
            if item.val == AGGREGATE_ROW:
                kinds.append(self.domain_region)
            else:
                kinds.append(self._region_row(item, labelvervar))
        if all(kind is not None for kind in kinds):
            return [Row(kind) for kind in kinds]
        rows = []
        for item, kind in zip(vervar, kinds, strict=True):
            if kind is not None and kind != self.domain_region:
                raise ParseError(
                    f"the rows ({labelvervar!r}) mix categories and regions: row {item.val} "
                    f"{item.label!r} is region {kind}; cannot tell what the table breaks down"
                )
            total = kind is not None or is_total(item.label)
            value = self.categories.setdefault(
                item.val, DimensionValue(item.val, item.label, total)
            )
            rows.append(Row(self.domain_region, value))
        return rows

    # ---- one table

    def table(self, payload: Payload, body: Mapping[str, Any]) -> None:
        """Decode one data body's cells into ``self.cells``, checking every key."""
        var_items = _items(body, "var")
        if len(var_items) != 1 or var_items[0].val != str(self.var):
            found = ", ".join(i.val for i in var_items)
            raise ParseError(f"{payload.url}: the body is about var {found}, not var {self.var}")
        labelvervar = clean_label(body.get("labelvervar"))
        vervar, turvar = _items(body, "vervar"), _items(body, "turvar")
        tahun, turtahun = _items(body, "tahun"), _items(body, "turtahun")
        rows, columns = self._rows(vervar, labelvervar), self._columns(turvar)
        when = [[period_of(year_of(y), s) for s in turtahun] for y in tahun]
        content = body.get("datacontent")
        if not isinstance(content, Mapping):
            raise ParseError(f"{payload.url}: 'datacontent' is a {type(content).__name__}")
        has_categories = any(row.category for row in rows)
        self.layouts.add((has_categories, columns[0] is not None))
        if has_categories and self.labelvervar is None:
            self.labelvervar = labelvervar
        axes = (vervar, turvar, tahun, turtahun)
        row_keys = [(row.region, row.category.code if row.category else None) for row in rows]
        column_codes = [column.code if column else None for column in columns]
        cells = self.cells
        # the hot loop of a harvest: one pass per cell, no call for the common number cells
        for key, (r, c, y, s) in match_keys(content, var_items[0], axes, payload.url):
            region, category = row_keys[r]
            where = (region, when[y][s], category, column_codes[c])
            raw = content[key]
            kind = type(raw)
            if kind is Decimal:
                cell = (raw, None, None)
            elif kind is int:
                cell = (Decimal(raw), None, None)
            else:
                cell = cell_value(raw)
            seen = cells.get(where)
            if seen is None:
                cells[where] = (cell, key)
            elif seen[0] != cell:
                raise ParseError(
                    f"two cells give {region} {where[1]} different values: "
                    f"key {seen[1]} = {_shown(seen[0])}, key {key} = {_shown(cell)}"
                )

    def _columns(self, turvar: Sequence[Item]) -> list[DimensionValue | None]:
        if is_pseudo_turvar(turvar):
            return [None]
        values = []
        for item in turvar:
            value = self.columns.setdefault(
                item.val, DimensionValue(item.val, item.label, is_total(item.label))
            )
            values.append(value)
        return values

    # ---- the dataset

    def dimensions(self) -> list[Dimension]:
        """Return the dataset's dimensions: row categories first, then columns."""
        if len(self.layouts) > 1:
            raise ParseError(
                f"the payloads of var {self.var} disagree on the table's layout (some have "
                "row categories or columns that others lack)"
            )
        named = []  # (axis, id, label)
        if self.categories:
            slug = self.overrides.get("vervar") or slugify(self.labelvervar)
            if not slug:
                slug = "vervar"
                self.messages.append(
                    f"var {self.var}: the rows have no usable name ({self.labelvervar!r}); "
                    "dimension id 'vervar' (set dimensions.vervar in the catalog)"
                )
            named.append(("vervar", slug, self.labelvervar or slug))
        if self.columns:
            slug, label = self._column_name()
            if named and named[0][1] == slug:
                raise ParseError(
                    f"var {self.var}: rows and columns would both be dimension {slug!r}; "
                    "set dimensions.vervar or dimensions.turvar in the catalog"
                )
            named.append(("turvar", slug, label))
        ids = self._unique_ids([(axis, slug) for axis, slug, _ in named])
        values = {"vervar": self.categories, "turvar": self.columns}
        return [
            Dimension(ids[axis], label, list(values[axis].values())) for axis, _, label in named
        ]

    def _unique_ids(self, named: Sequence[tuple[str, str]]) -> dict[str, str]:
        """Give each axis an id whose CSV columns are new (:mod:`opendata.columns`).

        The catalog's ids stay as they are (the catalog refuses clashing ones); a derived id
        that would repeat a fixed column or a column of a dimension placed before it (the
        catalog's, then rows before columns) gets ``_dim``.
        """
        ids = {axis: slug for axis, slug in named if axis in self.overrides}
        for axis, slug in named:
            if axis in ids:
                continue
            others = list(ids.values())
            why = columns.clash(slug, others)
            ids[axis] = columns.unique_id(slug, others)
            if why:
                self.messages.append(
                    f"var {self.var}: dimension id {slug!r} would repeat a CSV column ({why}); "
                    f"it is {ids[axis]!r} (set dimensions.{axis} in the catalog to choose)"
                )
        for axis, _slug in named:
            others = [ids[other] for other, _ in named if other != axis]
            why = columns.clash(ids[axis], others)
            if why:
                raise ParseError(
                    f"var {self.var}: dimension id {ids[axis]!r} would repeat a CSV column "
                    f"({why}); set dimensions.{axis} in the catalog to another id"
                )
        return ids

    def _column_name(self) -> tuple[str, str]:
        override = self.overrides.get("turvar")
        if self.turvar_group and slugify(self.turvar_group):
            return override or slugify(self.turvar_group), self.turvar_group
        guess = guess_column_name(list(self.columns.values()))
        if override:
            return override, guess or override.replace("_", " ").capitalize()
        if guess:
            self.messages.append(
                f"var {self.var}: BPS names no group for the columns; dimension id "
                f"{slugify(guess)!r} guessed from their labels (set dimensions.turvar to choose)"
            )
            return slugify(guess), guess
        self.messages.append(
            f"var {self.var}: BPS names no group for the columns; dimension id 'turvar' "
            "(set dimensions.turvar in the catalog to name it)"
        )
        return "turvar", "Turvar"

    def records(self, dimensions: Sequence[Dimension]) -> list[Record]:
        """Return one record per decoded cell, in the order the cells were met."""
        ids = [dimension.id for dimension in dimensions]
        indicator = str(self.var)
        keys: dict[tuple, tuple[tuple[str, str], ...]] = {}  # one tuple per (category, column)
        records = []
        for (region, period, category, column), ((value, flag, note), _key) in self.cells.items():
            dims = keys.get((category, column))
            if dims is None:
                codes = [c for c in (category, column) if c is not None]
                dims = keys[category, column] = tuple(zip(ids, codes, strict=True))
            records.append(Record(indicator, region, period, dims, value, flag, note))
        return records


def _shown(cell: tuple[Decimal | None, str | None, str | None]) -> str:
    """A cell for an error message: its value, else its flag and note."""
    value, flag, note = cell
    if value is not None:
        return str(value)
    return f"flag {flag!r}" + (f" note {note!r}" if note else "") if flag else "null"


def match_keys(
    content: Mapping[str, Any],
    var: Item,
    axes: Sequence[Sequence[Item]],
    where: str = "",
) -> list[tuple[str, tuple[int, ...]]]:
    """Return each datacontent key with the axis positions that build it, in table order.

    ``axes`` are the vervar, turvar, tahun and turtahun items. Every combination is built and
    looked up; a key of ``content`` that two combinations build is ambiguous, and a key that no
    combination builds is unexplained: both raise :class:`ParseError`. (Two combinations that
    build a key ``content`` lacks are harmless: neither has a cell.)
    """
    vervar, turvar, tahun, turtahun = axes
    # the tail (turvar + tahun + turtahun) of every key is built once, not once per row
    tails = [
        (f"{turvar[c].val}{tahun[y].val}{turtahun[t].val}", c, y, t)
        for c, y, t in itertools.product(
            range(len(turvar)), range(len(tahun)), range(len(turtahun))
        )
    ]
    built: dict[str, tuple[int, ...]] = {}
    twice: dict[str, list[tuple[int, ...]]] = {}
    for r, row in enumerate(vervar):
        head = f"{row.val}{var.val}"
        for tail, c, y, t in tails:
            key = head + tail
            if key in built:
                twice.setdefault(key, [built[key]]).append((r, c, y, t))
            else:
                built[key] = (r, c, y, t)
    prefix = f"{where}: " if where else ""
    for key, found in twice.items():
        if key in content:
            ways = " and by ".join(_describe(axes, index) for index in found)
            raise ParseError(f"{prefix}ambiguous datacontent key {key}: built by {ways}")
    matched = [(key, index) for key, index in built.items() if key in content]
    if len(matched) != len(content):
        unexplained = [key for key in content if key not in built]
        raise ParseError(
            f"{prefix}{len(unexplained)} datacontent key(s) match no combination of vervar, "
            f"var, turvar, tahun and turtahun: {', '.join(map(str, unexplained[:5]))}"
        )
    return matched


def _describe(axes: Sequence[Sequence[Item]], index: Sequence[int]) -> str:
    names = ("vervar", "turvar", "tahun", "turtahun")
    parts = (f"{n} {a[i].val}" for n, a, i in zip(names, axes, index, strict=True))
    return "(" + ", ".join(parts) + ")"


#: stands for a body not decoded yet in ``decode``'s ``bodies``
UNDECODED = object()


def decode(
    domain: str,
    var: int,
    overrides: Mapping[str, str],
    payloads: Sequence[Payload],
    regions: RegionIndex,
    bodies: Sequence[Any] | None = None,
) -> ParseResult:
    """Decode one dataset's payloads (data windows and the turvar list) into a ParseResult.

    ``bodies``, if given, holds each payload's body already decoded by ``load_json`` (or
    ``UNDECODED``), so a body is not decoded twice.
    """
    decoder = _Decoder(domain, var, overrides, regions)
    tables = []
    for index, payload in enumerate(payloads):
        body = bodies[index] if bodies is not None else UNDECODED
        if body is UNDECODED:
            body = load_json(payload.body)
        model = _model_of(payload, body)
        if model == "turvar":
            decoder.turvar_group = decoder.turvar_group or turvar_group(body)
            continue
        if model != "data":
            continue  # a list (th, ...) the fetch needed; it holds no cells
        problem = _status_error(body)
        if problem:
            raise ParseError(f"{payload.url}: {problem}")
        if not is_no_data(body):
            tables.append((payload, body))
    if not tables:
        return ParseResult(no_data=True)
    for payload, body in tables:
        decoder.table(payload, body)
    dimensions = decoder.dimensions()
    last_payload, last_body = tables[-1]
    indicator = _indicator(last_body, source_ref(last_payload.url, domain, var))
    updates = [u for u in (_last_update(body) for _, body in tables) if u is not None]
    indicator.source_last_update = max(updates) if updates else None
    return ParseResult(
        indicators=[indicator],
        dimensions=dimensions,
        regions=list(decoder.new_regions.values()),
        records=decoder.records(dimensions),
        messages=decoder.messages,
    )


def _model_of(payload: Payload, body: Any) -> str:
    """Return the list model a payload answers: its request's, else what its body looks like."""
    model = payload.params.get("model") if payload.params else None
    if model:
        return str(model)
    if isinstance(body, Mapping) and isinstance(body.get("data"), list):
        items = body["data"][1] if len(body["data"]) > 1 else []
        first = items[0] if isinstance(items, list) and items else {}
        return "turvar" if isinstance(first, Mapping) and "turvar_id" in first else "list"
    return "data"


def _indicator(body: Mapping[str, Any], ref: str) -> Indicator:
    var = body["var"][0]
    decimals = var.get("decimal")
    try:
        decimals = int(decimals) if decimals not in (None, "") else None
    except (TypeError, ValueError):
        decimals = None
    subject = clean_label(var.get("subj"))
    unit = clean_label(var.get("unit"))
    return Indicator(
        code=str(var["val"]),
        name=clean_label(var.get("label")),
        unit=unit or None,
        decimals=decimals,
        definition=clean_notes(var.get("def")),
        notes=clean_notes(var.get("note")),
        subject=subject or None,
        source_ref=ref,
    )
