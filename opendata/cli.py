"""``opendata ...``: the commands people and cron run.

Exit codes: 0 all good, 1 a dataset failed, 2 a usage or configuration error, 75 another
harvest holds the lock (EX_TEMPFAIL: cron may simply try again later), 143 stopped by SIGTERM.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from opendata.catalog import load_catalog
from opendata.cli_status import configure_json_logs, due_specs, parse_now, status
from opendata.config import load_settings, unknown_variables
from opendata.exceptions import ConfigurationError, LockHeld, OpendataError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75

log = logging.getLogger("opendata")


class Context:
    """Settings and the store engine, made once per command."""

    def __init__(self):
        self.settings = load_settings()
        self.json_logs = False  #: --log-format json: summaries go to the log too
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            from opendata.store import make_engine

            self._engine = make_engine(self.settings.DATABASE_URL)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def catalog(self):
        return load_catalog(self.settings.CATALOG_DIR)

    def require_current_schema(self) -> None:
        from opendata.store.engine import is_current

        if not is_current(self.engine):
            raise ConfigurationError(
                "the store's schema is not up to date: run `opendata db upgrade` first"
            )


def _terminated(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def _say(obj: Context, line: str) -> None:
    """A command's summary line on standard error: a log record when logs are JSON lines."""
    if getattr(obj, "json_logs", False):
        log.info(line)
    else:
        click.echo(line, err=True)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


LOG_FORMATS = ("text", "json")


