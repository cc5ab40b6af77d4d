"""Regions named in words resolve to their BPS codes, or fail together with every name and why.

The store plays no part here (matching is pure: names and the region reference in, codes out), so
these tests run once, not per store. The shared samples are read in place and skipped, saying
why, where ``../shared/`` is absent.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from opendata import region_names
from opendata.exceptions import UnknownRegion
from opendata.region_names import NameMatchError, match_regions
from opendata.regions import RegionIndex, RegionInfo

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "sources"
TABLES = SHARED / "bappeda" / "tables"
BPS_RESPONSES = SHARED / "bps" / "responses"


@pytest.fixture(scope="module")
def ref() -> RegionIndex:
    return RegionIndex.reference()


def one(name: str, ref: RegionIndex, **kwargs) -> str | None:
    return match_regions([name], ref, **kwargs)[0]


def problems(names, ref, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(NameMatchError) as caught:
        match_regions(names, ref, **kwargs)
    return caught.value.problems


def _body(path: Path) -> dict:
    """A recorded BPS response: the body itself, or wrapped with its request as ``body``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("body", data)


def shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared samples live beside the clone)")
    return path


# --- the reference's own names --------------------------------------------------------------


def test_every_reference_name_resolves_alone_to_its_region(ref):
    wrong = {r.code: one(r.name, ref) for r in ref if one(r.name, ref) != r.code}
    assert wrong == {}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Kabupaten Banjar", "6303"),
        ("  kabupaten   banjar ", "6303"),
        ("KAB. BANJAR", "6303"),
        ("Kab.Banjar", "6303"),
        ("Kab Banjar", "6303"),
        ("kab banjar", "6303"),
        ("Kota Banjarmasin", "6371"),
        ("KOTA BANJARMASIN", "6371"),
        ("Kot. Banjarmasin", "6371"),
        ("Kotamadya Banjarmasin", "6371"),
        ("Banjarmasin", "6371"),
        ("Provinsi Kalimantan Selatan", "6300"),
        ("Prov. Kalimantan Selatan", "6300"),
        ("KALIMANTAN SELATAN", "6300"),
        ("Kalimantan\u00a0Selatan", "6300"),
        ("KEP. BANGKA BELITUNG", "1900"),
        ("Kep, Bangka Belitung", "1900"),
        ("KEP, RIAU", "2100"),
        ("KEP. RIAU", "2100"),
        ("Kepulauan Riau", "2100"),
        ("DKI JAKARTA", "3100"),
        ("D.K.I. Jakarta", "3100"),
        ("DI YOGYAKARTA", "3400"),
        ("D.I. YOGYAKARTA", "3400"),
        ("D I YOGYAKARTA", "3400"),
        ("DIY", "3400"),
        ("NUSA TENGGARA BARAT", "5200"),
        ("NTB", "5200"),
        ("S I A K", "1405"),
        ("Siak", "1405"),
        ("Kota Sawah Lunto", "1373"),
        ("Kota Administrasi Jakarta Pusat", "3173"),
        ("Kabupaten Administrasi Kepulauan Seribu", "3101"),
        ("INDONESIA", "0000"),
        ("Indonesia", "0000"),
    ],
)
def test_case_spacing_punctuation_and_prefixes_are_normalised(ref, name, code):
    assert one(name, ref) == code


# --- Kabupaten Banjar (6303) and Kota Banjar (3279) --------------------------------------------


def test_kota_matches_only_a_city_and_kab_only_a_regency(ref):
    assert one("Kota Banjar", ref) == "3279"
    assert one("KOTA BANJAR", ref) == "3279"
    assert one("Kab. Banjar", ref) == "6303"
    assert one("Kabupaten Banjar", ref) == "6303"


def test_a_bare_name_of_a_kabupaten_and_a_kota_is_ambiguous_without_context(ref):
    [(name, why)] = problems(["Banjar"], ref)
    assert name == "Banjar"
    assert "Kota Banjar (3279)" in why and "Kabupaten Banjar (6303)" in why


