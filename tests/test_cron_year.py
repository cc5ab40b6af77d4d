"""A year of cron in minutes: 365 daily ``harvest --due`` runs against a scripted BPS stand-in.

The stand-in serves one provincial table (regencies x years) whose figures follow a per-day
script: new years, revised values, withdrawn cells that come back, a day of "no data", windows
answered ``null`` (split by the harvester), 503s (three days in a row once), a hang past the
per-dataset time limit, and twice a harvest SIGKILLed in the middle of its write (a subprocess
whose write pauses after writing, before committing). Each day's run is ``opendata harvest --due
--now <day>T03:00:00Z``; the real instant after it is recorded, since runs finish in real time.

Afterwards, on each store, what users see is compared with the script: the current figures, the
figures ``as_of`` every day's instant, an ``updated_after`` poll chained from day to day (every
change exactly once), the versions ``/revisions`` lists (no phantom revision), the run log's
counts, freshness on the event days, and a final harvest (no stuck lock).
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from opendata import create_app
from opendata.cli import cli
from opendata.store import make_engine
from opendata.store import schema as t
from tests.harvesters.bps_server import BPSStandIn, StandInTable

KEY = "year-key"
DATASET = "penduduk"
REGIONS = {6301: "Tanah Laut", 6302: "Kotabaru", 6371: "Kota Banjarmasin", 6372: "Kota Banjarbaru"}
DAYS = 365
TIMEOUT = "3"  #: seconds a dataset's fetch may take (the hang day waits that long)

# --- the script: what the source publishes, day by day --------------------------------------

#: day -> edits of the source's cells {(region, year): value text, or None: no longer published}
EDITS: dict[int, dict[tuple[int, int], str | None]] = {
    0: {(r, y): f"{y - 2000}.{r % 100:02d}" for r in REGIONS for y in (2021, 2022, 2023)},
    10: {(6371, 2023): "23.75"},  # a revision
    20: {(r, 2024): f"24.{r % 100:02d}" for r in REGIONS},  # a new year
    50: {(6372, 2022): None},  # a withdrawal
    100: {(6301, 2024): "24.55"},  # killed while writing it; written the day after
    120: {(6372, 2022): "22.99"},  # the withdrawn cell comes back, another figure
    150: {(6302, 2021): "21.03", (6371, 2021): "21.77"},  # two revisions on one day
    200: {(r, 2025): f"25.{r % 100:02d}" for r in REGIONS},  # killed writing a new year
    250: {(6302, 2025): "25.5", (6301, 2023): None},  # a revision and a withdrawal
    364: {(6372, 2024): "24.81"},
}
FAIL_503 = {30, 80, 81, 82}  #: the source answers 503 (no retries): failed runs
NO_DATA = {60}  #: the table is "list-not-available" for a day: a check, nothing withdrawn
SPLIT = {40, 41}  #: windows of two years answer null: the harvester asks year by year
HANG = {70}  #: the source never answers: the run fails at the time limit
KILL = {100, 200}  #: the harvest is SIGKILLed after its write, before its commit
TOUCH = {300}  #: the body changes (its last_update), the figures do not


def source_truth() -> list[dict[tuple[str, str], str]]:
    """What the source publishes each day: {(region code, year): value text}."""
    cells: dict[tuple[int, int], str] = {}
    days = []
    for day in range(DAYS):
        for cell, value in EDITS.get(day, {}).items():
            if value is None:
                cells.pop(cell)
            else:
                cells[cell] = value
        days.append({(str(r), str(y)): v for (r, y), v in cells.items()})
    return days


def served_truth(published) -> list[dict[tuple[str, str], str]]:
    """What the API serves after each day's run: the source's, unless the run did not write."""
    served, days = {}, []
    for day, cells in enumerate(published):
        if day not in FAIL_503 | NO_DATA | HANG | KILL:
            served = cells
        days.append(served)
    return days


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


class ScriptedTable(StandInTable):
    """The stand-in's table, its cells those of the script's day (absent ones left out)."""

    published: dict[tuple[str, str], str] = {}
    last_update = "2027-01-01 10:00:00"

    def body(self, years):
        body = super().body(years)
        content = {}
        for (region, year), value in self.published.items():
            if int(year) in years:
                content[f"{region}{self.var}0{int(year) - 1900}0"] = json.loads(value)
        body["datacontent"] = content
        body["last_update"] = self.last_update
        return body


def make_table() -> ScriptedTable:
    return ScriptedTable(
        domain="6300",
        var=30,
        label="Jumlah Penduduk Menurut Kabupaten/Kota",
        unit="Ribu Jiwa",
        labelvervar="Kabupaten/Kota",
        vervar=list(REGIONS.items()),
        years=[],
    )


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


def status_of(invoke, moment: datetime) -> dict:
    result = invoke("status", "--json", "--now", stamp(moment))
    assert result.exit_code == 0, result.output
    return next(row for row in json.loads(result.stdout) if row["dataset"] == DATASET)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def run_year(store_url, tmp_path):
    """Harvest the year; return (the real instant after each day, statuses seen on event days)."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / f"{DATASET}.yaml").write_text(
        f"id: {DATASET}\ntitle: Penduduk\nsource: bps\nfrequency: annual\n"
        "bps: {domain: '6300', var: 30, years: '2021-'}\nschedule: {every: 1d}\n",
        encoding="utf-8",
    )
    table = make_table()
    published = source_truth()
    # the year starts the day after tomorrow: every real run of the test is before its first day
    first = datetime.now(UTC).date() + timedelta(days=2)
    instants: list[datetime] = []
    seen: dict[int, list[dict]] = {}
    with BPSStandIn(KEY, [table]) as stand_in:
        env = environment(store_url, catalog, stand_in)

        def invoke(*args):
            return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

        for day in range(DAYS):
            table.published = published[day]
            table.years = sorted({int(year) for _, year in published[day]})
            if day in TOUCH or EDITS.get(day):
                table.last_update = f"{first + timedelta(days=day)} 10:00:00"
            stand_in.failures = 1 if day in FAIL_503 else 0
            stand_in.null_above = 1 if day in SPLIT else None
            stand_in.hang = (lambda params: True) if day in HANG else None
            stand_in.tables = {} if day in NO_DATA else {("6300", "30"): table}
            now = f"{first + timedelta(days=day)}T03:00:00Z"
            asked = len(stand_in.requests)
            if day in KILL:
                killed_harvest(env, now)
            else:
                result = invoke("harvest", "--due", "--now", now, "--timeout", TIMEOUT)
                failed = day in FAIL_503 | HANG
                assert result.exit_code == (1 if failed else 0), (day, result.output)
            instants.append(datetime.now(UTC))
            windows = [s.params.get("th") for s in stand_in.requests[asked:] if s.status == 200]
            hung = [s for s in stand_in.requests[asked:] if s.status == 0]
            assert bool(hung) == (day in HANG), day  # the hang was real, and only that day
            if day in SPLIT:  # null for two years, then asked year by year
                assert {"121:122", "121", "122"} <= set(windows), windows
            if day in FAIL_503 | NO_DATA | HANG | KILL | {0, 1, 83, 101, 364}:
                seen[day] = [
                    status_of(invoke, instants[-1] + timedelta(minutes=1)),
                    status_of(invoke, instants[-1] + timedelta(days=1, minutes=1)),
                    status_of(invoke, instants[-1] + timedelta(days=2, minutes=1)),
                ]
            if day in (0, 150):  # cron again the same day: nothing is due
                again = invoke("harvest", "--due", "--now", stamp(instants[-1]))
                assert again.exit_code == 0 and "nothing is due" in again.output
        # no stuck lock: a harvest after the year runs (the source is up, nothing changed)
        assert invoke("harvest", DATASET).exit_code == 0
    return catalog, instants, seen


