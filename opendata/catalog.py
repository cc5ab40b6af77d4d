"""Load and validate the dataset catalog: one ``datasets/<id>.yaml`` file per dataset.

The contract (more keys are allowed and kept in ``DatasetSpec.extra``)::

    id: inflasi-yoy-provinsi
    title: Inflasi tahunan (y-on-y) menurut provinsi      # or {id: ..., en: ...}
    source: bps
    bps: {domain: "0000", var: 2263, years: "2020-2024"}
    # optional: description, license, attribution, frequency, tags, dimensions, target
    schedule: {every: 1d}           # optional: how often cron checks it (default by frequency)

A dataset of plan figures declares what they are targets of (docs/harvesters.md, "Targets")::

    target:
      of: {dataset: tpt-provinsi, indicator: "543", dimensions: {jenis_kelamin: "_T"}}
      better: lower                 # lower | higher, or per value of a dimension:
                                    # {by: indikator, lower: [code, ...], higher: [code, ...]}
      document: RPJMD Provinsi Kalimantan Selatan 2021-2026
      scale: 1000000                # optional: target x scale is in the actual's unit

YAML 1.1 reads an unquoted ``0000`` as the integer 0 (and ``0601`` as an octal number); the
catalog's loader reads any plain scalar with a leading zero as the text it is, so
``domain: 0000`` means domain ``"0000"``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from opendata import columns
from opendata.exceptions import CatalogError
from opendata.freshness import parse_interval
from opendata.model import HIGHER, LOWER, DatasetSpec, TargetSpec

FREQUENCIES = ("annual", "semiannual", "quarterly", "monthly")
#: matched whole (``fullmatch``): ``$`` would also match before a trailing newline
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,62}")
_KNOWN_KEYS = {
    "id",
    "title",
    "source",
    "description",
    "license",
    "attribution",
    "frequency",
    "tags",
    "dimensions",
    "target",
    "schedule",
}
TARGET_KEYS = ("of", "better", "document", "scale")
TARGET_OF_KEYS = ("dataset", "indicator", "dimensions")
BETTER = (LOWER, HIGHER)


class _CatalogLoader(yaml.SafeLoader):
    """SafeLoader that keeps leading-zero numbers (``0000``, ``0601``) as text."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if re.fullmatch(r"[-+]?0[0-9_]+", text):
        return text
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_CatalogLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _texts(value: Any, key: str, where: str) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        return {"id": value.strip()}
    if isinstance(value, Mapping) and value and set(value) <= {"id", "en"}:
        if all(isinstance(v, str) and v.strip() for v in value.values()) and "id" in value:
            return {k: v.strip() for k, v in value.items()}
    raise CatalogError(
        f"{where}: '{key}' must be a text or a mapping {{id: ..., en: ...}} with an 'id' text"
    )


def _optional_text(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and value.strip()):
        return value.strip() if value else None
    raise CatalogError(f"{where}: '{key}' must be a text")


def _refuse_misspelt_keys(raw: Mapping[str, Any], source: str, where: str) -> None:
    """More keys are allowed, but one that looks like a known key is surely a typo."""
    for key in raw:
        if key in _KNOWN_KEYS or key == source or not isinstance(key, str):
            continue
        close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1, cutoff=0.8)
        if close:
            raise CatalogError(
                f"{where}: unknown key '{key}': did you mean '{close[0]}'? "
                f"(known keys: {', '.join(sorted(_KNOWN_KEYS))}, and '{source}')"
            )


def _refuse_clashing_dimensions(dimensions: Mapping[str, str], where: str) -> None:
    """A dimension id gives the CSV columns ``<id>_code`` and ``<id>``: each must be new."""
    placed: list[str] = []
    for key, dimension_id in dimensions.items():
        why = columns.clash(dimension_id, placed)
        if why:
            suggestion = columns.unique_id(dimension_id, placed)
            raise CatalogError(
                f"{where}: dimensions.{key}: '{dimension_id}' would repeat a CSV column: {why}; "
                f"choose another id, e.g. '{suggestion}'"
            )
        placed.append(dimension_id)


