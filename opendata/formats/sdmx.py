"""SDMX 2.1 of a dataset: the structure message, structure-specific data, and SDMX-CSV 1.0.

The structures (agency ``KALSEL_OPENDATA``, version ``1.0``), for the dataset ``demo``:

- a dataflow ``demo`` and a data structure definition (DSD) ``demo``; a concept scheme
  ``CS_DEMO`` naming every component;
- dimensions, in this order: ``REGION`` (codelist ``CL_DEMO_REGION``: the regions with figures
  in the dataset, BPS codes, their names), ``INDICATOR`` (``CL_DEMO_INDICATOR``: the dataset's
  indicators), one per breakdown of the dataset, its id upper-cased (``jenis_kelamin`` is
  ``JENIS_KELAMIN``, codelist ``CL_DEMO_JENIS_KELAMIN``; ``_DIM`` appended if it would take one
  of the ids here), and ``TIME_PERIOD``;
- the measure ``OBS_VALUE``: the stored decimal text (``7.10`` stays ``7.10``), absent where the
  store has no value;
- attributes of the observation: ``OBS_STATUS`` (the flag: ``M``, ``L``, ``C`` or the source's
  own mark), ``UNIT_MEASURE`` (the unit, as the source names it), ``OBS_COMMENT`` (the source's
  note), and, for a target set, ``OBS_VALUE_TO`` (a range's other end).

Periods are SDMX time periods as stored: ``2024``, ``2024-03`` (ISO year-month), ``2024-Q1``,
``2024-S1``. A code that is no SDMX id (``[A-Za-z0-9_@$-]+``) is written with each other
character as ``$`` and its code point in hex, four digits (``$0020`` for a space; ``$``
itself is ``$0024``): :func:`sdmx_id`.

The messages are built with sdmx1's model and written with its writer (``sdmx.to_xml``). The
data is streamed: sdmx1 writes each series (its model objects are made one series at a time),
between the head and tail of the message's envelope, which sdmx1 wrote too, so memory
stays flat however long the answer. ``import sdmx`` costs about half a second and 80 MiB
(pandas): this module imports it inside its functions only, never when the web app starts.

SDMX-CSV 1.0 is written here row by row, not with ``sdmx.to_csv``, which needs the whole table
as a pandas frame: ``DATAFLOW`` (``KALSEL_OPENDATA:demo(1.0)``), the dimensions, ``OBS_VALUE``,
the attributes; free-text cells (unit, flag, note) get the formula guard of every CSV of the
API (:func:`opendata.formats.csv.neutralize`), codes and values never do.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from opendata.formats.csv import neutralize

AGENCY = "KALSEL_OPENDATA"  # not OPENDATA_...: that prefix names the settings (env vars)
AGENCY_NAME = {"en": "Open statistics of Kalimantan Selatan", "id": "Statistik terbuka Kalsel"}
VERSION = "1.0"
STRUCTURE_TYPE = "application/vnd.sdmx.structure+xml;version=2.1"
DATA_TYPE = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
CSV_TYPE = "application/vnd.sdmx.data+csv;version=1.0.0"

REGION, INDICATOR, TIME_PERIOD = "REGION", "INDICATOR", "TIME_PERIOD"
OBS_VALUE, OBS_STATUS, UNIT_MEASURE, OBS_COMMENT, OBS_VALUE_TO = (
    "OBS_VALUE",
    "OBS_STATUS",
    "UNIT_MEASURE",
    "OBS_COMMENT",
    "OBS_VALUE_TO",
)
#: the concepts of the components that are not breakdowns: (id, {lang: name})
CONCEPTS = {
    REGION: {"id": "Wilayah", "en": "Region"},
    INDICATOR: {"id": "Indikator", "en": "Indicator"},
    TIME_PERIOD: {"id": "Periode", "en": "Time period"},
    OBS_VALUE: {"id": "Nilai", "en": "Observation value"},
    OBS_STATUS: {"id": "Status observasi (flag)", "en": "Observation status (flag)"},
    UNIT_MEASURE: {"id": "Satuan", "en": "Unit of measure"},
    OBS_COMMENT: {"id": "Catatan", "en": "Observation comment (the source's note)"},
    OBS_VALUE_TO: {"id": "Nilai akhir rentang", "en": "Other end of a range"},
}
#: the most observations served as SDMX-ML: sdmx1 makes model objects and elements for each,
#: 8.4 times the CSV's CPU time (bench/sdmx_formats.py: 89,586 rows in 7.6 s of CPU, about
#: 12,000 rows/s, against the CSV's 0.9 s), so 100,000 rows cost about 8 s of a worker's CPU; a
#: larger query is a 413 that points to SDMX-CSV (memory stays flat either way)
MAX_DATA_ROWS = 100_000
#: bytes of XML gathered before a chunk is yielded
CHUNK_BYTES = 64 * 1024
CSV_CHUNK_ROWS = 1000
#: the comment that marks where the series go in the data message's envelope
_SERIES = "series"

_ID = re.compile(r"[A-Za-z0-9_@\-]+")
_NOT_ID = re.compile(r"[^A-Za-z0-9_@\-]")
#: characters XML 1.0 cannot hold (a note with a stray control character)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def sdmx_id(code: str) -> str:
    """``code`` as an SDMX id: itself if it is one, else each other character as ``$XXXX``."""
    if _ID.fullmatch(code):
        return code
    return _NOT_ID.sub(lambda m: f"${ord(m.group()):04X}", code) or "$"


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True)
class Layout:
    """The ids of a dataset's SDMX structures and components (no sdmx1 needed to know them)."""

    dataset_id: str
    slugs: tuple[str, ...]  #: the dataset's breakdowns, in order
    ranges: bool = False  #: a target set: ``OBS_VALUE_TO`` is an attribute
    breakdowns: dict[str, str] = field(init=False)  #: slug -> dimension id

    def __post_init__(self) -> None:
        taken = {REGION, INDICATOR, TIME_PERIOD, *CONCEPTS}
        ids: dict[str, str] = {}
        for slug in self.slugs:
            name = slug.upper()
            while name in taken:
                name += "_DIM"
            taken.add(name)
            ids[slug] = name
        object.__setattr__(self, "breakdowns", ids)

    @property
    def scope(self) -> str:
        """The dataset id in the ids of its codelists and concept scheme (``CL_DEMO_REGION``)."""
        return sdmx_id(self.dataset_id).upper().replace("-", "_")

    @property
    def dimensions(self) -> list[str]:
        """The dimension ids in order, ``TIME_PERIOD`` last."""
        return [REGION, INDICATOR, *self.breakdowns.values(), TIME_PERIOD]

    @property
    def attributes(self) -> list[str]:
        """The attribute ids in order."""
        return [OBS_STATUS, UNIT_MEASURE, OBS_COMMENT, *([OBS_VALUE_TO] if self.ranges else [])]

    @property
    def dataflow_ref(self) -> str:
        """``KALSEL_OPENDATA:demo(1.0)``: the dataflow as SDMX-CSV 1.0 names it."""
        return f"{AGENCY}:{sdmx_id(self.dataset_id)}({VERSION})"


