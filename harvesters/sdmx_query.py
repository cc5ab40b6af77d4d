"""The ``sdmx:`` section of a catalog entry: its keys, checked when the catalog loads.

Checked without importing sdmx1 (the catalog loader runs in the web workers): the ids of
sdmx1's web services are read from its ``sources.json``. See docs/harvesters.md, "SDMX".
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opendata import columns
from opendata.exceptions import CatalogError

if TYPE_CHECKING:
    from opendata.model import DatasetSpec

FORMATS = ("xml", "json", "csv")
KEYS = frozenset(
    {"path", "url", "source", "flow", "key", "params", "structure", "format"}
    | {"region", "indicator", "dimensions", "select"}
)
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,62}")
_COMPONENT = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Kept:
    """An SDMX dimension kept as a dataset dimension."""

    component: str
    id: str
    label: str | None = None


@dataclass(frozen=True)
class SDMXQuery:
    """A validated ``sdmx:`` catalog section."""

    path: str | None = None
    url: str | None = None
    source: str | None = None  #: an sdmx1 source id (with flow, key and params)
    flow: str | None = None
    key: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    structure: str | None = None  #: a path or URL of a structure message
    fetch_structure: bool = False  #: ask the sdmx1 source for the flow's structure
    format: str | None = None
    region_dimension: str = "REF_AREA"
    region_map: Mapping[str, str] = field(default_factory=dict)
    region_code: str | None = None
    indicator_dimension: str | None = None
    indicator_code: str | None = None
    indicator_name: str | None = None
    indicator_unit: str | None = None
    dimensions: tuple[Kept, ...] = ()
    select: Mapping[str, frozenset[str]] = field(default_factory=dict)


def parse_query(spec: DatasetSpec) -> SDMXQuery:
    """Validate a dataset's ``sdmx:`` section; raise CatalogError naming the file and key."""
    return _QueryReader(spec).read()


