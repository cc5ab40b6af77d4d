"""Read SDMX messages — SDMX-ML 2.1, SDMX-JSON, SDMX-CSV — into flat observations: pure.

Every format becomes a :class:`Message`: observations as ``{component id: code}`` plus the
observation value *as written*, and the labels the message (or its structure) gives. The
decoder (:mod:`harvesters.sdmx_decode`) then needs to know no format.

Who reads what, and why:

- **SDMX-ML** (generic and structure-specific data, structure messages) is read by sdmx1
  (``sdmx.read_sdmx``). It keeps ``OBS_VALUE`` as the attribute's text, so ``23.60`` stays
  ``23.60``. Structure-specific data is read with the data structure (DSD) when the catalog
  gives one; without it sdmx1 takes every attribute of a ``<Series>`` for a dimension, so the
  attributes we know (``UNIT_MEASURE``, ``UNIT_MULT``, ``OBS_STATUS``, ...) are moved back.
- **SDMX-JSON** is read here. sdmx1 (2.28) loads it with ``json.load``, which turns ``23.60``
  into the float 23.6 (the published decimals are lost; beyond 15 digits a value may change),
  and it reads each series' attributes from the data set's list instead of the series' own, so
  a series' ``UNIT_MULT`` is lost. The format is small: key indices into the structure's lists.
- **SDMX-CSV** is read here with :mod:`csv`. sdmx1 reads only SDMX-CSV 2.0, and only with the
  DSD at hand; sources serve SDMX-CSV 1.0 (``DATAFLOW`` first), its ``labels=both`` form
  (``IDN: Indonesia`` cells, ``REF_AREA: Reference area`` headers), and the .Stat flavour of
  UNICEF and OECD (no ``DATAFLOW`` column; each code column followed by a column of its labels,
  headed by the label's name: ``REF_AREA,Geographic area,...``). All three are read as text.

sdmx1 (and with it pandas) is imported inside :func:`read_xml` and :func:`read_structure` only:
the catalog loader imports this module's harvester, and the web workers load the catalog.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from harvesters.exceptions import ParseError
from harvesters.transport import ExactNumber

TIME = "TIME_PERIOD"
VALUE = "OBS_VALUE"
#: attributes of the SDMX cross-domain concepts: never dimensions, whatever a file's layout says
KNOWN_ATTRIBUTES = frozenset(
    {
        "UNIT_MEASURE",
        "UNIT_MULT",
        "OBS_STATUS",
        "OBS_CONF",
        "OBS_COMMENT",
        "COMMENT_OBS",
        "COMMENT_TS",
        "DECIMALS",
        "TIME_FORMAT",
        "TITLE",
        "TITLE_COMPL",
        "BASE_PER",
        "COMPILING_ORG",
        "DATA_COMP",
        "EMBARGO_TIME",
        "REF_PERIOD",
        "UNIT_INDEX_BASE",
        "LOWER_BOUND",
        "UPPER_BOUND",
    }
)
#: attributes holding free text, never split into ``code: label``
TEXT_ATTRIBUTES = frozenset({"OBS_COMMENT", "COMMENT_OBS", "COMMENT_TS", "TITLE", "TITLE_COMPL"})
#: an SDMX component id as SDMX-CSV headers write it (labels columns are written otherwise)
_COMPONENT_ID = re.compile(r"[A-Z][A-Z0-9_]*")
#: the languages of labels, preferred first (then whatever the source has)
LANGUAGES = ("id", "en")


@dataclass
class Observation:
    """One observation: its key (dimension id -> code), attributes and value text."""

    key: dict[str, str]
    attributes: dict[str, str]
    value: str | None  #: as written (``23.60``); None where the message has no value


@dataclass
class Structure:
    """What a data structure (DSD) says: which components are dimensions, names, labels."""

    dimensions: list[str]
    attributes: list[str]
    names: dict[str, str] = field(default_factory=dict)  #: component id -> its name
    #: component id -> {code: label}, in the codelist's order
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    dsd: Any = None  #: sdmx1's DataStructureDefinition (to read structure-specific data)


@dataclass
class Message:
    """One data message, whatever its format."""

    format: str  #: xml | json | csv
    observations: list[Observation]
    #: the dimension ids (TIME_PERIOD included), in the structure's order where known
    dimensions: list[str]
    names: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    #: True when a structure (a DSD, or the message itself) says which are dimensions
    dimensions_known: bool = True
    series_without_observations: int = 0

    def apply(self, structure: Structure | None) -> None:
        """Take names, labels and the dimensions from a structure the catalog gave.

        The structure's names win over the message's: its codelists are the authority, and
        may hold Indonesian names where a message carries those of one (requested) language.
        """
        if structure is None:
            return
        self.names.update(structure.names)
        for component, labels in structure.labels.items():
            self.labels[component] = {**labels, **self.labels.get(component, {}), **labels}
        if not self.dimensions_known:
            dimensions = set(structure.dimensions)
            for observation in self.observations:
                for component in [c for c in observation.key if c not in dimensions]:
                    observation.attributes[component] = observation.key.pop(component)
            seen = set(self.dimensions)
            self.dimensions = [d for d in structure.dimensions if d in seen]
            self.dimensions_known = True


def sniff(body: bytes) -> str:
    """Say the format of a body from its first character: xml, json or csv."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "xml"
    if head.startswith((b"{", b"[")):
        return "json"
    return "csv"