@dataclass(frozen=True)
class Described:
    """What the structure message says of the dataset and its codes."""

    title: Mapping[str, str]  #: {lang: text}
    description: Mapping[str, str]
    regions: Sequence[tuple[str, str]]  #: (BPS code, name), in code order
    indicators: Sequence[tuple[str, str, str | None]]  #: (code, name, unit)
    #: per breakdown slug: its label and its values (code, label)
    breakdowns: Mapping[str, tuple[str, Sequence[tuple[str, str]]]]


def _names(texts: Mapping[str, str], fallback: str) -> dict[str, str]:
    names = {lang: _xml_text(text) for lang, text in texts.items() if text}
    return names or {"en": fallback}


def _structures(layout: Layout, described: Described | None) -> dict[str, Any]:
    """The sdmx1 objects of the dataset: agency, codelists, concepts, DSD, dataflow.

    Without ``described``, the codelists are empty (the data message only names the DSD).
    """
    from sdmx.model import common
    from sdmx.model import v21 as m

    agency = m.Agency(id=AGENCY, name=AGENCY_NAME)
    common_kw = {"maintainer": agency, "version": VERSION, "is_final": False}
    common_kw["is_external_reference"] = False
    scope = layout.scope
    concepts = m.ConceptScheme(id=f"CS_{scope}", name={"en": f"Concepts of {scope}"}, **common_kw)
    for concept_id, names in CONCEPTS.items():
        if concept_id != OBS_VALUE_TO or layout.ranges:
            concepts.append(m.Concept(id=concept_id, name=dict(names)))
    breakdowns = described.breakdowns if described else {}
    for slug, dimension_id in layout.breakdowns.items():
        label = breakdowns.get(slug, (slug, ()))[0]
        concepts.append(m.Concept(id=dimension_id, name={"id": _xml_text(label or slug)}))

    def codelist(name: str, codes: Iterable[tuple[str, str]], label: str):
        found = m.Codelist(id=f"CL_{scope}_{name}", name={"en": label}, **common_kw)
        for code, code_name in codes:
            if sdmx_id(code) not in found.items:
                found.append(m.Code(id=sdmx_id(code), name={"id": _xml_text(code_name or code)}))
        return found

    codelists = {
        REGION: codelist(REGION, described.regions if described else (), "Regions"),
        INDICATOR: codelist(
            INDICATOR,
            [(code, name) for code, name, _unit in described.indicators] if described else (),
            "Indicators",
        ),
    }
    for slug, dimension_id in layout.breakdowns.items():
        label, values = breakdowns.get(slug, (slug, ()))
        codelists[dimension_id] = codelist(dimension_id, values, label or slug)

    dsd = m.DataStructureDefinition(
        id=sdmx_id(layout.dataset_id),
        name=_names(described.title if described else {}, layout.dataset_id),
        **common_kw,
    )
    dsd.dimensions.id = "DimensionDescriptor"
    dsd.attributes.id = "AttributeDescriptor"
    dsd.measures.id = "MeasureDescriptor"
    for order, dimension_id in enumerate(layout.dimensions):
        if dimension_id == TIME_PERIOD:
            dsd.dimensions.append(
                m.TimeDimension(id=TIME_PERIOD, order=order, concept_identity=concepts[TIME_PERIOD])
            )
            continue
        representation = common.Representation(enumerated=codelists[dimension_id])
        dsd.dimensions.append(
            m.Dimension(
                id=dimension_id,
                order=order,
                concept_identity=concepts[dimension_id],
                local_representation=representation,
            )
        )
    dsd.measures.append(m.PrimaryMeasure(id=OBS_VALUE, concept_identity=concepts[OBS_VALUE]))
    for attribute_id in layout.attributes:
        dsd.attributes.append(
            m.DataAttribute(
                id=attribute_id,
                concept_identity=concepts[attribute_id],
                related_to=m.PrimaryMeasureRelationship(),
                usage_status=m.UsageStatus.conditional,
            )
        )
    description = described.description if described else {}
    dataflow = m.DataflowDefinition(
        id=sdmx_id(layout.dataset_id),
        name=_names(described.title if described else {}, layout.dataset_id),
        description=_names(description, layout.dataset_id) if description else None,
        structure=dsd,
        **common_kw,
    )
    return {
        "agency": agency,
        "codelists": codelists,
        "concepts": concepts,
        "dsd": dsd,
        "dataflow": dataflow,
    }