def test_a_prefix_of_the_wrong_kind_matches_nothing_and_says_what_would(ref):
    [(name, why)] = problems(["Kab. Banjarmasin"], ref)
    assert name == "Kab. Banjarmasin"
    assert "no kabupaten" in why and "Kota Banjarmasin (6371)" in why
    [(_, why)] = problems(["Kota Tanah Laut"], ref)
    assert "no kota" in why and "Kabupaten Tanah Laut (6301)" in why


# --- Kalimantan Selatan's traps -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Kota Baru", "6302"),  # BPS's own name for Kabupaten Kotabaru: not a city
        ("KOTA BARU", "6302"),
        ("Kotabaru", "6302"),
        ("KOTABARU", "6302"),
        ("Kab. Kotabaru", "6302"),
        ("Kabupaten Kota Baru", "6302"),
        ("Kota Banjar Baru", "6372"),
        ("KOTA BANJAR BARU", "6372"),
        ("Banjar Baru", "6372"),
        ("Banjarbaru", "6372"),
        ("Kota Banjarbaru", "6372"),
        ("Batola", "6304"),
        ("BATOLA", "6304"),
        ("Kab. Batola", "6304"),
        ("HSS", "6306"),
        ("HST", "6307"),
        ("HSU", "6308"),
        ("Kab. HSU", "6308"),
        ("Tanbu", "6310"),
        ("Kalsel", "6300"),
        ("Prov. Kalsel", "6300"),
    ],
)
def test_kalsel_traps(ref, name, code):
    assert one(name, ref) == code
    assert one(name, ref, within="6300") == code


def test_kota_baru_is_never_taken_for_a_city(ref):
    codes = match_regions(["KALIMANTAN SELATAN", "Kota Baru", "Kota Banjarmasin"], ref)
    assert codes == ["6300", "6302", "6371"]