_STRUCTURE_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Structure[\s>]")
_ANY_ROOT = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def is_structure_message(body: bytes) -> bool:
    """Say whether an SDMX-ML body is a structure message (its root is ``Structure``)."""
    if sniff(body) != "xml":
        return False
    root = _ANY_ROOT.search(body[:4096])
    return bool(root) and root.group(1) == b"Structure" and bool(_STRUCTURE_ROOT.search(body))


def localized(text: Any) -> str:
    """The label of an sdmx1 InternationalString (or text): Indonesian, English, or any."""
    if text is None:
        return ""
    localizations = getattr(text, "localizations", None)
    if localizations is None:
        return str(text).strip()
    for language in LANGUAGES:
        if localizations.get(language):
            return str(localizations[language]).strip()
    return next((str(v).strip() for v in localizations.values() if v), "")


# --- SDMX-ML (sdmx1) --------------------------------------------------------------------------


def read_structure(body: bytes, where: str) -> Structure:
    """Read the data structure of an SDMX-ML structure message (its one DSD)."""
    import sdmx  # noqa: PLC0415 - heavy (pandas); only where harvesting happens

    try:
        message = sdmx.read_sdmx(io.BytesIO(body))
    except Exception as exc:  # noqa: BLE001 - sdmx1 and lxml raise many kinds
        raise ParseError(f"{where}: not a readable SDMX-ML structure message: {exc}") from exc
    dsds = list(getattr(message, "structure", {}).values())
    if len(dsds) != 1:
        found = ", ".join(d.id for d in dsds) or "none"
        raise ParseError(
            f"{where}: a structure message must hold exactly one data structure (DSD), "
            f"it holds {found}"
        )
    dsd = dsds[0]
    structure = Structure(
        dimensions=[d.id for d in dsd.dimensions.components],
        attributes=[a.id for a in dsd.attributes.components],
        dsd=dsd,
    )
    for component in [*dsd.dimensions.components, *dsd.attributes.components]:
        concept = getattr(component, "concept_identity", None)
        name = localized(getattr(concept, "name", None)) if concept is not None else ""
        if name:
            structure.names[component.id] = name
        codelist = _codelist(component)
        if codelist is not None:
            structure.labels[component.id] = {
                code.id: localized(code.name) or code.id for code in codelist
            }
    return structure


def _codelist(component: Any) -> Any:
    for holder in (component, getattr(component, "concept_identity", None)):
        if holder is None:
            continue
        representation = getattr(holder, "local_representation", None) or getattr(
            holder, "core_representation", None
        )
        enumerated = getattr(representation, "enumerated", None)
        if enumerated is not None:
            return enumerated
    return None


def read_xml(body: bytes, structure: Structure | None, where: str) -> Message:
    """Read SDMX-ML 2.1 generic or structure-specific data with sdmx1."""
    import sdmx  # noqa: PLC0415 - heavy (pandas); only where harvesting happens
    from sdmx.message import DataMessage  # noqa: PLC0415

    kwargs = {"structure": structure.dsd} if structure is not None and structure.dsd else {}
    try:
        with _quiet_inference():
            message = sdmx.read_sdmx(io.BytesIO(body), **kwargs)
    except Exception as exc:  # noqa: BLE001 - sdmx1 and lxml raise many kinds
        raise ParseError(f"{where}: not a readable SDMX-ML data message: {exc}") from exc
    if not isinstance(message, DataMessage):
        raise ParseError(f"{where}: an SDMX-ML {type(message).__name__}, not a data message")
    dimensions = [d.id for d in message.structure.dimensions.components]
    inferred = structure is None and "StructureSpecific" in body[:4096].decode("utf-8", "replace")
    known = [d for d in dimensions if not (inferred and d in KNOWN_ATTRIBUTES)]
    observations = []
    series_without = 0
    for data_set in message.data:
        data_set_attributes = _attributes(getattr(data_set, "attrib", {}))
        for obs in data_set.obs:
            key = {k: _code(v.value) for k, v in obs.key.values.items()}
            attributes = dict(data_set_attributes)
            attributes.update(_attributes(obs.attrib))
            for component in [c for c in key if c not in known]:
                attributes[component] = key.pop(component)
            value = obs.value
            observations.append(Observation(key, attributes, None if value is None else str(value)))
        series_without += sum(1 for s in data_set.series.values() if not s)
    ordered = [d for d in known if d != TIME] + ([TIME] if TIME in known else [])
    return Message("xml", observations, ordered, series_without_observations=series_without)