class _QueryReader:
    def __init__(self, spec: DatasetSpec):
        self.spec = spec
        self.query = spec.query
        self.where = f"{spec.path}: sdmx"

    def fail(self, key: str, why: str) -> CatalogError:
        return CatalogError(f"{self.where}.{key}: {why}" if key else f"{self.where}: {why}")

    def read(self) -> SDMXQuery:
        unknown = sorted(set(self.query) - KEYS)
        if unknown:
            raise self.fail(
                "", f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})"
            )
        if self.spec.dimensions:
            raise CatalogError(
                f"{self.spec.path}: dimensions: an SDMX dataset names its dimensions in "
                "sdmx.dimensions ([{dimension: SEX, id: jenis_kelamin}])"
            )
        given = [k for k in ("path", "url", "source") if self.query.get(k) is not None]
        if len(given) != 1:
            raise self.fail(
                "",
                "give exactly one of path (a file), url, or source (an sdmx1 web service, "
                "with flow and key)",
            )
        fields: dict[str, Any] = {given[0]: self._text(given[0])}
        if given[0] == "source":
            fields.update(self._service())
        else:
            for key in ("flow", "key", "params"):
                if key in self.query:
                    raise self.fail(key, "only with source (an sdmx1 web service)")
        if given[0] == "url":
            self._url("url", fields["url"])
        fields.update(self._structure(given[0]))
        fmt = self.query.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise self.fail("format", f"must be one of {', '.join(FORMATS)} (got {fmt!r})")
        fields["format"] = fmt
        fields.update(self._region())
        fields.update(self._indicator())
        fields["dimensions"] = self._dimensions()
        fields["select"] = self._select()
        return SDMXQuery(**fields)

    def _text(self, key: str, value: Any = None) -> str:
        value = self.query.get(key) if value is None else value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a text (got {value!r})")
        return value.strip()

    def _url(self, key: str, value: str) -> None:
        if not re.match(r"https?://[^/\s]+", value):
            raise self.fail(key, f"must be an http(s) URL (got {value!r})")

    def _service(self) -> dict[str, Any]:
        source = self._text("source")
        known = sdmx1_sources()
        if known and source not in known:
            raise self.fail(
                "source", f"{source!r} is not an sdmx1 source (known: {', '.join(known)})"
            )
        if "flow" not in self.query:
            raise self.fail("flow", "is missing: the dataflow to ask the source for")
        key = self.query.get("key")
        if key is not None and not isinstance(key, str):
            raise self.fail(
                "key",
                "must be an SDMX key text, e.g. '.CME_MRY0T4.IDN._T' (dimensions joined by "
                "'.', codes by '+')",
            )
        params = self.query.get("params") or {}
        if not isinstance(params, Mapping) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in params.values()
        ):
            raise self.fail(
                "params", "must map query parameters to texts, e.g. {startPeriod: 2015}"
            )
        return {
            "flow": self._text("flow"),
            "key": key,
            "params": {str(k): str(v) for k, v in params.items()},
        }

    def _structure(self, kind: str) -> dict[str, Any]:
        structure = self.query.get("structure")
        if structure is None:
            return {"fetch_structure": kind == "source"}
        if structure is False:
            return {}
        text = self._text("structure")
        if text.startswith(("http://", "https://")):
            self._url("structure", text)
        return {"structure": text}

    def _mapping(self, key: str, allowed: set[str]) -> Mapping[str, Any]:
        value = self.query.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping with {' / '.join(sorted(allowed))}")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(
                key, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})"
            )
        return value

    def _region(self) -> dict[str, Any]:
        if "region" not in self.query:
            raise self.fail(
                "region", 'is missing: {dimension: REF_AREA, map: {IDN: "0000"}} or {code: "6300"}'
            )
        region = self._mapping("region", {"dimension", "map", "code"})
        if "code" in region:
            if set(region) != {"code"}:
                raise self.fail("region", "code (one region for the whole dataset) goes alone")
            return {"region_code": self._text("region.code", region["code"])}
        mapping = region.get("map")
        if not isinstance(mapping, Mapping) or not mapping:
            raise self.fail(
                "region.map",
                'must map the source\'s area codes to region codes, e.g. {IDN: "0000"}',
            )
        region_map = {
            self._text(f"region.map key {k!r}", k): self._text(f"region.map.{k}", v)
            for k, v in mapping.items()
        }
        dimension = self._component("region.dimension", region.get("dimension", "REF_AREA"))
        return {"region_dimension": dimension, "region_map": region_map}

    def _component(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not _COMPONENT.fullmatch(value):
            raise self.fail(key, f"must be an SDMX component id such as REF_AREA (got {value!r})")
        return value

    def _indicator(self) -> dict[str, Any]:
        if "indicator" not in self.query:
            return {}
        indicator = self._mapping("indicator", {"dimension", "code", "name", "unit"})
        unit = self._text("indicator.unit", indicator["unit"]) if "unit" in indicator else None
        if "dimension" in indicator:
            if "code" in indicator or "name" in indicator:
                raise self.fail("indicator", "give either dimension, or code and name")
            return {
                "indicator_dimension": self._component(
                    "indicator.dimension", indicator["dimension"]
                ),
                "indicator_unit": unit,
            }
        if "code" not in indicator or "name" not in indicator:
            raise self.fail("indicator", "give {dimension: INDICATOR}, or {code: ..., name: ...}")
        code = self._text("indicator.code", indicator["code"])
        if len(code) > 80:
            raise self.fail("indicator.code", "is longer than 80 characters")
        return {
            "indicator_code": code,
            "indicator_name": self._text("indicator.name", indicator["name"]),
            "indicator_unit": unit,
        }

    def _dimensions(self) -> tuple[Kept, ...]:
        entries = self.query.get("dimensions") or []
        if not isinstance(entries, list):
            raise self.fail(
                "dimensions", "must be a list of SDMX dimension ids, or of {dimension, id, label}"
            )
        kept: list[Kept] = []
        for number, entry in enumerate(entries):
            key = f"dimensions[{number}]"
            if isinstance(entry, str):
                entry = {"dimension": entry}
            if not isinstance(entry, Mapping) or "dimension" not in entry:
                raise self.fail(key, "must be an SDMX dimension id, or {dimension, id, label}")
            unknown = sorted(set(entry) - {"dimension", "id", "label"})
            if unknown:
                raise self.fail(
                    key, f"unknown key(s) {', '.join(unknown)} (known: dimension, id, label)"
                )
            component = self._component(f"{key}.dimension", entry["dimension"])
            if any(k.component == component for k in kept):
                raise self.fail(key, f"{component} is listed twice")
            slug = entry.get("id") or re.sub(r"[^a-z0-9_]", "_", component.lower()).strip("_")
            if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
                raise self.fail(
                    f"{key}.id", f"must be lowercase letters, digits and '_' (got {slug!r})"
                )
            why = columns.clash(slug, [k.id for k in kept])
            if why:
                raise self.fail(
                    f"{key}.id",
                    f"'{slug}' would repeat a CSV column: {why}; choose another id, e.g. "
                    f"'{columns.unique_id(slug, [k.id for k in kept])}'",
                )
            label = entry.get("label")
            if label is not None:
                label = self._text(f"{key}.label", label)
            kept.append(Kept(component, slug, label))
        return tuple(kept)

    def _select(self) -> dict[str, frozenset[str]]:
        select = self.query.get("select") or {}
        if not isinstance(select, Mapping):
            raise self.fail("select", "must map component ids to a code or a list of codes")
        chosen = {}
        for component, codes in select.items():
            self._component(f"select key {component!r}", component)
            codes = codes if isinstance(codes, list) else [codes]
            if not codes:
                raise self.fail(f"select.{component}", "the list of codes is empty")
            chosen[component] = frozenset(self._text(f"select.{component}", c) for c in codes)
        return chosen


@cache
def sdmx1_sources() -> tuple[str, ...]:
    """The ids of sdmx1's web services, read from its ``sources.json`` without importing it."""
    spec = importlib.util.find_spec("sdmx")
    if spec is None or spec.origin is None:
        return ()
    path = Path(spec.origin).with_name("sources.json")
    try:
        return tuple(sorted(s["id"] for s in json.loads(path.read_text(encoding="utf-8"))))
    except (OSError, ValueError, KeyError, TypeError):
        return ()