@click.group()
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    help="json: one JSON object a log line (for a log shipper).",
)
@click.pass_context
def cli(ctx: click.Context, log_format: str) -> None:
    """Harvest and export the open statistics of Kalimantan Selatan."""
    try:
        ctx.obj = Context()
    except ConfigurationError as exc:
        _fail(str(exc))
    for warning in unknown_variables():
        click.echo(f"Warning: {warning}", err=True)
    ctx.call_on_close(ctx.obj.close)
    logging.basicConfig(
        level=ctx.obj.settings.LOG_LEVEL,  # checked by load_settings: one of logging's names
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if log_format == "json":
        configure_json_logs()
    ctx.obj.json_logs = log_format == "json"
    # Alembic reports every schema check at INFO; only `db upgrade` has news worth reading.
    logging.getLogger("alembic").setLevel(logging.WARNING)


cli.add_command(status)


@cli.group()
def db() -> None:
    """Manage the store."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Create the store or migrate it to the newest schema (safe to repeat).

    It holds the harvest lock meanwhile: a schema or region change never meets a running
    harvest (exit code 75 if one holds the lock past OPENDATA_LOCK_TIMEOUT).
    """
    from opendata.harvest import HarvestLock
    from opendata.regions import RegionIndex
    from opendata.store import upgrade
    from opendata.store.writer import sync_regions

    logging.getLogger("alembic").setLevel(logging.INFO)
    try:
        with HarvestLock(obj.engine, timeout=obj.settings.LOCK_TIMEOUT):
            upgrade(obj.engine)
            with obj.engine.begin() as conn:
                sync_regions(conn, RegionIndex.reference())
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    click.echo(f"store is up to date: {obj.engine.url.render_as_string(hide_password=True)}")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def db_backup(obj: Context, target: Path) -> None:
    """Copy the SQLite store to TARGET, consistent while it serves and harvests.

    SQLite's online backup API (opendata/store/backup.py). A PostgreSQL store is backed up
    with pg_dump -Fc (docs/operations.md).
    """
    from opendata.store.backup import backup_sqlite

    try:
        size = backup_sqlite(obj.settings.DATABASE_URL, target)
    except ConfigurationError as exc:
        _fail(str(exc))
    click.echo(f"backed up the store to {target} ({size} bytes)")


def _select_specs(obj: Context, dataset_ids: Sequence[str], all_: bool, due: bool = False):
    if dataset_ids and all_ or not (dataset_ids or all_ or due):
        raise click.UsageError("name the datasets to harvest, or pass --all or --due")
    catalog = obj.catalog()
    if all_ or not dataset_ids:
        return list(catalog.values())
    unknown = [d for d in dataset_ids if d not in catalog]
    if unknown:
        raise click.UsageError(
            f"not in the catalog: {', '.join(unknown)} (known: {', '.join(sorted(catalog))})"
        )
    return [catalog[d] for d in dataset_ids]


def _harvest_specs(obj: Context, dataset_ids, all_: bool, due: bool, now_text: str | None):
    """The catalog entries a harvest command names (those due, with ``--due``)."""
    try:
        specs = _select_specs(obj, dataset_ids, all_, due)
        obj.require_current_schema()
        if due:
            specs = due_specs(obj.engine, specs, parse_now(now_text), obj.settings)
    except ConfigurationError as exc:
        _fail(str(exc))
    return specs


def _describe(outcome, dry_run: bool = False) -> str:
    if outcome.status == "failed":
        return f"{outcome.dataset_id}: FAILED: {outcome.error}"
    counts = outcome.counts
    if dry_run:
        return (
            f"{outcome.dataset_id}: dry run, {outcome.status}: would add {counts.added}, change "
            f"{counts.changed}, withdraw {counts.withdrawn} ({counts.unchanged} unchanged)"
        )
    return (
        f"{outcome.dataset_id}: {outcome.status} (added {counts.added}, changed "
        f"{counts.changed}, unchanged {counts.unchanged}, withdrawn {counts.withdrawn})"
    )


def _report(outcome, dry_run: bool = False) -> None:
    """Log one dataset's outcome line, then its messages."""
    line = _describe(outcome, dry_run)
    if outcome.status == "failed":
        log.error(line, extra=_fields(outcome))
    else:
        log.info(line, extra=_fields(outcome))
    for message in outcome.messages:
        log.info("%s: %s", outcome.dataset_id, message)


def _fields(outcome) -> dict:
    """The outcome as the extra fields of its log record (JSON logs show them as keys)."""
    counts = outcome.counts
    return {
        "dataset": outcome.dataset_id,
        "run_id": outcome.run_id or None,
        "status": outcome.status,
        "added": counts.added,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "withdrawn": counts.withdrawn,
    }


@cli.command()
@click.argument("dataset_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Harvest every dataset of the catalog.")
@click.option(
    "--offline",
    is_flag=True,
    help="Read each dataset's recorded responses (datasets/snapshots/<id>/), not the network.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Parse and write even when the source sent exactly what it sent last time.",
)
@click.option(
    "--due",
    is_flag=True,
    help="Only the datasets whose check is due (see `opendata status`); with dataset ids, "
    "those of them that are due.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch and parse, report what would be added, changed and withdrawn; write nothing "
    "(no run, no payload).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="Seconds one dataset's fetch may take (default OPENDATA_HARVEST_DATASET_TIMEOUT).",
)
@click.option(
    "--log-format",
    "log_format",
    type=click.Choice(LOG_FORMATS),
    help="As `opendata --log-format`, here for convenience.",
)
@click.option("--now", "now_text", hidden=True, help="Replay another instant (ISO 8601, UTC).")
@click.pass_obj
def harvest(
    obj: Context,
    dataset_ids: tuple[str, ...],
    all_: bool,
    offline: bool,
    force: bool,
    due: bool,
    dry_run: bool,
    timeout: float | None,
    log_format: str | None,
    now_text: str | None,
) -> None:
    """Sync datasets from their sources into the store (safe to repeat, e.g. from cron)."""
    from opendata.harvest import Runner

    if log_format == "json":
        configure_json_logs()
        obj.json_logs = True
    specs = _harvest_specs(obj, dataset_ids, all_, due, now_text)
    settings = obj.settings
    if timeout is not None:  # a copy: the Settings of this command, one key replaced
        settings = type(settings)({**settings, "HARVEST_DATASET_TIMEOUT": timeout})
    if not specs:
        _say(obj, "nothing is due")
        return
    runner = Runner(obj.engine, settings, offline=offline, force=force, dry_run=dry_run)
    # SIGTERM (systemd, `kill`, a CI timeout) unwinds like Ctrl-C: the running dataset's
    # transaction rolls back, its run is recorded as interrupted and the lock is released.
    signal.signal(signal.SIGTERM, _terminated)

    def report(outcome) -> None:
        _report(outcome, dry_run)

    try:
        if sys.stderr.isatty() and len(specs) > 1:
            with click.progressbar(length=len(specs), label="Harvesting", file=sys.stderr) as bar:

                def advance(outcome) -> None:
                    report(outcome)
                    bar.update(1)

                outcomes = runner.run(specs, on_done=advance)
        else:
            outcomes = runner.run(specs, on_done=report)
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    failed = [o for o in outcomes if o.status == "failed"]
    _say(
        obj,
        ("dry run, nothing written: " if dry_run else "")
        + f"harvested {len(outcomes) - len(failed)} of {len(outcomes)} datasets"
        + (f"; failed: {', '.join(o.dataset_id for o in failed)}" if failed else ""),
    )
    configuration = next((o for o in failed if o.configuration_error), None)
    if configuration is not None:
        _fail(configuration.error.partition(": ")[2] or configuration.error)
    if failed:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("dataset_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every dataset of the catalog.")
@click.pass_obj
def reparse(obj: Context, dataset_ids: tuple[str, ...], all_: bool) -> None:
    """Rebuild datasets' figures from their stored payloads, offline (after a parser fix).

    The payloads of each dataset's last good run are parsed again and written through the
    writer like a harvest: what the parser now reads differently becomes revisions by a new run
    whose log names the run whose payloads it read. Nothing is fetched.
    """
    from opendata.harvest import Runner

    specs = _harvest_specs(obj, dataset_ids, all_, False, None)
    runner = Runner(obj.engine, obj.settings, offline=True)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        outcomes = runner.run(specs, on_done=_report, reparse=True)
    except LockHeld as exc:
        _fail(str(exc), EXIT_LOCKED)
    failed = [o for o in outcomes if o.status == "failed"]
    _say(obj, f"reparsed {len(outcomes) - len(failed)} of {len(outcomes)} datasets")
    if failed:
        sys.exit(EXIT_FAILED)


_REGIONS = "region codes, e.g. --region 6371,6372"


def _parse_dims(values: Sequence[str]) -> dict[str, list[str]]:
    from opendata.filters import split_codes

    dims: dict[str, list[str]] = {}
    for item in values:
        slug, sep, codes = item.partition("=")
        if not sep or not slug or not codes:
            raise click.BadParameter(f"{item!r}: use --dim <dimension>=<code>[,<code>]")
        give = f"value codes, e.g. --dim {slug}=1,2"
        dims.setdefault(slug, []).extend(split_codes([codes], f"--dim {slug}", give))
    return dims


@cli.command()
@click.argument("dataset_id")
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Region code(s) in any code system (6371, 63.71); repeat or comma-separate.",
)
@click.option(
    "--from",
    "from_",
    help="Keep periods starting on or after this one (2020, 2020-03, 2020-Q1, 2020-S2).",
)
@click.option("--to", "to", help="Keep periods ending by the end of this one.")
@click.option("--dim", "dims", multiple=True, help="Dimension filter <dimension>=<code>[,<code>].")
@click.pass_obj
def export(obj: Context, dataset_id, regions, from_, to, dims) -> None:
    """Write a dataset's observations as CSV to standard output."""
    from opendata.filters import (
        check_dimensions,
        period_bounds,
        regions_without_data,
        require_dataset,
        resolve_regions,
        split_codes,
    )
    from opendata.formats.csv import write_csv
    from opendata.store import queries
    from opendata.store.writer import load_region_index

    try:
        wanted = _parse_dims(dims)
        obj.require_current_schema()
        start, end = period_bounds(from_, to, names=("--from", "--to"))
        with obj.engine.connect() as conn:
            require_dataset(conn, dataset_id)
            given = split_codes(regions, "--region", _REGIONS) if regions else []
            index = load_region_index(conn)
            codes = resolve_regions(index, given, "--region")
            with_data = queries.dataset_regions(conn, dataset_id)
            for warning in regions_without_data(index, codes, with_data, dataset_id):
                click.echo(f"warning: {warning}", err=True)
            dimensions = queries.dataset_dimensions(conn, dataset_id)
            check_dimensions(dimensions, wanted, dataset_id, "--dim {}")
            query = queries.ObservationQuery(dataset_id, codes, start, end, wanted)
            rows = queries.iter_observations(conn, query)
            # closed inside the connection's block, also when the reader goes away early
            with contextlib.closing(rows):
                chunks = write_csv(
                    dataset_id,
                    [d.slug for d in dimensions],
                    rows,
                    queries.series_dimensions(conn, dataset_id),
                    queries.serves_ranges(conn, dataset_id),
                )
                out = sys.stdout.buffer
                for chunk in chunks:
                    out.write(chunk.encode("utf-8"))
                out.flush()
    except OpendataError as exc:
        _fail(str(exc))
    except BrokenPipeError:
        # the reader stopped early (`opendata export ... | head`): no traceback, no flush error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FAILED)