class _NoStructureWarning(logging.Filter):
    """Drop sdmx1's warning that structure-specific data came without a DSD: we expect it (the
    catalog's ``structure`` is optional) and undo its one consequence (see the module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("xml.Reader got no structure")


@contextmanager
def _quiet_inference() -> Iterator[None]:
    logger, quiet = logging.getLogger("sdmx.reader.xml.v21"), _NoStructureWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _code(value: Any) -> str:
    return str(getattr(value, "id", value))


def _attributes(attrib: Mapping[str, Any]) -> dict[str, str]:
    return {name: _code(av.value) for name, av in attrib.items() if av.value is not None}


# --- SDMX-JSON --------------------------------------------------------------------------------


def read_json(body: bytes, where: str) -> Message:
    """Read an SDMX-JSON 1.0 (or 2.0) data message, each value's text as written."""
    try:
        tree = json.loads(body.decode("utf-8-sig"), parse_float=ExactNumber)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"{where}: not valid JSON: {exc}") from exc
    try:
        return _JSONReader(tree).read()
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ParseError(
            f"{where}: not an SDMX-JSON data message ({type(exc).__name__}: {exc})"
        ) from exc


def _name(item: Mapping[str, Any]) -> str:
    names = item.get("names")
    if isinstance(names, Mapping):
        for language in LANGUAGES:
            if names.get(language):
                return str(names[language]).strip()
    name = item.get("name")
    if isinstance(name, str):
        return name.strip()
    if isinstance(names, Mapping) and names:
        return str(next(iter(names.values()))).strip()
    return ""


LEVELS = ("dataSet", "series", "observation")


