"""The bundled Bappeda and governance datasets: published figures out, none invented.

The end-to-end tests harvest the bundled catalog offline (the command line), then read the API
and the CSV download on both stores. The tracing tests parse each bundled file and check every
observation against the row of the team's collected sample it was copied from
(``../shared/sources/``: they skip where that folder is absent), so a figure typed wrong, a
figure made up, or a published figure dropped fails here.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from harvesters.spreadsheet import SpreadsheetHarvester
from opendata import create_app
from opendata.catalog import load_catalog
from opendata.cli import cli
from opendata.config import PROJECT_DIR, load_settings
from opendata.regions import RegionIndex

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "sources"
BAPPEDA = SHARED / "bappeda"
GOVERNANCE = SHARED / "governance"
CATALOG = PROJECT_DIR / "datasets"
#: the bundled datasets this file covers, read from files under datasets/files/
FILE_DATASETS = {
    "ipm-kabkota",
    "persentase-penduduk-miskin-kabkota",
    "gini-ratio-kabkota",
    "kinerja-makro-kalsel-2014",
    "indeks-spbe",
    "pengaduan-sp4n-lapor",
    "desa-blank-spot-kabkota",
}
#: the bundled sets of plan targets (tests/test_demo_targets.py), read from files there too
TARGET_DATASETS = {
    "target-kinerja-makro-kalsel-2014",
    "target-tpt-kalsel",
    "target-kemiskinan-kalsel",
    "target-ipm-kalsel",
    "target-gini-kalsel",
}
needs_shared = pytest.mark.skipif(
    not (BAPPEDA.is_dir() and GOVERNANCE.is_dir()),
    reason="the shared samples (../shared/sources/) are not beside the checkout",
)


def _invoke(store_url, *args):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _get(store_url, path: str) -> tuple[int, str]:
    app = create_app({"DATABASE_URL": store_url, "TESTING": True})
    try:
        response = app.test_client().get(path)
        return response.status_code, response.get_data(as_text=True)
    finally:
        app.extensions["opendata"].engine.dispose()


def _observations(store_url, dataset: str, query: str = "") -> list[dict]:
    status, text = _get(store_url, f"/api/v1/datasets/{dataset}/observations?{query}")
    assert status == 200, text
    return json.loads(text)["data"]


# --- end to end: harvest, API, CSV --------------------------------------------------------------


def test_the_bundled_catalog_serves_bappeda_next_to_bps(store_url):
    result = _invoke(store_url, "harvest", "--all", "--offline")
    assert result.exit_code == 0, result.output
    assert "harvested 16 of 16 datasets" in result.output
    status, text = _get(store_url, "/api/v1/datasets")
    sources = {d["id"]: d["source"]["id"] for d in json.loads(text)["data"]}
    assert {k for k, v in sources.items() if v == "spreadsheet"} == FILE_DATASETS | TARGET_DATASETS
    assert {k for k, v in sources.items() if v == "bps"} == {
        "garis-kemiskinan-kabkota",
        "pdrb-per-kapita-provinsi",
        "penduduk-miskin-provinsi",
        "tpt-provinsi",
    }

    # IPM 2024 (BPS, new method): Banjarbaru 81.65, Banjarmasin 80.53, Kalsel 75.19
    data = _observations(store_url, "ipm-kabkota", "region=6372,63.71,63&from=2024")
    assert [(o["region"]["code"], o["period"], o["value"], o["unit"]) for o in data] == [
        ("6300", "2024", 75.19, "Indeks"),
        ("6371", "2024", 80.53, "Indeks"),
        ("6372", "2024", 81.65, "Indeks"),
    ]
    # "Banjar" in a Kalsel table is Kabupaten Banjar (6303), and the national row is 0000
    data = _observations(store_url, "persentase-penduduk-miskin-kabkota", "region=6303,0000")
    assert [(o["region"]["code"], o["period"], o["value"]) for o in data] == [
        ("0000", "2021", 10.14),
        ("0000", "2022", 9.54),
        ("0000", "2023", 9.36),
        ("0000", "2024", 9.03),
        ("6303", "2021", 3.04),
        ("6303", "2022", 2.79),
        ("6303", "2023", 2.44),
        ("6303", "2024", 2.36),
    ]
    detail = json.loads(_get(store_url, "/api/v1/datasets/ipm-kabkota")[1])
    assert "locitaresmi/ped-kalsel-dashboard" in detail["attribution"]
    assert detail["indicators"][0]["decimals"] == 2


def test_governance_figures_come_with_their_sources(store_url):
    _invoke(store_url, "harvest", "--all", "--offline")
    # SPBE, Kota Banjarmasin 2023: 4.00 (the published decimals kept), its article in the note
    status, text = _get(
        store_url, "/api/v1/datasets/indeks-spbe/observations.csv?region=6371&from=2023&to=2023"
    )
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["region_code"], r["period"], r["value"], r["flag"]) for r in rows] == [
        ("6371", "2023", "4.00", "d")
    ]
    assert "Sangat Baik" in rows[0]["note"]
    assert "https://kalsel.antaranews.com/berita/401652/" in rows[0]["note"]
    # the weak figure says so
    hss = _observations(store_url, "indeks-spbe", "region=6306")
    assert [(o["period"], o["value"], o["flag"]) for o in hss] == [("2024", 4.09, "f")]
    assert hss[0]["note"].startswith("Keyakinan rendah-sedang")

    # blank spots: Barito Kuala 64 villages in both lists; each list is its own series
    batola = _observations(store_url, "desa-blank-spot-kabkota", "region=6304")
    assert [(o["period"], o["value"], o["dimensions"]["sumber"]["label"]) for o in batola] == [
        ("2021", 64, "Diskominfo Kalsel (MC), 8 April 2022"),
        ("2022", 64, "Kadiskominfo Kalsel (Tribun Banjarmasin), 16 Juli 2022"),
    ]
    # the Jumlah row is the province's published total (316 in 2022, 184 in 2024); the 2021
    # total was never published, so there is none
    totals = _observations(store_url, "desa-blank-spot-kabkota", "region=6300")
    assert [(o["period"], o["value"], o["flag"]) for o in totals] == [
        ("2022", 316, "a"),
        ("2024", 184, None),
    ]

    # SP4N-LAPOR: the scopes stay apart, and nothing adds them up
    lapor = _observations(store_url, "pengaduan-sp4n-lapor")
    assert {o["dimensions"]["cakupan"]["code"] for o in lapor} == {
        "se_kalimantan_selatan_lapor_paman",
        "pemprov_kalimantan_selatan_lingkup_provinsi_lapor_paman",
        "pemprov_kalimantan_selatan_sp4n_lapor",
    }
    assert {(o["period"], o["dimensions"]["status"]["code"], o["value"]) for o in lapor} >= {
        ("2023-S1", "aduan_diterima", 999),
        ("2023-S1", "aduan_ditindaklanjuti", 918),
    }
    assert not [o for o in lapor if o["dimensions"]["cakupan"]["code"] == "_T"]

    # LKjIP 2014: realisations only, footnote marks split off into flag and note
    exported = _invoke(store_url, "export", "kinerja-makro-kalsel-2014").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    found = {r["indikator_code"]: (r["value"], r["flag"], r["note"]) for r in rows}
    assert found["pertumbuhan_ekonomi"] == ("4.85", "*", "PDRB Tahun Dasar lama (2010)")
    assert found["pdrb_per_kapita_adhk"][0] == "9674468.00"
    assert found["indeks_pembangunan_manusia"] == (
        "71.74",
        "***",
        "data 2014 belum ada (data yang digunakan data tahun 2013)",
    )
    assert len(found) == 8 and {r["period"] for r in rows} == {"2014"}
    assert "6,00" not in {r["value"] for r in rows} and "6.00" not in {r["value"] for r in rows}


def test_an_unchanged_second_harvest_is_recorded_unchanged(store_url):
    _invoke(store_url, "harvest", "--all", "--offline")
    before = _observations(store_url, "desa-blank-spot-kabkota")
    result = _invoke(store_url, "harvest", "--all", "--offline")
    assert result.exit_code == 0, result.output
    runs = _invoke(store_url, "runs", "--limit", "22").output
    latest = {}
    for line in runs.splitlines():
        if line.startswith("#"):
            _number, _day, _time, dataset, status, *_ = line.split()
            latest.setdefault(dataset, status)
    assert {latest[d] for d in FILE_DATASETS} == {"unchanged"}
    assert _observations(store_url, "desa-blank-spot-kabkota") == before


# --- no invented figure: every observation traced to its source row ----------------------------


def _parse(dataset_id: str):
    spec = load_catalog(CATALOG)[dataset_id]
    harvester = SpreadsheetHarvester(load_settings(environ={}), offline=True)
    payloads = harvester.fetch(spec, keep=lambda payload: None)
    return harvester.parse(spec, payloads, RegionIndex.reference())


def _rows(path: Path, delimiter: str = ",") -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _comma(text: str) -> Decimal:
    """An Indonesian number of the LKjIP transcription: ``9.674.468,00`` -> 9674468.00."""
    return Decimal(text.replace(".", "").replace(",", "."))


@needs_shared
@pytest.mark.parametrize(
    ("dataset_id", "column"),
    [("ipm-kabkota", "ipm"), ("persentase-penduduk-miskin-kabkota", "miskin_pct")]
    + [("gini-ratio-kabkota", "gini")],
)
def test_kabkota_tables_hold_exactly_the_shared_samples_figures(dataset_id, column):
    source = _rows(BAPPEDA / "tables" / "kalsel_kesejahteraan_kabkota_2021_2024_from_bps_api.csv")
    expected = {(r["wilayah_id"], r["tahun"]): r[column] for r in source}
    records = _parse(dataset_id).records
    # digit for digit: the stored text is the sample's text (74.0 stays 74.0)
    assert {(r.region, r.period): str(r.value) for r in records} == expected
    assert {(r.flag, r.note) for r in records} == {(None, None)}


@needs_shared
def test_lkjip_realisations_are_the_transcribed_table():
    source = _rows(
        BAPPEDA / "rpjmd" / "kalsel_lkjip2014_tabel1_capaian_kinerja_makro.transcribed.csv", ";"
    )
    expected = {}
    for row in source:
        if not row["Realisasi 2014"]:
            continue  # "Rata-rata capaian": an average of achievement ratios, no realisation
        cell = row["Realisasi 2014"]
        number = cell.rstrip("*")
        expected[row["Indikator"]] = (_comma(number), cell[len(number) :] or None)
    result = _parse("kinerja-makro-kalsel-2014")
    labels = {v.code: v.label for v in result.dimensions[0].values}
    found = {
        labels[dict(r.dimensions)["indikator"]]: (r.value, r.flag)
        for r in result.records
        if r.region == "6300" and r.period == "2014"
    }
    assert found == expected
    assert len(result.records) == len(found) == 8


@needs_shared
def test_spbe_figures_are_the_collected_ones_with_their_sources():
    source = [r for r in _rows(GOVERNANCE / "spbe_kalsel.csv") if _is_number(r["index"])]
    records = _parse("indeks-spbe").records
    expected = {(_bps(r["bps_code"]), r["eval_year"]): r for r in source}
    assert {(r.region, r.period) for r in records} == set(expected)
    for record in records:
        row = expected[record.region, record.period]
        assert str(record.value) == row["index"]
        assert row["source"] in record.note
        if row["predikat"]:
            assert f"Predikat {row['predikat'].split(' (')[0]}" in record.note
        if row["confidence"].startswith("low"):
            assert record.note.startswith("Keyakinan rendah")


@needs_shared
def test_blank_spot_lists_are_the_collected_ones_each_its_own_series():
    source = _rows(GOVERNANCE / "blankspot_kalsel.csv")
    lists = {  # the sumber dimension's label -> the source rows of that list (unit: desa)
        "diskominfo_kalsel_mc_8_april_2022": lambda r: r["reference"].startswith("2021 data"),
        "kadiskominfo_kalsel_tribun_banjarmasin_16_juli_2022": lambda r: (
            r["reference"] in ("2022 (stated 15 Jul 2022)", "2022 (total)")
        ),
        "kadiskominfo_kalsel_tribun_banjarmasin_18_juli_2024": lambda r: (
            r["reference"] == "2024 (stated 17 Jul 2024)"
        ),
    }
    records = _parse("desa-blank-spot-kabkota").records
    for sumber, chosen in lists.items():
        expected = {
            (_bps(r["bps_code"]), r["reference"][:4]): r["count"]
            for r in source
            if chosen(r) and r["unit"] == "desa"
        }
        found = {
            (r.region, r.period): str(r.value)
            for r in records
            if dict(r.dimensions)["sumber"] == sumber
        }
        assert found == expected, sumber
    assert len(records) == 13 + 13 + 1 + 1


@needs_shared
def test_lapor_figures_are_the_collected_ones_scope_by_scope():
    source = _rows(GOVERNANCE / "lapor_kalsel.csv")
    url = ""
    for row in source:  # "same" means the row above's article
        url = row["source"] = url if row["source"] == "same" else row["source"]
    # (cakupan, period, status) in our file -> (scope, period, metric) as collected
    traced = {
        ("se_kalimantan_selatan_lapor_paman", "2022-S1", "aduan_diterima"): (
            "se-Kalsel (LAPOR Paman)",
            "S1 2022",
            "complaints received",
        ),
        ("se_kalimantan_selatan_lapor_paman", "2023-S1", "aduan_diterima"): (
            "se-Kalsel (LAPOR Paman)",
            "S1 2023",
            "complaints received",
        ),
        ("se_kalimantan_selatan_lapor_paman", "2023-S1", "aduan_ditindaklanjuti"): (
            "se-Kalsel (LAPOR Paman)",
            "S1 2023",
            "complaints followed up",
        ),
        ("se_kalimantan_selatan_lapor_paman", "2023-07", "aduan_diterima"): (
            "se-Kalsel (LAPOR Paman)",
            "Jul 2023",
            "complaints received",
        ),
        ("pemprov_kalimantan_selatan_lingkup_provinsi_lapor_paman", "2023", "aduan_diterima"): (
            "Pemprov Kalsel (LAPOR PAMAN, provincial scope)",
            "2023 to 28 Dec",
            "complaints received",
        ),
        ("pemprov_kalimantan_selatan_sp4n_lapor", "2024-11", "aduan_diterima"): (
            "Pemprov Kalsel",
            "Nov 2024 (month-to-date, to 28 Nov)",
            "reports received",
        ),
    }
    rows = {(r["scope"], r["period"], r["metric"]): r for r in source}
    records = _parse("pengaduan-sp4n-lapor").records
    for record in records:
        dims = dict(record.dimensions)
        key = (dims["cakupan"], record.period, dims["status"])
        if key == (
            "pemprov_kalimantan_selatan_lingkup_provinsi_lapor_paman",
            "2023",
            "aduan_ditindaklanjuti",
        ):
            # "363 (~98%) completed": stated in the same article, kept in the row's notes
            row = rows[traced[key[0], key[1], "aduan_diterima"]]
            assert row["notes"].startswith(f"{record.value} ")
        else:
            row = rows[traced[key]]
            assert str(record.value) == row["value"]
        assert row["source"] in record.note, key
        assert record.region == "6300"
    assert len(records) == len(traced) + 1


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _bps(code: str) -> str:
    """The collected rows write the province as ``63``."""
    return code + "00" if len(code) == 2 else code
