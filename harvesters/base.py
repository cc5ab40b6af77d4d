"""The harvester interface: payloads in, records out (the types are in :mod:`opendata.model`).

A harvester has two steps, kept apart:

* ``fetch`` talks to the network and hands every body it receives, as it came, to ``keep`` (the
  runner stores it content-hashed before anything is parsed, error bodies included);
* ``parse`` is pure: the payloads of one dataset in, a :class:`ParseResult` out, the same records
  in the same order for the same payloads, so it can be re-run offline from stored payloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from opendata.model import DatasetSpec, Keep, ParseResult, Payload

if TYPE_CHECKING:
    from opendata.regions import RegionIndex


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