class _JSONReader:
    def __init__(self, tree: Mapping[str, Any]):
        data = tree.get("data", tree)  # SDMX-JSON 2.0 wraps the message in "data"
        self.data_sets = data["dataSets"]
        structure = data.get("structure") or data["structures"][0]
        self.dims = {level: structure["dimensions"].get(level) or [] for level in LEVELS}
        attrs = structure.get("attributes") or {}
        self.attrs = {level: attrs.get(level) or [] for level in LEVELS}

    def read(self) -> Message:
        names: dict[str, str] = {}
        labels: dict[str, dict[str, str]] = {}
        for component in [*self._all(self.dims), *self._all(self.attrs)]:
            if _name(component):
                names[component["id"]] = _name(component)
            coded = {v["id"]: _name(v) or v["id"] for v in component.get("values", []) if "id" in v}
            if coded:
                labels[component["id"]] = coded
        dims = sorted(
            self._all(self.dims),
            key=lambda d: d.get("keyPosition", 10**6) if d["id"] != TIME else 10**7,
        )
        observations = []
        for data_set in self.data_sets:
            base = self._key("dataSet", None)
            base_attrs = self._attributes("dataSet", data_set.get("attributes"))
            for series_key, series in (data_set.get("series") or {}).items():
                key = {**base, **self._key("series", series_key)}
                attributes = {**base_attrs, **self._attributes("series", series.get("attributes"))}
                observations += self._observations(series, key, attributes)
            observations += self._observations(data_set, base, base_attrs)
        return Message("json", observations, [d["id"] for d in dims], names, labels)

    @staticmethod
    def _all(levels: Mapping[str, list[Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
        return [c for level in LEVELS for c in levels[level]]

    def _key(self, level: str, text: str | None) -> dict[str, str]:
        dims = self.dims[level]
        indices = [0] * len(dims) if text is None else [int(i) for i in text.split(":") if i]
        if len(indices) != len(dims):
            raise ValueError(f"key {text!r} has {len(indices)} parts for {len(dims)} dimensions")
        return {d["id"]: d["values"][i]["id"] for d, i in zip(dims, indices, strict=True)}

    def _attributes(self, level: str, indices: Sequence[Any] | None) -> dict[str, str]:
        found = {}
        for attribute, index in zip(self.attrs[level], indices or [], strict=False):
            if index is None:
                continue
            value = attribute["values"][int(index)]
            found[attribute["id"]] = str(value["id"] if "id" in value else _name(value))
        return found

    def _observations(
        self, holder: Mapping[str, Any], key: Mapping[str, str], attributes: Mapping[str, str]
    ) -> Iterable[Observation]:
        for obs_key, cells in (holder.get("observations") or {}).items():
            value, *indices = cells or [None]
            text = None if value is None else str(value)
            yield Observation(
                {**key, **self._key("observation", obs_key)},
                {**attributes, **self._attributes("observation", indices)},
                text,
            )


# --- SDMX-CSV ---------------------------------------------------------------------------------

#: the first columns of SDMX-CSV that say which dataflow a row is of (not components)
_STRUCTURE_COLUMNS = frozenset(
    {"DATAFLOW", "STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION"}
)


@dataclass
class _Column:
    index: int
    component: str
    label_index: int | None = None  #: the .Stat flavour's column of labels of this column
    labelled: bool = False  #: ``labels=both``: the header is ``ID: Name``, cells ``code: label``


def read_csv(body: bytes, where: str) -> Message:
    """Read SDMX-CSV 1.0/2.0 (codes, ``labels=both``, or the .Stat flavour with label columns)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{where}: SDMX-CSV must be UTF-8: {exc}") from exc
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or not any(rows[0]):
        raise ParseError(f"{where}: the SDMX-CSV file is empty")
    header = [cell.strip() for cell in rows[0]]
    columns, names = _csv_columns(header, where)
    by_component = {c.component: c for c in columns}
    if TIME not in by_component or VALUE not in by_component:
        raise ParseError(
            f"{where}: an SDMX-CSV file needs the columns TIME_PERIOD and OBS_VALUE "
            f"(the header is {', '.join(header)})"
        )
    # Without a structure, the dimensions are the columns left of TIME_PERIOD that are no known
    # attribute: SDMX-CSV writes the dimensions first, in the structure's order.
    time_at = by_component[TIME].index
    dimensions = [
        c.component
        for c in columns
        if c.index < time_at and c.component not in KNOWN_ATTRIBUTES and c.component != VALUE
    ]
    labels: dict[str, dict[str, str]] = {}
    observations = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ParseError(
                f"{where}: line {number} has {len(row)} fields, the header {len(header)}"
            )
        key: dict[str, str] = {}
        attributes: dict[str, str] = {}
        value = None
        for column in columns:
            code, label = _cell(row, column)
            if column.component == VALUE:
                value = code or None
                continue
            if label:
                labels.setdefault(column.component, {}).setdefault(code, label)
            if column.component in dimensions or column.component == TIME:
                key[column.component] = code
            elif code:
                attributes[column.component] = code
        observations.append(Observation(key, attributes, value))
    return Message("csv", observations, [*dimensions, TIME], names, labels, dimensions_known=False)


def _csv_columns(header: Sequence[str], where: str) -> tuple[list[_Column], dict[str, str]]:
    columns: list[_Column] = []
    names: dict[str, str] = {}
    for index, cell in enumerate(header):
        component, _, name = (part.strip() for part in cell.partition(":"))
        if component in _STRUCTURE_COLUMNS:
            continue
        if _COMPONENT_ID.fullmatch(component):
            columns.append(_Column(index, component, labelled=bool(name)))
            if name:
                names[component] = name
        elif columns and columns[-1].index == index - 1 and columns[-1].label_index is None:
            columns[-1].label_index = index  # the .Stat flavour: labels of the column before
            names.setdefault(columns[-1].component, cell)
        else:
            raise ParseError(
                f"{where}: column {index + 1} {cell!r} of the SDMX-CSV header is neither a "
                "component id (upper case: REF_AREA) nor the labels of the column before it"
            )
    seen: set[str] = set()
    for column in columns:
        if column.component in seen:
            raise ParseError(f"{where}: the SDMX-CSV header has {column.component} twice")
        seen.add(column.component)
    return columns, names


def _cell(row: Sequence[str], column: _Column) -> tuple[str, str]:
    """A cell's code and label: ``IDN: Indonesia`` (labels=both), or the label column's text."""
    text = row[column.index].strip()
    if column.label_index is not None:
        return text, row[column.label_index].strip()
    plain = column.component in TEXT_ATTRIBUTES or column.component == VALUE
    if column.labelled and not plain and ": " in text:
        code, _, label = text.partition(": ")
        if _CODE.fullmatch(code):
            return code, label.strip()
    return text, ""


_CODE = re.compile(r"[A-Za-z0-9_@$\-.]+")
