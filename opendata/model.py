"""The types that flow between harvesters, the catalog and the store: neither side owns them.

A catalog entry (:class:`DatasetSpec`) tells a harvester what to fetch; the harvester hands every
body it fetched (:class:`Payload`) to the runner and parses them into a :class:`ParseResult`
(indicators, dimensions, regions, :class:`Record` s) that the store's writer writes. Keeping these
here means the store never imports ``harvesters`` and harvesters never import the catalog's
loader or the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

LOWER, HIGHER = "lower", "higher"


@dataclass(frozen=True)
class TargetSpec:
    """A catalog entry's ``target:`` section: its figures are targets of another dataset's.

    Which actual figure a target cell is compared with: the ``dataset``'s series of the same
    region, of ``indicator`` (or the actual dataset's only indicator, or the one with the target's
    indicator code), with each dimension's value picked by ``dimensions`` ({slug: code}) or, for a
    dimension both datasets have, the target's own value code.
    """

    dataset: str  #: the id of the dataset whose figures these are targets of
    better: str | None = None  #: lower | higher; None when decided per value of ``better_by``
    better_by: str | None = None  #: a dimension slug of the target dataset
    better_values: Mapping[str, str] = field(default_factory=dict)  #: its value code -> better
    indicator: str | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)
    document: str | None = None  #: the plan that set the targets (RPJMD, RKPD, ...)
    #: what a target figure is multiplied by to be in the actual's unit ("juta rupiah": 1000000)
    scale: Decimal | None = None

    def better_for(self, dimensions: Mapping[str, str]) -> str | None:
        """lower | higher for a target series with these {slug: code}; None if not declared."""
        if self.better_by is None:
            return self.better
        return self.better_values.get(dimensions.get(self.better_by, ""))

    def to_json(self) -> dict[str, Any]:
        """The section as the store keeps it (``dataset.target``) and the API shows it."""
        return {
            "of": {
                "dataset": self.dataset,
                "indicator": self.indicator,
                "dimensions": dict(self.dimensions),
            },
            "better": self.better,
            "better_by": self.better_by,
            "better_values": dict(self.better_values),
            "document": self.document,
            "scale": None if self.scale is None else str(self.scale),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TargetSpec:
        """The inverse of :meth:`to_json`."""
        of = data["of"]
        scale = data.get("scale")
        return cls(
            dataset=of["dataset"],
            better=data.get("better"),
            better_by=data.get("better_by"),
            better_values=dict(data.get("better_values") or {}),
            indicator=of.get("indicator"),
            dimensions=dict(of.get("dimensions") or {}),
            document=data.get("document"),
            scale=None if scale is None else Decimal(scale),
        )


@dataclass(frozen=True)
class DatasetSpec:
    """One validated catalog entry."""

    id: str
    title: Mapping[str, str]  #: {"id": Indonesian title, "en": English title (optional)}
    source: str
    query: Mapping[str, Any]  #: the section named after the source, e.g. ``bps:``
    path: Path
    description: Mapping[str, str] = field(default_factory=dict)
    license: str | None = None
    attribution: str | None = None
    frequency: str | None = None
    tags: tuple[str, ...] = ()
    #: dimension slug overrides, e.g. {"vervar": "jenis_korban", "turvar": "harga"}
    dimensions: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: set when the dataset's figures are targets (plan figures) of another dataset's
    target: TargetSpec | None = None
    #: how often a harvest checks the source (catalog ``schedule: {every: 1d}``); None: by
    #: ``frequency`` (opendata.freshness.DEFAULT_EVERY)
    check_every: timedelta | None = None

    @property
    def snapshot_dir(self) -> Path:
        """Where the recorded (offline) responses of this dataset live."""
        return self.path.parent / "snapshots" / self.id


@dataclass(frozen=True)
class Payload:
    """One body fetched from a source, exactly as it came."""

    url: str  #: the request URL with secrets masked
    body: bytes
    status: int
    content_type: str
    fetched_at: datetime
    #: the request's parameters (secrets removed): what parse needs to know of the request
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DimensionValue:
    """One value of a dimension: its code at the source, its label, whether it is a total."""

    code: str
    label: str
    is_total: bool = False


@dataclass
class Dimension:
    """A breakdown of a dataset (sex, business sector): a slug id, a label, ordered values."""

    id: str
    label: str
    values: list[DimensionValue] = field(default_factory=list)


@dataclass(frozen=True)
class Region:
    """A region a harvester met that the reference does not know yet (added to the store)."""

    code: str
    name: str
    level: str  #: country | province | regency | district
    parent: str | None


@dataclass
class Indicator:
    """What one published variable measures, as the source describes it."""

    code: str  #: the source's id of the variable (BPS ``var``)
    name: str
    unit: str | None = None
    decimals: int | None = None  #: how many decimals the office publishes
    definition: str | None = None
    notes: str | None = None
    subject: str | None = None
    source_ref: str | None = None  #: where the figures come from (a URL or a source key)
    source_last_update: datetime | None = None


#: The flag vocabulary of every harvester (like SDMX's OBS_STATUS), for a cell without a number.
#: A harvester maps its source's symbols to these; any other short mark of the source is kept
#: as the flag verbatim (at most :data:`MAX_FLAG_LENGTH` characters: the store's column).
FLAGS = {
    "M": "missing: nil, nothing to report (the figure is zero or does not exist)",
    "L": "not available: the figure exists but the source does not publish it, or the cell "
    "holds text that is not a number (kept in the note)",
    "C": "confidential: withheld by the source",
}
MISSING, NOT_AVAILABLE, CONFIDENTIAL = "M", "L", "C"
MAX_FLAG_LENGTH = 16


class Record(NamedTuple):
    """One observation: (indicator, region, period, dimension values) -> value, flag, note.

    ``value`` is the exact decimal the source sent (``Decimal("7.10")`` stays ``7.10``), or None
    where the cell holds no number (``flag`` then says why, see :data:`FLAGS`); ``value_to`` is
    the other end of a range (a target ``6,0-6,9``: value 6.0, value_to 6.9, both as published,
    in the published order), None for a single figure; ``dimensions``
    pairs each dimension id with a value code, in the dataset's dimension order. (A named tuple:
    a harvest makes hundreds of thousands.)
    """

    indicator: str
    region: str
    period: str
    dimensions: tuple[tuple[str, str], ...]
    value: Decimal | None
    flag: str | None = None
    note: str | None = None
    value_to: Decimal | None = None


@dataclass
class ParseResult:
    """Everything one dataset's payloads say."""

    indicators: list[Indicator] = field(default_factory=list)
    dimensions: list[Dimension] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    #: things an operator should read in the run log (a region added, a window shrunk)
    messages: list[str] = field(default_factory=list)
    #: the source answered, for every request, that it has no data (not an error)
    no_data: bool = False


Keep = Callable[[Payload], None]
