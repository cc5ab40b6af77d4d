"""The bundled plan targets: the API's achievement is what the performance reports print.

The LKjIP 2014 of the province printed, for each of its eight macro indicators, the target, the
realisation and the "% Capaian"; the bundled file keeps that column (unread by the catalog). Here
the whole bundled catalog is harvested offline (the command line) on both stores, and the
achievement the API computes must be every printed figure, to its two decimals. The RKPD 2022,
LKPJ 2023 and RPJMD 2025-2029 targets of the province come out against the demo's actual figures.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from opendata import create_app
from opendata.cli import cli
from opendata.config import PROJECT_DIR

LKJIP = PROJECT_DIR / "datasets" / "files" / "kalsel_lkjip2014_capaian_kinerja_makro.csv"


@pytest.fixture
def harvested(store_url):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    result = CliRunner().invoke(cli, ["harvest", "--all", "--offline"], env=env)
    assert result.exit_code == 0, result.output
    app = create_app({"DATABASE_URL": store_url, "TESTING": True})
    yield app.test_client()
    app.extensions["opendata"].engine.dispose()


def _get(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True), parse_float=str, parse_int=str)


def _printed_capaian() -> dict[str, str]:
    """Indikator label -> the "% Capaian" the LKjIP printed (as a JSON number's text)."""
    lines = LKJIP.read_text(encoding="utf-8").splitlines()[2:]
    rows = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=";")
    return {
        row["Indikator"]: row["% Capaian"].replace(",", ".") for row in rows if row["No"].isdigit()
    }


def test_the_lkjip_2014_capaian_come_out_of_the_computation(harvested):
    printed = _printed_capaian()
    assert len(printed) == 8
    page = _get(harvested, "/api/v1/datasets/target-kinerja-makro-kalsel-2014/achievement")
    assert page["next"] is None
    got = {row["dimensions"]["indikator"]["label"]: row for row in page["data"]}
    assert {label: row["achievement"] for label, row in got.items()} == printed
    growth = got["Pertumbuhan ekonomi"]
    assert (growth["target"], growth["actual"], growth["better"]) == (
        {"low": "6.00", "high": "6.00"},
        "4.85",
        "higher",
    )
    assert (growth["achieved"], growth["period"], growth["actual_period"]) == (
        False,
        "2014",
        "2014",
    )
    tpt = got["Tingkat pengangguran terbuka"]
    assert (tpt["better"], tpt["achieved"], tpt["achievement"]) == ("lower", True, "161.29")
    hdi = got["Indeks Pembangunan Manusia"]  # the report's "***": the 2013 figure stands in
    assert (hdi["actual"], hdi["actual_flag"]) == ("71.74", "***")
    assert hdi["actual_note"] == "data 2014 belum ada (data yang digunakan data tahun 2013)"
    per_capita = got["PDRB Per Kapita (Adhk)"]
    assert (per_capita["target"]["low"], per_capita["actual"]) == ("9200000", "9674468.00")


def _by_period(client, dataset: str) -> dict[str, dict]:
    page = _get(client, f"/api/v1/datasets/{dataset}/achievement?region=6300")
    return {row["period"]: row for row in page["data"]}


def test_the_provinces_plan_targets_against_the_demos_figures(harvested):
    poverty = _by_period(harvested, "target-kemiskinan-kalsel")
    assert sorted(poverty) == ["2022", "2023", "2029"]
    # RKPD 2022: 4,1-4,2 % against 4.49 (March 2022): missed, 4.2 / 4.49 = 93.54
    assert poverty["2022"]["target"] == {"low": "4.1", "high": "4.2"}
    assert (poverty["2022"]["actual"], poverty["2022"]["achieved"]) == ("4.49", False)
    assert poverty["2022"]["achievement"] == "93.54"
    # LKPJ 2023: 4,4 % against 4.29: met, 4.4 / 4.29 = 102.56
    assert (poverty["2023"]["actual"], poverty["2023"]["achievement"]) == ("4.29", "102.56")
    assert poverty["2023"]["achieved"] is True
    # RPJMD 2025-2029's 2029 target: no actual yet
    assert poverty["2029"]["target"] == {"low": "1.64", "high": "2.6"}
    assert [poverty["2029"][k] for k in ("actual", "achieved", "achievement")] == [None] * 3

    gini = _by_period(harvested, "target-gini-kalsel")
    assert (gini["2022"]["actual"], gini["2022"]["achievement"]) == ("0.317", "104.10")
    hdi = _by_period(harvested, "target-ipm-kalsel")  # a range is met at its low end
    assert (hdi["2022"]["target"]["low"], hdi["2022"]["achievement"]) == ("71.2", "103.93")
    assert hdi["2023"]["achievement"] == "103.41"
    # the target's own note comes with it: here, that the HDI target is on the old method
    assert hdi["2022"]["target_flag"] == "a" and "metode lama" in hdi["2022"]["target_note"]
    unemployment = _by_period(harvested, "target-tpt-kalsel")  # the demo's TPT is 2023-2025
    assert unemployment["2022"]["target"] == {"low": "4.1", "high": "4.5"}
    assert unemployment["2022"]["actual"] is None


def test_the_csv_has_the_figures_and_each_targets_source(harvested):
    response = harvested.get("/api/v1/datasets/target-gini-kalsel/achievement.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [
        (r["period"], r["target_low"], r["actual"], r["achieved"], r["achievement"]) for r in rows
    ] == [("2022", "0.330", "0.317", "true", "104.10")]
    assert (
        rows[0]["target_note"].startswith("Target RKPD 2022")
        and "sonora.id" in rows[0]["target_note"]
    )


def test_target_and_actual_datasets_link_to_each_other(harvested):
    target = _get(harvested, "/api/v1/datasets/target-tpt-kalsel")
    assert target["target"]["of"]["dataset"] == "tpt-provinsi"
    assert target["target"]["better"] == "lower"
    actual = _get(harvested, "/api/v1/datasets/tpt-provinsi")
    assert [t["dataset"] for t in actual["targets"]] == ["target-tpt-kalsel"]


def test_a_datasets_last_harvest_links_to_its_run_and_the_body_it_read(harvested):
    dataset = _get(harvested, "/api/v1/datasets/target-gini-kalsel")
    run = _get(harvested, dataset["last_harvest"]["links"]["run"])
    assert (run["dataset"], run["status"]) == ("target-gini-kalsel", "ok")
    (payload,) = run["payloads"]
    body = harvested.get(payload["links"]["body"]).get_data()
    assert body == (LKJIP.parent / "target_gini_kalsel.csv").read_bytes()
