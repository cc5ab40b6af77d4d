"""``opendata status``: every dataset's freshness, the ones that need a look first.

Also what ``harvest --due`` selects by (:func:`due_specs`), and the JSON log lines of
``--log-format json``. The times are UTC; ``--now`` (hidden) replays another instant.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import click

from opendata.freshness import STATES, Freshness, freshness
from opendata.model import DatasetSpec

#: the fields of a JSON log line, then the record's extras (dataset, run_id, status, counts)
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"


def parse_now(text: str | None) -> datetime:
    """``--now``: an ISO 8601 instant (UTC if no offset), or the current time."""
    if not text:
        return datetime.now(UTC).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: use an ISO 8601 time, e.g. 2026-05-01T03:00:00Z"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def read_freshness(engine, specs: Iterable[DatasetSpec], now: datetime, settings) -> list:
    """The freshness of ``specs`` at ``now``, from the store's run log."""
    from opendata.freshness import Checks
    from opendata.store.checks import read_checks

    specs = list(specs)
    with engine.connect() as conn:
        checks = read_checks(conn, [spec.id for spec in specs])
    allowed = settings["STALE_AFTER_FAILURES"]
    return [freshness(spec, checks.get(spec.id, Checks()), now, allowed) for spec in specs]


def due_specs(engine, specs: Sequence[DatasetSpec], now: datetime, settings) -> list:
    """The specs whose check is due at ``now`` (never checked, or an interval since)."""
    due = {f.dataset_id for f in read_freshness(engine, specs, now, settings) if f.due}
    return [spec for spec in specs if spec.id in due]


def configure_json_logs() -> None:
    """Log lines as JSON objects (python-json-logger), one a line, on standard error."""
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level"}, timestamp="time")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _table(rows: Sequence[Freshness]) -> str:
    header = ("dataset", "state", "last checked", "last changed", "next due", "fails", "error")
    lines = [
        (
            f.dataset_id,
            f.state,
            _when(f.last_checked),
            _when(f.last_changed),
            "now" if f.next_due is None else _when(f.next_due),
            str(f.failures),
            (f.last_error or "").splitlines()[0][:60] if f.last_error else "",
        )
        for f in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=False)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    )


@click.command()
@click.argument("dataset_ids", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dataset, in a list.")
@click.option(
    "--fail-if-stale",
    is_flag=True,
    help="Exit with code 1 when a dataset is stale (for a monitoring check).",
)
@click.option("--now", "now_text", hidden=True, help="Replay another instant (ISO 8601, UTC).")
@click.pass_obj
def status(obj, dataset_ids: tuple[str, ...], as_json: bool, fail_if_stale: bool, now_text):
    """Show when each dataset was last checked and changed, when it is due, whether it is stale.

    Failing and overdue datasets come first. Times are UTC.
    """
    from opendata.exceptions import OpendataError

    now = parse_now(now_text)
    try:
        obj.require_current_schema()
        catalog = obj.catalog()
    except OpendataError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    unknown = [d for d in dataset_ids if d not in catalog]
    if unknown:
        raise click.UsageError(f"not in the catalog: {', '.join(unknown)}")
    specs = [catalog[d] for d in dataset_ids] if dataset_ids else list(catalog.values())
    rows = read_freshness(obj.engine, specs, now, obj.settings)
    rows.sort(key=lambda f: (STATES.index(f.state), f.dataset_id))
    if as_json:
        click.echo(json.dumps([{"dataset": f.dataset_id, **f.as_json()} for f in rows], indent=2))
    else:
        click.echo(_table(rows))
    if fail_if_stale and any(f.stale for f in rows):
        sys.exit(1)
