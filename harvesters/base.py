"""The small shared types of every harvester: payloads in, records out.

A harvester has two steps, kept apart:

* ``fetch`` talks to the network and hands every body it receives, as it came, to ``keep`` (the
  runner stores it content-hashed before anything is parsed, error bodies included);
* ``parse`` is pure: the payloads of one dataset in, a :class:`ParseResult` out, the same records
  in the same order for the same payloads, so it can be re-run offline from stored payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

if TYPE_CHECKING:
    from opendata.catalog import DatasetSpec
    from opendata.regions import RegionIndex


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
    where the cell holds no number (``flag`` then says why, see :data:`FLAGS`); ``dimensions``
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


class Harvester:
    """A source adapter. Subclasses set ``id`` and implement :meth:`fetch` and :meth:`parse`."""

    id: ClassVar[str]
    title: ClassVar[str]
    url: ClassVar[str | None] = None  #: the source's home page, shown to users
    #: bump when parse turns the same payloads into different records: a re-harvest whose
    #: payloads are unchanged is skipped only while this stays the same
    version: ClassVar[str] = "1"

    def __init__(
        self,
        settings: Mapping[str, Any],
        session: Any = None,
        clock: Any = None,
        offline: bool = False,
    ):
        self.settings = settings
        self.session = session  #: a requests.Session (tests inject one with a mocked transport)
        self.clock = clock  #: has monotonic() and sleep(seconds); tests inject a fake one
        #: read the dataset's recorded responses (``spec.snapshot_dir``) instead of the network
        self.offline = offline

    @classmethod
    def validate_spec(cls, spec: DatasetSpec) -> None:
        """Check the source-specific part of a catalog entry; raise CatalogError saying why."""

    def fetch(self, spec: DatasetSpec, keep: Keep) -> list[Payload]:
        """Fetch the dataset; give every received body to ``keep``; return those to parse."""
        raise NotImplementedError

    def parse(
        self, spec: DatasetSpec, payloads: Sequence[Payload], regions: RegionIndex
    ) -> ParseResult:
        """Turn payloads into records; pure, stable and offline."""
        raise NotImplementedError