def _header(header_id: str, prepared: datetime, agency):
    from sdmx import message

    return message.Header(id=header_id, prepared=prepared, sender=agency, test=False)


def write_structure(layout: Layout, described: Described, prepared: datetime) -> bytes:
    """The SDMX-ML 2.1 structure message of the dataset: dataflow, codelists, concepts, DSD."""
    import sdmx
    from sdmx import message

    found = _structures(layout, described)
    header_id = f"STRUCTURE_{layout.scope}"
    msg = message.StructureMessage(header=_header(header_id, prepared, found["agency"]))
    for codelist in found["codelists"].values():
        msg.add(codelist)
    msg.add(found["concepts"])
    msg.add(found["dsd"])
    msg.add(found["dataflow"])
    return sdmx.to_xml(msg, pretty_print=True)


def _attribute_values(row: Sequence, attributes: Mapping[str, Any], ranges: bool) -> dict:
    from sdmx.model import v21 as m

    values = {}
    for attribute_id, text in (
        (OBS_STATUS, row[8]),
        (UNIT_MEASURE, row[7]),
        (OBS_COMMENT, row[9]),
        (OBS_VALUE_TO, row[10] if ranges else None),
    ):
        if text:
            values[attribute_id] = m.AttributeValue(
                value=_xml_text(text), value_for=attributes[attribute_id]
            )
    return values