@cli.command()
@click.option("--dataset", "dataset_id", help="Only the runs of this dataset.")
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option("--failed", is_flag=True, help="Only failed and interrupted runs.")
@click.pass_obj
def runs(obj: Context, dataset_id: str | None, limit: int, failed: bool) -> None:
    """Show the harvest run log: what ran when, what it changed, what failed and why."""
    from opendata.store import run_log

    try:
        obj.require_current_schema()
    except ConfigurationError as exc:
        _fail(str(exc))
    statuses = ("failed", "interrupted") if failed else ()
    with obj.engine.connect() as conn:
        rows = run_log.list_runs(conn, run_log.RunQuery(dataset_id or None, statuses, limit=limit))
    for run in rows:
        started = run.started_at.strftime("%Y-%m-%d %H:%M:%S")
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        click.echo(
            f"#{run.id} {started}Z {run.dataset_id} {run.status}"
            + (" offline" if run.offline else "")
            + (f" {took:.1f}s" if took is not None else "")
            + f" added={run.added} changed={run.changed} unchanged={run.unchanged}"
            + f" withdrawn={run.withdrawn}"
        )
        for line in filter(None, [run.error, *run.messages]):
            click.echo(f"    {line}")
    if not rows:
        click.echo("no harvest runs yet", err=True)


def main() -> None:
    """The console script's entry point."""
    cli(prog_name="opendata")


if __name__ == "__main__":
    main()
