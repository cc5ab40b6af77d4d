"""What the run log says of each dataset's freshness: last check, last change, failures since.

One grouped query per question, whatever the length of the log (a year of daily cron is a few
thousand runs a dataset). Read by ``opendata status``, ``harvest --due`` and the API.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, select

from opendata.freshness import Checks
from opendata.store import schema as t
from opendata.store.runs import REPARSE_BATCH

#: a run that reached the source (it answered, with data or without)
CHECKED = ("ok", "unchanged", "no-data")
#: a run that did not
FAILED = ("failed", "interrupted")


def read_checks(conn: Connection, dataset_ids: list[str] | None = None) -> dict[str, Checks]:
    """Checks per dataset id (only datasets with at least one finished run)."""
    run = t.harvest_run
    # a reparse reads stored payloads: it neither checks the source nor fails to reach it
    scope = [run.c.finished_at.is_not(None), run.c.batch.not_like(f"{REPARSE_BATCH}%")]
    if dataset_ids is not None:
        scope.append(run.c.dataset_id.in_(dataset_ids))
    last_ok = (
        select(run.c.dataset_id, func.max(run.c.id).label("run_id"))
        .where(*scope, run.c.status.in_(CHECKED))
        .group_by(run.c.dataset_id)
        .subquery()
    )
    checked = {
        row.dataset_id: (row.run_id, row.finished_at)
        for row in conn.execute(
            select(last_ok.c.dataset_id, last_ok.c.run_id, run.c.finished_at).join(
                run, run.c.id == last_ok.c.run_id
            )
        )
    }
    # failures after the last check (all of them where there was none)
    failed = (
        select(run.c.dataset_id, func.count().label("n"), func.max(run.c.id).label("last_id"))
        .select_from(run.outerjoin(last_ok, last_ok.c.dataset_id == run.c.dataset_id))
        .where(
            *scope,
            run.c.status.in_(FAILED),
            (last_ok.c.run_id.is_(None)) | (run.c.id > last_ok.c.run_id),
        )
        .group_by(run.c.dataset_id)
        .subquery()
    )
    failures = {
        row.dataset_id: (row.n, row.error)
        for row in conn.execute(
            select(failed.c.dataset_id, failed.c.n, run.c.error).join(
                run, run.c.id == failed.c.last_id
            )
        )
    }
    changed_run = run.alias("changed_run")
    dataset = t.dataset
    query = select(dataset.c.id, dataset.c.source_last_update, changed_run.c.finished_at).outerjoin(
        changed_run, and_(changed_run.c.id == dataset.c.changed_run_id)
    )
    if dataset_ids is not None:
        query = query.where(dataset.c.id.in_(dataset_ids))
    datasets = {row[0]: (row[1], row[2]) for row in conn.execute(query)}
    result = {}
    for dataset_id in checked.keys() | failures.keys() | datasets.keys():
        n, error = failures.get(dataset_id, (0, None))
        source_update, changed_at = datasets.get(dataset_id, (None, None))
        result[dataset_id] = Checks(
            last_checked=checked.get(dataset_id, (None, None))[1],
            last_changed=changed_at,
            source_last_update=source_update,
            failures=n,
            last_error=error,
        )
    return result