def write_data(
    layout: Layout,
    rows: Iterable[Sequence],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    series_indicators: Mapping[int, str],
    prepared: datetime,
) -> Iterator[bytes]:
    """Yield SDMX-ML 2.1 structure-specific data of ``rows`` (the store's observation rows, in
    series order), one series per store series, ``TIME_PERIOD`` at the observation level."""
    from lxml import etree
    from sdmx import message
    from sdmx.model import v21 as m
    from sdmx.writer.xml import writer

    found = _structures(layout, None)
    dsd = found["dsd"]
    envelope = writer.recurse(
        message.DataMessage(
            header=_header(f"DATA_{layout.scope}", prepared, found["agency"]),
            data=[m.StructureSpecificDataSet(structured_by=dsd)],
            observation_dimension=dsd.dimensions.get(TIME_PERIOD),
        )
    )
    # The envelope as sdmx1 writes it, split where the series go (a comment in the data set)
    envelope[1].append(etree.Comment(_SERIES))
    text = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)  # as sdmx.to_xml
    head, _, tail = text.partition(f"<!--{_SERIES}-->".encode())
    measure = dsd.measures.get(OBS_VALUE)
    attributes = {a.id: a for a in dsd.attributes}
    empty: Mapping[str, tuple[str, str]] = {}
    parts, size = [head], len(head)
    for series_id, series_rows in groupby(rows, key=lambda row: row[3]):
        values = series_dimensions.get(series_id, empty)
        key = {REGION: None, INDICATOR: sdmx_id(series_indicators.get(series_id, ""))}
        key |= {
            dimension_id: sdmx_id(values.get(slug, ("", ""))[0])
            for slug, dimension_id in layout.breakdowns.items()
        }
        observations = []
        for row in series_rows:
            key[REGION] = row[0]
            observations.append(
                m.Observation(
                    dimension=m.Key(TIME_PERIOD=row[2]),
                    value=row[6],
                    value_for=measure,
                    attached_attribute=_attribute_values(row, attributes, layout.ranges),
                )
            )
        one = m.StructureSpecificDataSet(structured_by=dsd)
        one.add_obs(observations, dsd.make_key(m.SeriesKey, key))
        written = writer.recurse(one)
        for element in list(written):
            # sdmx1 declares every SDMX namespace on each element it makes: a series,
            # detached, needs none of them (it and its attributes are unqualified)
            written.remove(element)
            etree.cleanup_namespaces(element)
            text = etree.tostring(element, encoding="utf-8")
            parts.append(text)
            size += len(text)
        if size >= CHUNK_BYTES:
            yield b"".join(parts)
            parts, size = [], 0
    parts.append(tail)
    yield b"".join(parts)


def write_sdmx_csv(
    layout: Layout,
    rows: Iterable[Sequence],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    series_indicators: Mapping[int, str],
) -> Iterator[str]:
    """Yield SDMX-CSV 1.0 of ``rows`` in chunks: the columns of :attr:`Layout` in order."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(["DATAFLOW", *layout.dimensions, OBS_VALUE, *layout.attributes])
    flow = layout.dataflow_ref
    empty: Mapping[str, tuple[str, str]] = {}
    keys: dict[int, tuple[str, ...]] = {}
    for count, row in enumerate(rows, 1):
        region, period, series_id, value, unit, flag, note, value_to = (
            row[0],
            row[2],
            row[3],
            row[6],
            row[7],
            row[8],
            row[9],
            row[10],
        )
        key = keys.get(series_id)
        if key is None:
            values = series_dimensions.get(series_id, empty)
            key = keys[series_id] = (
                sdmx_id(series_indicators.get(series_id, "")),
                *(sdmx_id(values.get(slug, ("", ""))[0]) for slug in layout.breakdowns),
            )
        cells = [neutralize(flag), neutralize(unit), neutralize(note)]
        if layout.ranges:
            cells.append(value_to or "")
        out.writerow([flow, region, *key, period, value or "", *cells])
        if count % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