def _code(value: Any) -> str | None:
    """A code as the catalog may write it: a text, or a number YAML read (``543``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str) and str(value).strip():
        return str(value).strip()
    return None


def _unknown_keys(raw: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise CatalogError(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(known)})")


def _better(raw: Any, where: str) -> tuple[str | None, str | None, dict[str, str]]:
    """``better``: lower | higher, or {by: <dimension slug>, lower: [codes], higher: [codes]}."""
    if raw in BETTER:
        return raw, None, {}
    if isinstance(raw, Mapping) and "by" in raw:
        _unknown_keys(raw, ("by", *BETTER), where)
        by = raw["by"]
        if not isinstance(by, str) or not _SLUG.fullmatch(by):
            raise CatalogError(f"{where}.by: must be a dimension id of this dataset (indikator)")
        values: dict[str, str] = {}
        for direction in BETTER:
            codes = raw.get(direction) or []
            if not isinstance(codes, list) or any(_code(c) is None for c in codes):
                raise CatalogError(f"{where}.{direction}: must be a list of value codes of '{by}'")
            for code in map(_code, codes):
                if code in values:
                    raise CatalogError(f"{where}: the code '{code}' is both lower and higher")
                values[code] = direction
        if not values:
            raise CatalogError(f"{where}: list the codes of '{by}' under 'lower' and 'higher'")
        return None, by, values
    raise CatalogError(
        f"{where}: must be 'lower' (a smaller figure is better: unemployment, poverty) or "
        "'higher' (growth, HDI), or {by: <dimension>, lower: [codes], higher: [codes]}"
    )


def parse_target(raw: Any, where: str) -> TargetSpec:
    """Validate a ``target:`` section (whether ``of.dataset`` exists is load_catalog's check)."""
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: must be a mapping with 'of' and 'better'")
    _unknown_keys(raw, TARGET_KEYS, where)
    of = raw.get("of")
    if isinstance(of, str):
        of = {"dataset": of}
    if not isinstance(of, Mapping) or not isinstance(of.get("dataset"), str):
        raise CatalogError(
            f"{where}.of: must name the dataset of the actual figures, "
            'e.g. {dataset: tpt-provinsi, indicator: "543"}'
        )
    _unknown_keys(of, TARGET_OF_KEYS, f"{where}.of")
    if not _ID.fullmatch(of["dataset"]):
        raise CatalogError(f"{where}.of.dataset: {of['dataset']!r} is not a dataset id")
    indicator = of.get("indicator")
    if indicator is not None and _code(indicator) is None:
        raise CatalogError(f'{where}.of.indicator: must be an indicator code, e.g. "543"')
    dimensions = of.get("dimensions") or {}
    if not isinstance(dimensions, Mapping) or not all(
        isinstance(k, str) and _SLUG.fullmatch(k) and _code(v) is not None
        for k, v in dimensions.items()
    ):
        raise CatalogError(
            f"{where}.of.dimensions: must map a dimension id of the actual dataset to the code "
            "of one of its values, e.g. {jenis_kelamin: _T}"
        )
    if "better" not in raw:
        raise CatalogError(
            f"{where}: 'better' is missing: lower (a smaller figure is better) or higher"
        )
    better, better_by, better_values = _better(raw["better"], f"{where}.better")
    document = raw.get("document")
    if document is not None and not (isinstance(document, str) and document.strip()):
        raise CatalogError(f"{where}.document: must be a text (the plan that set the targets)")
    scale = raw.get("scale")
    if scale is not None:
        try:
            scale = Decimal(str(scale))
        except InvalidOperation:
            scale = None
        if isinstance(raw["scale"], bool) or scale is None or not scale.is_finite() or scale <= 0:
            raise CatalogError(
                f"{where}.scale: must be a positive number: what a target figure is multiplied "
                "by to be in the actual's unit (1000000 for juta rupiah against rupiah)"
            )
    return TargetSpec(
        dataset=of["dataset"],
        better=better,
        better_by=better_by,
        better_values=better_values,
        indicator=None if indicator is None else _code(indicator),
        dimensions={k: _code(v) for k, v in dimensions.items()},
        document=document.strip() if document else None,
        scale=scale,
    )


def _schedule(raw: Any, where: str) -> timedelta | None:
    """``schedule: {every: 1d}``: how often a harvest checks the source (``harvest --due``)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"every"}:
        raise CatalogError(f"{where}: 'schedule' must be a mapping {{every: 1d}} (6h, 1d, 2w)")
    try:
        return parse_interval(raw["every"])
    except ValueError as exc:
        raise CatalogError(f"{where}: schedule.every: {exc}") from None


def parse_spec(raw: Any, path: Path) -> DatasetSpec:
    """Validate one loaded catalog document; raise CatalogError naming the file and the key."""
    where = str(path)
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: a dataset file must be a mapping of keys to values")
    for key in ("id", "title", "source"):
        if key not in raw:
            raise CatalogError(f"{where}: the key '{key}' is missing")
    dataset_id = raw["id"]
    if not isinstance(dataset_id, str) or not _ID.fullmatch(dataset_id):
        raise CatalogError(
            f"{where}: 'id' must be lowercase letters, digits and '-' (got {dataset_id!r})"
        )
    if path.suffix == ".yaml" and path.stem != dataset_id:
        raise CatalogError(f"{where}: the file must be named after its id: {dataset_id}.yaml")
    source = raw["source"]
    if not isinstance(source, str) or not source:
        raise CatalogError(f"{where}: 'source' must name a harvester, e.g. 'bps'")
    query = raw.get(source)
    if not isinstance(query, Mapping):
        raise CatalogError(f"{where}: source '{source}' needs a '{source}:' mapping with its query")
    frequency = raw.get("frequency")
    if frequency is not None and frequency not in FREQUENCIES:
        raise CatalogError(f"{where}: 'frequency' must be one of {', '.join(FREQUENCIES)}")
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise CatalogError(f"{where}: 'tags' must be a list of texts")
    dimensions = raw.get("dimensions") or {}
    if not isinstance(dimensions, Mapping) or not all(
        isinstance(v, str) and _SLUG.fullmatch(v) for v in dimensions.values()
    ):
        raise CatalogError(
            f"{where}: 'dimensions' must map a source axis to a slug "
            "(lowercase letters, digits, '_'), e.g. {vervar: jenis_korban}"
        )
    _refuse_clashing_dimensions(dimensions, where)
    _refuse_misspelt_keys(raw, source, where)
    description = raw.get("description")
    target = raw.get("target")
    return DatasetSpec(
        id=dataset_id,
        title=_texts(raw["title"], "title", where),
        source=source,
        query=dict(query),
        path=path,
        description=_texts(description, "description", where) if description else {},
        license=_optional_text(raw, "license", where),
        attribution=_optional_text(raw, "attribution", where),
        frequency=frequency,
        tags=tuple(tags),
        dimensions=dict(dimensions),
        extra={k: v for k, v in raw.items() if k not in _KNOWN_KEYS and k != source},
        target=None if target is None else parse_target(target, f"{where}: target"),
        check_every=_schedule(raw.get("schedule"), where),
    )


def load_spec(path: Path) -> DatasetSpec:
    """Load and validate one dataset file."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_CatalogLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    return parse_spec(raw, path)


def load_catalog(directory: Path) -> dict[str, DatasetSpec]:
    """Load every ``*.yaml`` of a catalog folder, validated by the harvester of its source."""
    from harvesters import get_harvester

    if not directory.is_dir():
        raise CatalogError(f"the catalog folder {directory} does not exist (OPENDATA_CATALOG_DIR)")
    specs: dict[str, DatasetSpec] = {}
    for path in sorted(directory.glob("*.yaml")):
        spec = load_spec(path)
        try:
            harvester = get_harvester(spec.source)
        except KeyError as exc:
            raise CatalogError(f"{path}: {exc.args[0]}") from None
        harvester.validate_spec(spec)
        specs[spec.id] = spec
    check_targets(specs)
    return specs


def check_targets(specs: Mapping[str, DatasetSpec]) -> None:
    """Every ``target.of`` names another dataset of the catalog, which is not itself a target."""
    for spec in specs.values():
        if spec.target is None:
            continue
        where = f"{spec.path}: target.of.dataset"
        actual = specs.get(spec.target.dataset)
        if actual is None:
            close = difflib.get_close_matches(spec.target.dataset, sorted(specs), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise CatalogError(f"{where}: no dataset '{spec.target.dataset}' in the catalog{hint}")
        if actual.id == spec.id:
            raise CatalogError(f"{where}: a dataset cannot be the target of itself")
        if actual.target is not None:
            raise CatalogError(
                f"{where}: '{actual.id}' holds targets itself; name the dataset of the actual "
                "figures"
            )
