"""A year of cron in minutes: 365 daily ``harvest --due`` runs against a scripted BPS stand-in.

The stand-in serves two provincial tables (regencies x years) whose figures follow a per-day
script: new years, revised values (one only in its text form, ``24.71`` then ``24.710``),
withdrawn cells that come back, a day of "no data", windows answered ``null`` (split by the
harvester), 503s (three days in a row once), a hang past the per-dataset time limit (the other
dataset is harvested all the same), and twice a harvest SIGKILLed in the middle of its write (a
subprocess whose write pauses after writing, before committing; the other dataset, which comes
after it, has no run that day). Each day's run is ``opendata harvest --due
--now <day>T03:00:00Z``; the real instant after it is recorded, since runs finish in real time.

Afterwards, on each store, what users see is compared with the script: the current figures, the
figures ``as_of`` every day's instant, an ``updated_after`` poll chained from day to day (every
change exactly once), both in the CSV every day and in JSON pages of two cells on the event days;
the versions ``/revisions`` lists (no phantom revision), the run log's counts, freshness on the
event days, and a final harvest (no stuck lock).
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from opendata import create_app
from opendata.cli import cli
from opendata.store import make_engine
from opendata.store import schema as t
from tests.harvesters.bps_scripted import ScriptedStandIn, make_table

KEY = "year-key"
REGIONS = {6301: "Tanah Laut", 6302: "Kotabaru", 6371: "Kota Banjarmasin", 6372: "Kota Banjarbaru"}
DAYS = 365
TIMEOUT = "3"  #: seconds a dataset's fetch may take (the hang day waits that long)

# --- the script: what the source publishes, day by day --------------------------------------


@dataclass(frozen=True)
class Script:
    """One dataset (a var on domain 6300) and its days: edits, and the days its run writes not.

    ``edits``: day -> {(region, year): value text, or None: no longer published}.
    """

    dataset: str
    var: int
    years: str
    edits: dict[int, dict[tuple[int, int], str | None]]
    failed: frozenset[int]  #: its run fails (503, hang)
    no_data: frozenset[int]  #: its table is "list-not-available": a check, nothing withdrawn
    skipped: frozenset[int]  #: it has no run (the harvest was killed before reaching it)

    def published(self) -> list[dict[tuple[str, str], str]]:
        """What the source publishes each day: {(region code, year): value text}."""
        cells: dict[tuple[int, int], str] = {}
        days = []
        for day in range(DAYS):
            for cell, value in self.edits.get(day, {}).items():
                if value is None:
                    cells.pop(cell)
                else:
                    cells[cell] = value
            days.append({(str(r), str(y)): v for (r, y), v in cells.items()})
        return days

    def served(self) -> list[dict[tuple[str, str], str]]:
        """What the API serves after each day's run: the source's, unless it was not written."""
        served, days = {}, []
        for day, cells in enumerate(self.published()):
            if day not in self.failed | self.no_data | self.skipped | KILL:
                served = cells
            days.append(served)
        return days


FAIL_503 = {30, 80, 81, 82}  #: the first request answers 503 (no retries): penduduk fails
SPLIT = {40, 41}  #: windows of two years answer null: the harvester asks year by year
HANG = {70}  #: BPS never answers for penduduk: its run fails at the time limit, upah's does not
KILL = {100, 200}  #: the harvest is SIGKILLed writing penduduk, before its commit
TOUCH = {300}  #: the bodies change (their last_update), the figures do not

PENDUDUK = Script(
    "penduduk",
    30,
    "2021-",  # open-ended: new years come from the source's list of years
    {
        0: {(r, y): f"{y - 2000}.{r % 100:02d}" for r in REGIONS for y in (2021, 2022, 2023)},
        10: {(6371, 2023): "23.75"},  # a revision
        20: {(r, 2024): f"24.{r % 100:02d}" for r in REGIONS},  # a new year
        50: {(6372, 2022): None},  # a withdrawal
        100: {(6301, 2024): "24.55"},  # killed while writing it; written the day after
        120: {(6372, 2022): "22.99"},  # the withdrawn cell comes back, another figure
        150: {(6302, 2021): "21.03", (6371, 2021): "21.77"},  # two revisions on one day
        200: {(r, 2025): f"25.{r % 100:02d}" for r in REGIONS},  # killed writing a new year
        250: {(6302, 2025): "25.5", (6301, 2023): None},  # a revision and a withdrawal
        280: {(6371, 2024): "24.710"},  # the same figure, the source's text changed: a revision
        364: {(6372, 2024): "24.81"},
    },
    failed=frozenset(FAIL_503 | HANG),
    no_data=frozenset({60}),
    skipped=frozenset(),
)
UPAH = Script(
    "upah",
    31,
    "2022-2023",
    {
        0: {(r, y): f"{y - 1990}{r % 10}.5{r % 10}" for r in (6301, 6371) for y in (2022, 2023)},
        30: {(6371, 2023): "331.61"},  # on penduduk's 503: written
        70: {(6301, 2023): "331.21"},  # on penduduk's hang: written
        101: {(6371, 2022): None},  # the day after a kill
        200: {(6371, 2022): "321.99"},  # on a kill day: written the day after
        330: {(6301, 2022): "321.55", (6301, 2023): "331.22"},
    },
    failed=frozenset(),
    no_data=frozenset(),
    skipped=frozenset(KILL),  # the harvest was killed writing penduduk, which comes first
)
SCRIPTS = (PENDUDUK, UPAH)
#: the days something happens (and the day after): the JSON pages are checked on these too
EVENT_DAYS = {
    d + after
    for d in {*PENDUDUK.edits, *UPAH.edits, *FAIL_503, *SPLIT, *HANG, *KILL, *TOUCH, 60}
    for after in (0, 1)
} - {DAYS}


def changes(before: dict, after: dict) -> dict[tuple[str, str], tuple[str, str | None]]:
    """{cell: (change, value)} from one served state to the next, as updated_after shows it."""
    found = {}
    for cell in before.keys() | after.keys():
        if cell not in after:
            found[cell] = ("withdrawn", None)
        elif cell not in before:
            found[cell] = ("added", after[cell])
        elif before[cell] != after[cell]:
            found[cell] = ("revised", after[cell])
    return found


# --- running the year ----------------------------------------------------------------------

#: a harvest whose write pauses after writing, before its commit, so that it can be killed there
SLOW_WRITE = """
import sys, time
import opendata.store.writer as writer
write = writer.write_dataset
def paused(*args, **kwargs):
    counts = write(*args, **kwargs)
    print("WRITTEN", flush=True)
    time.sleep(60)
    return counts