# --- what users see ------------------------------------------------------------------------


def rows_of(client, query: str) -> tuple[list[dict], str | None]:
    response = client.get(f"/api/v1/datasets/{DATASET}/observations.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return rows, response.headers.get("Opendata-As-Of")


def cells_of(rows: list[dict]) -> dict[tuple[str, str], str]:
    return {(row["region_code"], row["period"]): row["value"] for row in rows}


def test_a_year_of_cron(store_url, tmp_path):
    published = source_truth()
    served = served_truth(published)
    catalog, instants, seen = run_year(store_url, tmp_path)
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": catalog, "TESTING": True})
    client = app.test_client()
    try:
        before_first, mark = rows_of(client, "as_of=2000-01-01")
        assert before_first == [] and mark is None  # before the first harvest: nothing
        # every value served now is the script's last day
        now, _ = rows_of(client, "")
        assert cells_of(now) == served[-1]
        # as_of each day's instant: that day's figures
        for day, instant in enumerate(instants):
            rows, _ = rows_of(client, f"as_of={stamp(instant)}")
            assert cells_of(rows) == served[day], day
        # a dashboard polling after each day's run gets every change once
        mark, before = "2000-01-01", {}
        for day, instant in enumerate(instants):
            rows, header = rows_of(client, f"updated_after={mark}&as_of={stamp(instant)}")
            got = {(r["region_code"], r["period"]): (r["change"], r["value"] or None) for r in rows}
            assert got == changes(before, served[day]), day
            before, mark = served[day], header or mark
        # no phantom revision: the versions are the first ones plus one a change
        body = client.get(f"/api/v1/datasets/{DATASET}/revisions?limit=1000").get_json()
        versions = {
            (c["region"]["code"], c["period"]): [v["value"] for v in c["versions"]]
            for c in body["data"]
        }
        expected: dict[tuple[str, str], list] = {}
        for day in range(DAYS):
            for cell, (_, value) in changes(served[day - 1] if day else {}, served[day]).items():
                expected.setdefault(cell, []).append(None if value is None else float(value))
        assert versions == expected
    finally:
        app.extensions["opendata"].engine.dispose()
    check_run_log(store_url, served)
    check_freshness(seen)


def check_run_log(store_url, served) -> None:
    """One run a day (the killed ones interrupted), its counts the script's, none left running."""
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(select(t.harvest_run).order_by(t.harvest_run.c.id)).all()
    finally:
        engine.dispose()
    assert len(runs) == DAYS + 1  # and the final harvest
    assert runs[-1].status == "unchanged"
    for day, run in enumerate(runs[:DAYS]):
        if day in KILL:
            assert run.status == "interrupted", day
            continue
        if day in FAIL_503 | HANG:
            assert run.status == "failed", (day, run.status)
            continue
        if day in NO_DATA:
            assert run.status == "no-data", day
            continue
        diff = changes(served[day - 1] if day else {}, served[day])
        kinds = [change for change, _ in diff.values()]
        # A withdrawn cell that comes back is `added` to a poll but counts as `changed` in the
        # run log (the writer updates its row): what the log says today, reported as a mismatch.
        back = sum(
            1
            for cell, (change, _) in diff.items()
            if change == "added" and any(cell in earlier for earlier in served[:day])
        )
        expected = (kinds.count("added") - back, kinds.count("revised") + back)
        counts = (run.added, run.changed, run.withdrawn)
        assert counts == (*expected, kinds.count("withdrawn")), (day, run.status)
        assert run.status in (("ok", "unchanged") if not diff else ("ok",)), (day, run.status)


def check_freshness(seen: dict[int, list[dict]]) -> None:
    """``status --json --now``: a minute, a day and two days after the event days' runs."""
    for day, (minute, next_day, later) in seen.items():
        failures = {30: 1, 70: 1, 80: 1, 81: 2, 82: 3}.get(day, 0)
        assert minute["failures_in_a_row"] == failures, day
        if failures >= 3:
            assert (minute["state"], minute["stale"]) == ("failing", True), day
            assert "HTTP 503" in minute["last_error"]
        else:
            assert (minute["state"], minute["stale"], minute["due"]) == ("fresh", False, False)
            assert next_day["state"] == "due" and next_day["due"] is True, day
            assert later["state"] == "overdue" and later["stale"] is True, day