def test_variants_are_data_each_with_where_it_is_seen(ref):
    with open(region_names.VARIANTS, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows and all(row["seen"].strip() for row in rows)
    assert {"Kota Baru", "Batola", "HSS", "HST", "HSU", "Tanbu"} <= {row["name"] for row in rows}
    for row in rows:
        assert ref.get(row["code"]) is not None, row
    # no variant makes a reference name ambiguous (the first test), and each names its region
    # under its province's heading, in a table that writes its cities "Kota ..."
    for row in rows:
        province = ref.get(row["code"]).parent or row["code"]
        heading = [ref.get(province).name] if province != "0000" else []
        names = [*heading, row["name"], "Kota Banjarmasin"]
        assert match_regions(names, ref)[-2] == row["code"], row
    # bare, a former name may also be a city's: Kabupaten Pontianak is Mempawah since 2014
    [(_, why)] = problems(["Pontianak"], ref)
    assert "Kabupaten Mempawah (6104)" in why and "Kota Pontianak (6171)" in why


# --- province headings give the context ------------------------------------------------------


def test_gorontalo_under_gorontalo_is_the_kabupaten_and_kota_gorontalo_the_city(ref):
    names = ["GORONTALO", "Boalemo", "Gorontalo", "Pohuwato", "Kota Gorontalo"]
    assert match_regions(names, ref) == ["7500", "7501", "7502", "7503", "7571"]


def test_in_an_upper_case_table_the_second_gorontalo_is_still_the_kabupaten(ref):
    names = ["GORONTALO", "GORONTALO", "POHUWATO", "KOTA GORONTALO"]
    assert match_regions(names, ref) == ["7500", "7502", "7503", "7571"]


def test_upper_case_is_a_hint_for_headings_in_a_mixed_case_table(ref):
    names = ["SULAWESI UTARA", "Kota Manado", "GORONTALO", "Gorontalo", "Kota Gorontalo"]
    assert match_regions(names, ref) == ["7100", "7171", "7500", "7502", "7571"]
    # the heading repeated in upper case inside its own block is the province again
    names = ["GORONTALO", "Gorontalo", "Kota Gorontalo", "GORONTALO"]
    assert match_regions(names, ref) == ["7500", "7502", "7571", "7500"]


def test_a_heading_need_not_be_upper_case(ref):
    names = ["Gorontalo", "Gorontalo", "Kota Gorontalo", "Jawa Barat", "Bogor", "Kota Bogor"]
    assert match_regions(names, ref) == ["7500", "7502", "7571", "3200", "3201", "3271"]


def test_a_province_name_outside_its_block_is_the_province(ref):
    assert one("Gorontalo", ref) == "7500"
    assert one("Jambi", ref) == "1500"
    assert match_regions(["SULAWESI TENGGARA", "Kota Kendari", "GORONTALO"], ref)[-1] == "7500"


def test_a_name_resolves_within_the_province_above_it(ref):
    names = ["JAWA BARAT", "Banjar", "KALIMANTAN SELATAN", "Banjar"]
    assert match_regions(names, ref) == ["3200", "3279", "6300", "6303"]


def test_indonesia_ends_the_province_context(ref):
    names = ["KALIMANTAN SELATAN", "Banjar", "INDONESIA", "Banjar"]
    [(name, why)] = problems(names, ref)
    assert name == "Banjar" and "Kota Banjar (3279)" in why


def test_a_bare_name_is_the_kabupaten_only_where_the_table_writes_its_cities_with_kota(ref):
    assert match_regions(["JAWA BARAT", "Bogor", "Kota Bandung"], ref)[1] == "3201"
    [(name, why)] = problems(["JAWA BARAT", "Bogor"], ref)
    assert name == "Bogor" and "Kabupaten Bogor (3201)" in why and "Kota Bogor (3271)" in why
    assert match_regions(["Bogor", "Kota Bogor"], ref, within="3200") == ["3201", "3271"]
    assert match_regions(["GORONTALO", "GORONTALO", "KOTA GORONTALO"], ref, within="7500") == [
        "7500",
        "7502",
        "7571",
    ]


# --- Papua: regencies that moved in 2022 keep resolving under the old headings ---------------


def test_moved_regencies_resolve_to_their_current_codes_under_the_old_papua_heading(ref):
    names = ["PAPUA", "Merauke", "Jayapura", "Kota Jayapura", "Nabire", "Jayawijaya"]
    assert match_regions(names, ref) == ["9400", "9501", "9403", "9471", "9604", "9702"]


def test_moved_regencies_resolve_under_the_old_papua_barat_heading(ref):
    names = ["PAPUA BARAT", "Manokwari", "Sorong", "Kota Sorong", "Raja Ampat"]
    assert match_regions(names, ref) == ["9100", "9105", "9202", "9271", "9201"]


def test_within_an_old_papua_province_admits_the_regencies_it_had(ref):
    assert one("Merauke", ref, within="9400") == "9501"
    assert one("Merauke", ref, within="9500") == "9501"
    [(_, why)] = problems(["Merauke"], ref, within="9100")
    assert "Kabupaten Merauke (9501)" in why


# --- within ----------------------------------------------------------------------------------


def test_within_limits_names_to_a_region_and_those_under_it(ref):
    assert one("Banjar", ref, within="6300") == "6303"
    assert one("BANJAR", ref, within="3200") == "3279"
    assert one("Kalimantan Selatan", ref, within="6300") == "6300"
    assert one("Banjar", ref, within="63") == "6303"  # a Kemendagri code names the province too


def test_within_says_which_region_outside_it_has_the_name(ref):
    [(name, why)] = problems(["Kota Banjar"], ref, within="6300")
    assert name == "Kota Banjar"
    assert "within Provinsi Kalimantan Selatan (6300)" in why and "Kota Banjar (3279)" in why


def test_within_an_unknown_code_is_refused(ref):
    with pytest.raises(UnknownRegion, match="6399"):
        match_regions(["Banjar"], ref, within="6399")


# --- aliases ---------------------------------------------------------------------------------


def test_aliases_win_over_everything(ref):
    assert one("Banjar", ref, aliases={"Banjar": "3279"}, within="6300") == "3279"
    assert one("KAB  BANJAR", ref, aliases={"Kab. Banjar": "3279"}) == "3279"
    assert one("Kab. Tanah Laut (Pelaihari)", ref, aliases={"Kab. Tanah Laut (Pelaihari)": "6301"})
    assert one("Kabupaten Banjar", ref, aliases={"kabupaten banjar": "63.03"}) == "6303"
    assert one("Merauke lama", ref, aliases={"Merauke lama": "9401"}) == "9501"


def test_an_alias_to_a_province_sets_the_context(ref):
    names = ["Prop. Kalimantan Selatan", "Banjar"]
    assert match_regions(names, ref, aliases={"Prop. Kalimantan Selatan": "6300"}) == [
        "6300",
        "6303",
    ]


def test_an_alias_to_no_region_is_reported_with_the_other_names(ref):
    found = problems(["Banjar", "Tanah Laut"], ref, aliases={"Tanah Laut": "6399"})
    assert [name for name, _ in found] == ["Banjar", "Tanah Laut"]
    assert "6399" in found[1][1]


# --- errors ----------------------------------------------------------------------------------


def test_every_unmatched_and_ambiguous_name_is_listed_once_in_one_error(ref):
    names = ["Tanah Laut", "Banjar", "Atlantis", "Kota Tanah Laut", "Atlantis", "", "Banjar"]
    with pytest.raises(NameMatchError) as caught:
        match_regions(names, ref)
    found = caught.value.problems
    assert [name for name, _ in found] == ["Banjar", "Atlantis", "Kota Tanah Laut"]
    assert "no region has this name" in found[1][1]
    message = str(caught.value)
    assert message.startswith("3 region name(s) could not be matched")
    for text in ("'Banjar'", "Kota Banjar (3279)", "'Atlantis'", "'Kota Tanah Laut'"):
        assert text in message
    assert "table.region.aliases" in message


def test_blank_names_give_none(ref):
    assert match_regions(["", "   ", "Tapin"], ref) == [None, None, "6305"]


# --- an index of one's own, and the cache -------------------------------------------------------


def test_an_index_with_districts_resolves_their_names_within_their_regency(ref):
    districts = [
        RegionInfo("6371010", "Banjarmasin Selatan", "district", "6371"),
        RegionInfo("6372010", "Landasan Ulin", "district", "6372"),
    ]
    index = ref.with_regions(districts)
    assert match_regions(["Landasan Ulin", "Banjarmasin Selatan"], index) == [
        "6372010",
        "6371010",
    ]
    [(_, why)] = problems(["Landasan Ulin"], index, within="6371")
    assert "Landasan Ulin (6372010)" in why


def test_the_normalised_index_is_built_once_per_region_index(ref):
    first = region_names._names(ref)
    assert region_names._names(ref) is first
    other = ref.with_regions([])
    assert region_names._names(other) is not first


def test_a_name_repeated_down_a_long_table_is_resolved_once_per_context(ref, monkeypatch):
    calls = []
    resolve = region_names._Names.resolve

    def counting(self, *args, **kwargs):
        calls.append(args)
        return resolve(self, *args, **kwargs)

    monkeypatch.setattr(region_names._Names, "resolve", counting)
    block = ["KALIMANTAN SELATAN", *(r.name for r in ref.children("6300"))]
    codes = match_regions(block * 700, ref)  # 9,800 rows
    assert codes[:3] == ["6300", "6301", "6302"] and len(codes) == 9800
    assert len(calls) <= 2 * len(block)


# --- the shared samples, as they are ----------------------------------------------------------


def test_kesejahteraan_csv_every_name_resolves_to_its_wilayah_id(ref):
    path = shared(TABLES / "kalsel_kesejahteraan_kabkota_2021_2024_from_bps_api.csv")
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 60
    codes = match_regions([row["wilayah"] for row in rows], ref)
    assert codes == [row["wilayah_id"] for row in rows]


def test_ipm_provinsi_xlsx_every_province_name_resolves(ref):
    import openpyxl

    path = shared(TABLES / "bps_ipm_provinsi_2010_2021_studentclean.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        cells = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    finally:
        book.close()
    names = [cell for cell in cells if cell]
    codes = match_regions(names, ref)
    before_2022 = {r.code for r in ref if r.level == "province"} - {"9200", "9500", "9600", "9700"}
    assert len(names) == 35 and set(codes) == before_2022 | {"0000"}
    assert dict(zip(names, codes, strict=True))["KEP. BANGKA BELITUNG"] == "1900"
    assert dict(zip(names, codes, strict=True))["KALIMANTAN SELATAN"] == "6300"


def test_sumbar_xlsx_every_sheet_resolves_its_padded_names_to_its_code_column(ref):
    import openpyxl

    path = shared(TABLES / "sumbar_ipm_components_kabkota_2022_multisheet.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheets = {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}
    finally:
        book.close()
    expected = None
    for title, rows in sheets.items():
        if title == "UHH":  # no code column: names in column A
            continue
        pairs = [(row[1], f"{int(row[0])}") for row in rows[2:] if row[0] is not None]
        codes = match_regions([name for name, _ in pairs], ref)
        assert codes == [code for _, code in pairs], title
        expected = codes
    names = [row[0] for row in sheets["UHH"][1:] if row[0]]
    assert match_regions(names, ref) == expected
    assert expected[3] == "1303" and "1372" in expected  # Solok under its heading; Kota Solok


def test_kalsel_semicolon_files_resolve_within_kalsel_and_banjar_alone_is_ambiguous(ref):
    expected = {
        "TANAH LAUT": "6301",
        "KOTABARU": "6302",
        "BANJAR": "6303",
        "BARITO KUALA": "6304",
        "TAPIN": "6305",
        "HULU SUNGAI TENGAH": "6307",
        "HULU SUNGAI UTARA": "6308",
        "TABALONG": "6309",
        "TANAH BUMBU": "6310",
        "BALANGAN": "6311",
        "KOTA BANJARMASIN": "6371",
        "KOTA BANJAR BARU": "6372",
    }
    for stem in ("rls", "apm"):
        [path] = shared(TABLES).glob(f"kalsel_{stem}_*_semicolon.csv")
        with open(path, encoding="utf-8", newline="") as file:
            names = [row["Wilayah"] for row in csv.DictReader(file, delimiter=";")]
        assert match_regions(names, ref, within="6300") == [expected[n] for n in names]
        [(name, why)] = problems(names, ref)
        assert name == "BANJAR" and "Kota Banjar (3279)" in why


def test_bps_region_list_with_province_headings_resolves_every_label_to_its_code(ref):
    path = shared(BPS_RESPONSES / "cekkemiskinan_0000_var624_garis_kemiskinan_2025.json")
    vervar = _body(path)["vervar"]
    # BPS marks its headings up as <b>ACEH</b>; a spreadsheet of the table shows them bold
    labels = [re.sub(r"<[^>]+>", "", v["label"]) for v in vervar]
    codes = match_regions(labels, ref)
    wrong = {
        label: (code, f"{v['val']:04d}")
        for label, code, v in zip(labels, codes, vervar, strict=True)
        if code != f"{v['val']:04d}"
    }
    assert len(labels) == 552 and wrong == {}


def test_bps_province_lists_resolve_and_their_indonesia_is_0000(ref):
    path = shared(BPS_RESPONSES / "nusaintel_0000_var543_tpt_agustus_2023-2025.json")
    vervar = _body(path)["vervar"]
    codes = match_regions([v["label"] for v in vervar], ref)
    assert codes == [f"{v['val']:04d}" if v["val"] != 9999 else "0000" for v in vervar]


def test_the_rules_version_follows_the_variants_file(tmp_path, monkeypatch):
    current = region_names.rules_version()
    assert current.startswith(f"{region_names.RULES}.")
    changed = tmp_path / "variants.csv"
    changed.write_bytes(region_names.VARIANTS.read_bytes() + b"Tala,6301,news\n")
    monkeypatch.setattr(region_names, "VARIANTS", changed)
    region_names.rules_version.cache_clear()
    try:
        assert region_names.rules_version() != current
    finally:
        region_names.rules_version.cache_clear()
