"""The harvest runner: one lock, then each dataset fetched, parsed and written in one transaction.

A dataset that fails leaves its observations, indicators, dimensions and regions exactly as they
were (its transaction rolls back); the payloads it fetched and its run-log row are still kept,
and the other datasets go on.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from harvesters import get_harvester
from harvesters.exceptions import HarvestError, SourceConfigurationError
from opendata import downloads
from opendata.exceptions import LockHeld
from opendata.model import DatasetSpec, Payload
from opendata.regions import RegionIndex
from opendata.store import runs, writer
from opendata.store import schema as t

log = logging.getLogger(__name__)

#: the key of the harvest lock among PostgreSQL's advisory locks (any constant bigint)
PG_LOCK_KEY = 0x6F70656E64617461  # "opendata"


@dataclass
class Outcome:
    """What happened to one dataset in a harvest."""

    dataset_id: str
    run_id: int
    status: str  # ok | unchanged | no-data | failed
    counts: writer.WriteCounts = field(default_factory=writer.WriteCounts)
    error: str | None = None
    messages: list[str] = field(default_factory=list)
    configuration_error: bool = False


class HarvestLock:
    """One harvest at a time per store, also across hosts.

    PostgreSQL: a session-level advisory lock on a connection of its own (released by the server
    if the process dies). SQLite: an exclusive ``flock`` on ``<database>.harvest-lock`` beside the
    database file (released by the kernel if the process dies).
    """

    def __init__(self, engine: Engine, timeout: float = 0, poll: float = 1.0):
        self.engine = engine
        self.timeout = timeout
        self.poll = poll
        self._connection = None
        self._file = None

    def _try(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            if self._connection is None:
                self._connection = self.engine.connect()
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}
            ).scalar()
            self._connection.commit()
            return bool(got)
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True
        if self._file is None:
            self._file = open(
                Path(database).resolve().with_name(Path(database).name + ".harvest-lock"), "a"
            )  # noqa: SIM115
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._try():
            if time.monotonic() >= deadline:
                self.release()
                raise LockHeld(
                    "another harvest holds the store's harvest lock; try again when it has "
                    "finished (or raise OPENDATA_LOCK_TIMEOUT to wait for it)"
                )
            time.sleep(self.poll)

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the file releases the flock
            self._file = None

    def __enter__(self) -> HarvestLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class Runner:
    """Harvest catalog datasets into the store behind ``engine``."""

    def __init__(
        self,
        engine: Engine,
        settings: Mapping[str, Any],
        *,
        offline: bool = False,
        session: Any = None,
        clock: Any = None,
        reference: RegionIndex | None = None,
        force: bool = False,
        dry_run: bool = False,
    ):
        self.engine = engine
        self.force = force  #: parse and write even when nothing changed since the last run
        #: fetch, parse and write as usual, then roll the write back: the counts say what a
        #: harvest would change, and the store (runs and payloads included) stays as it was
        self.dry_run = dry_run
        self.settings = settings
        self.offline = offline
        self.session = session
        self.clock = clock
        self.reference = reference or RegionIndex.reference()
        self.batch = uuid.uuid4().hex

    def run(
        self,
        specs: Iterable[DatasetSpec],
        on_done: Callable[[Outcome], None] | None = None,
        reparse: bool = False,
    ) -> list[Outcome]:
        """Harvest ``specs`` in order under the harvest lock; raise LockHeld if it is taken."""
        with HarvestLock(self.engine, timeout=self.settings.get("LOCK_TIMEOUT", 0)):
            interrupted = []
            if not self.dry_run:
                with self.engine.begin() as conn:
                    interrupted = runs.mark_interrupted(conn)
                    writer.sync_regions(conn, self.reference)
            if interrupted:
                log.warning(
                    "found %d harvest run(s) left running by a process that died: marked "
                    "interrupted (#%s; see `opendata runs`)",
                    len(interrupted),
                    ", #".join(map(str, interrupted)),
                )
            outcomes = []
            step = self.reparse if reparse else self.harvest
            if reparse:  # its runs read no source: they are no check of it (store.checks)
                self.batch = runs.REPARSE_BATCH + self.batch[len(runs.REPARSE_BATCH) :]
            for spec in specs:
                outcome = step(spec)
                outcomes.append(outcome)
                if on_done:
                    on_done(outcome)
            return outcomes

    def _keep(self, run_id: int) -> Callable[[Payload], None]:
        if self.dry_run:
            return lambda payload: None

        def keep(payload: Payload) -> None:
            with self.engine.begin() as conn:
                runs.save_payload(conn, run_id, payload)

        return keep

    def reparse(self, spec: DatasetSpec) -> Outcome:
        """Parse again the payloads of ``spec``'s last good run and write what they say.

        Offline, through the same parse and writer as a harvest: after a parser fix, the figures
        it changes become revisions by a run whose log names the run whose payloads it read.
        """
        with self.engine.connect() as conn:
            source_run = runs.last_run_with_payloads(conn, spec.id)
            payloads = [] if source_run is None else runs.load_payloads(conn, source_run)
        if source_run is None:
            with self.engine.begin() as conn:
                run_id = runs.start_run(conn, self.batch, spec.id, offline=True)
                error = "no stored payloads to parse: harvest the dataset first"
                runs.finish_run(conn, run_id, "failed", error=error)
            return Outcome(spec.id, run_id, "failed", error=error)
        note = f"reparsed the {len(payloads)} stored payload(s) of run #{source_run}, offline"
        return self.harvest(spec, stored=(payloads, note))

    def harvest(
        self, spec: DatasetSpec, stored: tuple[list[Payload], str] | None = None
    ) -> Outcome:
        """Fetch, parse and write one dataset; a failure is recorded, never raised.

        ``stored``: payloads to parse instead of fetching (``reparse``), and the run-log line
        saying where they come from; they are parsed and written even if unchanged. In a dry
        run the same steps run, but the write is rolled back and no run is recorded.
        """
        run_id = 0
        if not self.dry_run:
            with self.engine.begin() as conn:
                run_id = runs.start_run(conn, self.batch, spec.id, self.offline or bool(stored))
        outcome = Outcome(spec.id, run_id, "failed")
        try:
            harvester_cls = get_harvester(spec.source)
            harvester = harvester_cls(
                self.settings, session=self.session, clock=self.clock, offline=self.offline
            )
            if stored is None:
                payloads = harvester.fetch(spec, self._keep(run_id))
            else:
                payloads, note = stored
                keep = self._keep(run_id)
                for payload in payloads:  # the run fetched nothing: it traces to these
                    keep(payload)
            with self.engine.connect() as conn:
                fingerprint = self._fingerprint(conn, harvester_cls, spec, payloads)
                force = self.force or stored is not None
                unchanged = None if force else runs.unchanged_since(conn, spec.id, fingerprint)
            if unchanged is not None:
                return self._unchanged(outcome, unchanged, fingerprint)
            with self.engine.connect() as conn:
                regions = writer.load_region_index(conn, self.reference)
            result = harvester.parse(spec, payloads, regions)
            _check_target(spec, result)
            outcome.messages = ([] if stored is None else [stored[1]]) + list(result.messages)
            self._write(outcome, spec, harvester_cls, result, fingerprint)
        except Exception as exc:  # noqa: BLE001 - one dataset's failure must not stop the others
            outcome.status = "failed"
            outcome.counts = writer.WriteCounts()
            outcome.error = f"{type(exc).__name__}: {exc}"
            outcome.configuration_error = isinstance(exc, SourceConfigurationError)
            if not isinstance(exc, HarvestError | writer.WriteError):
                log.exception("unexpected error while harvesting %s", spec.id)
            if not self.dry_run:
                with self.engine.begin() as conn:
                    runs.finish_run(
                        conn, run_id, "failed", error=outcome.error, messages=outcome.messages
                    )
        except BaseException as exc:  # SIGTERM (as SystemExit), Ctrl-C: record it, then stop
            if not self.dry_run:
                with self.engine.begin() as conn:
                    runs.finish_run(
                        conn,
                        run_id,
                        "interrupted",
                        error=f"interrupted: {type(exc).__name__}; nothing of it was written",
                        messages=outcome.messages,
                    )
            raise
        return outcome

    def _write(self, outcome: Outcome, spec, harvester_cls, result, fingerprint: str) -> None:
        """Write ``result`` and finish the run in one transaction (a dry run rolls it back)."""
        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                if result.no_data:
                    outcome.status = "no-data"
                else:
                    known = set(conn.execute(select(t.region.c.code)).scalars())
                    outcome.counts = writer.write_dataset(
                        conn,
                        spec,
                        harvester_cls.title,
                        result,
                        outcome.run_id,
                        known,
                        source_url=getattr(harvester_cls, "url", None),
                    )
                    outcome.status = "ok"
                    outcome.messages.extend(outcome.counts.messages)
                if self.dry_run:
                    transaction.rollback()
                    return
                if outcome.status == "ok":  # the checksum commits with the data it describes
                    downloads.refresh(conn, spec.id)
                runs.finish_run(
                    conn,
                    outcome.run_id,
                    outcome.status,
                    outcome.counts,
                    messages=outcome.messages,
                    fingerprint=fingerprint,
                )
                transaction.commit()
            finally:
                if transaction.is_active:
                    transaction.rollback()

    def _fingerprint(self, conn, harvester_cls, spec: DatasetSpec, payloads) -> str:
        """A digest of everything a harvest's writes depend on: same digest, same writes.

        The harvester (id, version, title, URL), the catalog entry, the regions parse resolves
        rows against (the reference and those harvests added) and the payloads' bytes.
        """
        entry = {k: v for k, v in dataclasses.asdict(spec).items() if k != "path"}
        added = conn.execute(
            select(t.region.c.code, t.region.c.name, t.region.c.level, t.region.c.parent_code)
            .where(t.region.c.origin == "harvest")
            .order_by(t.region.c.code)
        ).all()
        parts = [
            harvester_cls.id,
            getattr(harvester_cls, "version", "1"),
            harvester_cls.title,
            getattr(harvester_cls, "url", None) or "",
            json.dumps(entry, sort_keys=True, default=str),
            writer.get_meta(conn, "regions_checksum") or "",
            json.dumps([list(row) for row in added]),
            *(hashlib.sha256(p.body).hexdigest() for p in payloads),
        ]
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def _unchanged(self, outcome: Outcome, count: int, fingerprint: str) -> Outcome:
        """Finish a run whose payloads are byte for byte those of the last good run."""
        outcome.status = "unchanged"
        outcome.counts = writer.WriteCounts(unchanged=count)
        if self.dry_run:
            return outcome
        with self.engine.begin() as conn:
            runs.mark_harvested(conn, outcome.dataset_id, outcome.run_id)
            downloads.refresh(conn, outcome.dataset_id)  # if missing or outdated
            runs.finish_run(
                conn, outcome.run_id, "unchanged", outcome.counts, fingerprint=fingerprint
            )
        return outcome


def _check_target(spec: DatasetSpec, result) -> None:
    """A target set's ``better: {by: <dimension>}`` must name a dimension its table has."""
    by = spec.target.better_by if spec.target else None
    if by is not None and by not in {d.id for d in result.dimensions}:
        found = ", ".join(d.id for d in result.dimensions) or "none"
        raise SourceConfigurationError(
            f"target.better.by names the dimension '{by}', which this table does not have "
            f"(its dimensions: {found}); fix the catalog entry"
        )