writer.write_dataset = paused
from opendata.cli import cli
cli(sys.argv[1:], prog_name="opendata")
"""


def environment(store_url, catalog, stand_in) -> dict[str, str]:
    return {
        "OPENDATA_DATABASE_URL": store_url,
        "OPENDATA_CATALOG_DIR": str(catalog),
        "OPENDATA_BPS_BASE_URL": stand_in.base_url,
        "OPENDATA_BPS_API_KEY": KEY,
        "OPENDATA_BPS_REQUESTS_PER_SECOND": "1000",
        "OPENDATA_HTTP_RETRIES": "0",
        "OPENDATA_HTTP_TIMEOUT": "10",
    }


def killed_harvest(env: dict[str, str], now: str) -> None:
    """A cron harvest SIGKILLed mid-write: its transaction is open, its run row `running`."""
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITE, "harvest", "--due", "--now", now, "--timeout", TIMEOUT],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == "WRITTEN", process.stderr.read() if not line else line
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def status_of(invoke, moment: datetime) -> dict[str, dict]:
    result = invoke("status", "--json", "--now", stamp(moment))
    assert result.exit_code == 0, result.output
    return {row["dataset"]: row for row in json.loads(result.stdout)}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def run_year(store_url, tmp_path):
    """Harvest the year; return (the real instant after each day, statuses seen on event days)."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    tables = {}
    for script in SCRIPTS:
        (catalog / f"{script.dataset}.yaml").write_text(
            f"id: {script.dataset}\ntitle: {script.dataset.title()}\nsource: bps\n"
            f"bps: {{domain: '6300', var: {script.var}, years: '{script.years}'}}\n"
            "frequency: annual\nschedule: {every: 1d}\n",
            encoding="utf-8",
        )
        tables[script.dataset] = make_table(script.var, REGIONS)
    published = {script.dataset: script.published() for script in SCRIPTS}
    # the year starts the day after tomorrow: every real run of the test is before its first day
    first = datetime.now(UTC).date() + timedelta(days=2)
    instants: list[datetime] = []
    seen: dict[int, list[dict]] = {}
    with ScriptedStandIn(KEY, list(tables.values())) as stand_in:
        env = environment(store_url, catalog, stand_in)

        def invoke(*args):
            return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

        for day in range(DAYS):
            stand_in.tables = {}
            for script in SCRIPTS:
                table = tables[script.dataset]
                table.published = published[script.dataset][day]
                table.years = sorted({int(year) for _, year in table.published})
                if day in TOUCH or script.edits.get(day):
                    table.last_update = f"{first + timedelta(days=day)} 10:00:00"
                if day not in script.no_data:
                    stand_in.tables[("6300", str(script.var))] = table
            stand_in.failures = 1 if day in FAIL_503 else 0
            stand_in.null_above = 1 if day in SPLIT else None
            stand_in.hang = (lambda params: params.get("var") == "30") if day in HANG else None
            now = f"{first + timedelta(days=day)}T03:00:00Z"
            asked = len(stand_in.requests)
            if day in KILL:
                killed_harvest(env, now)
            else:
                result = invoke("harvest", "--due", "--now", now, "--timeout", TIMEOUT)
                failed = any(day in script.failed for script in SCRIPTS)
                assert result.exit_code == (1 if failed else 0), (day, result.output)
            instants.append(datetime.now(UTC))
            windows = {s.params.get("th") for s in stand_in.requests[asked:] if s.status == 200}
            hung = [s for s in stand_in.requests[asked:] if s.status == 0]
            assert bool(hung) == (day in HANG), day  # the hang was real, and only that day
            if day in SPLIT:  # null for two years, then asked year by year
                assert {"121:122", "121", "122", "122:123", "123"} <= windows, windows
            if day in FAIL_503 | HANG | KILL | PENDUDUK.no_data | {0, 1, 83, 101, 364}:
                seen[day] = [
                    status_of(invoke, instants[-1] + timedelta(minutes=1)),
                    status_of(invoke, instants[-1] + timedelta(days=1, minutes=1)),
                    status_of(invoke, instants[-1] + timedelta(days=2, minutes=1)),
                ]
            if day in (0, 150):  # cron again the same day: nothing is due
                again = invoke("harvest", "--due", "--now", stamp(instants[-1]))
                assert again.exit_code == 0 and "nothing is due" in again.output
        # no stuck lock: a harvest after the year runs (the source is up, nothing changed)
        assert invoke("harvest", "--all").exit_code == 0
    return catalog, instants, seen


# --- what users see ------------------------------------------------------------------------


def rows_of(client, dataset: str, query: str) -> tuple[list[dict], str | None]:
    response = client.get(f"/api/v1/datasets/{dataset}/observations.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return rows, response.headers.get("Opendata-As-Of")


def cells_of(rows: list[dict]) -> dict[tuple[str, str], str]:
    return {(row["region_code"], row["period"]): row["value"] for row in rows}


def json_pages(client, dataset: str, query: str) -> dict[tuple[str, str], tuple]:
    """The JSON answer, followed page by page (2 cells a page): {cell: (change, value)}."""
    url, cells = f"/api/v1/datasets/{dataset}/observations?{query}&limit=2", {}
    while url:
        body = client.get(url).get_json()
        for item in body["data"]:
            cell = (item["region"]["code"], item["period"])
            assert cell not in cells, (cell, query)  # no cell twice across pages
            cells[cell] = (item.get("change"), item["value"])
        url = body["next"]
    return cells


def as_json(cells: dict) -> dict[tuple[str, str], tuple]:
    """{cell: (change, value text)} as the JSON pages show it: numbers, no change if none."""
    return {
        cell: (change, None if value is None else float(value))
        for cell, (change, value) in cells.items()
    }


def test_a_year_of_cron(store_url, tmp_path):
    catalog, instants, seen = run_year(store_url, tmp_path)
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": catalog, "TESTING": True})
    client = app.test_client()
    try:
        for script in SCRIPTS:
            check_served(client, script, instants)
    finally:
        app.extensions["opendata"].engine.dispose()
    for script in SCRIPTS:
        check_run_log(store_url, script)
    check_freshness(seen)


def check_served(client, script: Script, instants: list[datetime]) -> None:
    """Now, as_of each day, updated_after chained day to day, and the versions of each cell."""
    served = script.served()
    before_first, mark = rows_of(client, script.dataset, "as_of=2000-01-01")
    assert before_first == [] and mark is None  # before the first harvest: nothing
    # every value served now is the script's last day
    now, _ = rows_of(client, script.dataset, "")
    assert cells_of(now) == served[-1]
    # as_of each day's instant: that day's figures
    for day, instant in enumerate(instants):
        rows, _ = rows_of(client, script.dataset, f"as_of={stamp(instant)}")
        assert cells_of(rows) == served[day], (script.dataset, day)
        if day in EVENT_DAYS:  # the JSON pages say the same
            pages = json_pages(client, script.dataset, f"as_of={stamp(instant)}")
            assert pages == as_json({c: (None, v) for c, v in served[day].items()}), day
    # a dashboard polling after each day's run gets every change once
    mark, before = "2000-01-01", {}
    for day, instant in enumerate(instants):
        query = f"updated_after={mark}&as_of={stamp(instant)}"
        rows, header = rows_of(client, script.dataset, query)
        got = {(r["region_code"], r["period"]): (r["change"], r["value"] or None) for r in rows}
        assert got == changes(before, served[day]), (script.dataset, day)
        if day in EVENT_DAYS:
            assert json_pages(client, script.dataset, query) == as_json(got), day
        before, mark = served[day], header or mark
    # no phantom revision: each cell's versions are its first one and one a change
    body = client.get(f"/api/v1/datasets/{script.dataset}/revisions?limit=1000").get_json()
    versions = {
        (c["region"]["code"], c["period"]): [v["value"] for v in c["versions"]]
        for c in body["data"]
    }
    expected: dict[tuple[str, str], list] = {}
    for day in range(DAYS):
        for cell, (_, value) in changes(served[day - 1] if day else {}, served[day]).items():
            expected.setdefault(cell, []).append(None if value is None else float(value))
    assert versions == expected, script.dataset


def check_run_log(store_url, script: Script) -> None:
    """A run a day (the killed one interrupted), its counts the script's, none left running."""
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            run = t.harvest_run
            runs = conn.execute(
                select(run).where(run.c.dataset_id == script.dataset).order_by(run.c.id)
            ).all()
    finally:
        engine.dispose()
    days = [day for day in range(DAYS) if day not in script.skipped]
    assert len(runs) == len(days) + 1  # and the final harvest
    assert runs[-1].status == "unchanged"
    served = script.served()
    for day, run in zip(days, runs, strict=False):
        where = (script.dataset, day, run.status)
        if day in KILL:
            assert run.status == "interrupted", where
            continue
        if day in script.failed:
            assert run.status == "failed", where
            continue
        if day in script.no_data:
            assert run.status == "no-data", where
            continue
        diff = changes(served[day - 1] if day else {}, served[day])
        kinds = [change for change, _ in diff.values()]
        # a withdrawn cell that comes back is `added`, in the run log as in a poll
        expected = (kinds.count("added"), kinds.count("revised"), kinds.count("withdrawn"))
        assert (run.added, run.changed, run.withdrawn) == expected, where
        assert run.status in (("ok", "unchanged") if not diff else ("ok",)), where


def check_freshness(seen: dict[int, list[dict]]) -> None:
    """``status --json --now``: a minute, a day and two days after the event days' runs.

    A killed run is still `running` in the log until the next harvest finds it: no failure yet.
    """
    for day, (minute, next_day, later) in seen.items():
        for dataset, row in minute.items():
            failures = (
                {30: 1, 70: 1, 80: 1, 81: 2, 82: 3}.get(day, 0) if dataset == "penduduk" else 0
            )
            assert row["failures_in_a_row"] == failures, (dataset, day)
            if failures >= 3:
                assert (row["state"], row["stale"]) == ("failing", True), day
                assert "HTTP 503" in row["last_error"]
                assert next_day[dataset]["state"] == "failing", day
                continue
            assert (row["state"], row["stale"], row["due"]) == ("fresh", False, False), day
            assert next_day[dataset]["state"] == "due" and next_day[dataset]["due"], day
            assert later[dataset]["state"] == "overdue" and later[dataset]["stale"], day
