"""The region reference: codes of every system find their region, the hierarchy holds."""

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from opendata.exceptions import UnknownRegion
from opendata.regions import LEVELS, Alias, RegionIndex, RegionInfo, level_of, parent_of

REPO = Path(__file__).resolve().parents[1]
SHARED_LISTS = REPO.parent / "shared" / "sources" / "bps" / "lists"

KALSEL_REGENCIES = {
    "6301": "Kabupaten Tanah Laut",
    "6302": "Kabupaten Kotabaru",
    "6303": "Kabupaten Banjar",
    "6304": "Kabupaten Barito Kuala",
    "6305": "Kabupaten Tapin",
    "6306": "Kabupaten Hulu Sungai Selatan",
    "6307": "Kabupaten Hulu Sungai Tengah",
    "6308": "Kabupaten Hulu Sungai Utara",
    "6309": "Kabupaten Tabalong",
    "6310": "Kabupaten Tanah Bumbu",
    "6311": "Kabupaten Balangan",
    "6371": "Kota Banjarmasin",
    "6372": "Kota Banjarbaru",
}


@pytest.fixture(scope="module")
def ref():
    return RegionIndex.reference()


def test_reference_is_loaded_once(ref):
    assert RegionIndex.reference() is ref


def test_levels_of_the_reference(ref):
    counts = Counter(region.level for region in ref)
    assert counts == {"country": 1, "province": 38, "regency": 514}
    assert len(ref) == 553


def test_new_papua_provinces_are_there(ref):
    names = {code: ref.get(code).name for code in ("9200", "9500", "9600", "9700")}
    assert names == {
        "9200": "Papua Barat Daya",
        "9500": "Papua Selatan",
        "9600": "Papua Tengah",
        "9700": "Papua Pegunungan",
    }


def test_kalsel_children_carry_kemendagri_names_and_codes(ref):
    children = ref.children("6300")
    assert {region.code: region.name for region in children} == KALSEL_REGENCIES
    assert [region.code for region in children] == sorted(KALSEL_REGENCIES)
    assert {r.kemendagri_code for r in children} == {f"{c[:2]}.{c[2:]}" for c in KALSEL_REGENCIES}
    assert ref.get("6302").bps_name == "Kota Baru"


@pytest.mark.parametrize("text", ["6371", "63.71", " 63.71 "])
def test_bps_and_kemendagri_codes_find_banjarmasin(ref, text):
    region = ref.resolve(text)
    assert (region.code, region.name, region.level) == ("6371", "Kota Banjarmasin", "regency")
    assert region.parent == "6300"


@pytest.mark.parametrize("text", ["63", "6300"])
def test_bps_and_kemendagri_codes_find_the_province(ref, text):
    region = ref.resolve(text)
    assert (region.code, region.name, region.level) == (
        "6300",
        "Provinsi Kalimantan Selatan",
        "province",
    )
    assert region.kemendagri_code == "63"


def test_indonesia(ref):
    region = ref.resolve("0000")
    assert (region.name, region.level, region.parent) == ("Indonesia", "country", None)
    assert [r.code for r in ref.children("0000")] == sorted(
        r.code for r in ref if r.level == "province"
    )


def test_legacy_code_finds_the_renumbered_regency(ref):
    merauke = ref.resolve("9401")
    assert (merauke.code, merauke.name, merauke.parent) == ("9501", "Kabupaten Merauke", "9500")
    assert ref.resolve_bps("9401") == merauke
    assert ref.resolve("9171").name == "Kota Sorong"


def test_legacy_codes_are_not_canonical(ref):
    assert "9108" not in ref
    assert ref.get("9108") is None
    assert ref.resolve("9108").code == "9201"
    assert {r.code for r in ref.children("9100")}.isdisjoint({"9106", "9107", "9108", "9171"})


def test_resolve_bps_ignores_kemendagri_codes(ref):
    assert ref.resolve_bps("63") is None
    assert ref.resolve_bps("63.71") is None
    assert ref.resolve_bps("6371").name == "Kota Banjarmasin"


@pytest.mark.parametrize("text", ["9999", "", "Banjarmasin", "11.01", "637"])
def test_unknown_codes(ref, text):
    assert ref.resolve(text) is None
    with pytest.raises(UnknownRegion, match="BPS code"):
        ref.require(text)


def test_require_returns_the_region(ref):
    assert ref.require("63.72").name == "Kota Banjarbaru"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("1101", "Kabupaten Simeulue"),
        ("1171", "Kota Banda Aceh"),
        ("3202", "Kabupaten Sukabumi"),
        ("3272", "Kota Sukabumi"),
        ("1308", "Kabupaten Lima Puluh Kota"),
        ("2171", "Kota Batam"),
        ("3100", "DKI Jakarta"),
    ],
)
def test_display_names(ref, code, name):
    assert ref.get(code).name == name


def test_every_parent_exists_and_matches_the_code(ref):
    for region in ref:
        assert region.level == level_of(region.code)
        assert region.parent == parent_of(region.code)
        if region.parent is not None:
            assert region.parent in ref


def test_every_alias_resolves_to_a_canonical_region(ref):
    systems = Counter(alias.system for alias in ref.aliases)
    assert systems == {"bps-legacy": 26, "kemendagri": 14}
    for alias in ref.aliases:
        assert alias.alias not in ref
        assert ref.resolve(alias.alias) is ref.get(alias.code)


def test_with_regions_adds_a_district(ref):
    district = RegionInfo("6371010", "Banjarmasin Selatan", "district", "6371")
    index = ref.with_regions([district])
    assert index.get("6371010") == district
    assert index.children("6371") == [district]
    assert index.resolve("9401").code == "9501"
    assert len(index) == len(ref) + 1
    assert "6371010" not in ref


def test_with_regions_refuses_a_conflicting_region(ref):
    with pytest.raises(ValueError, match="6371"):
        ref.with_regions([RegionInfo("6371", "Banjarmasin", "regency", "6300")])


def test_a_small_index():
    index = RegionIndex(
        [
            RegionInfo("6300", "Kalimantan Selatan", "province", "0000"),
            RegionInfo("0000", "Indonesia", "country", None),
        ],
        [Alias("63", "kemendagri", "6300"), Alias("63.71", "kemendagri", "6371")],
    )
    assert [r.code for r in index] == ["0000", "6300"]
    assert index.resolve("63").code == "6300"
    assert index.resolve("63.71") is None
    assert index.children("6300") == []


def test_region_levels_are_checked():
    with pytest.raises(ValueError, match="level"):
        RegionInfo("6371", "Banjarmasin", "city", "6300")
    assert LEVELS == ("country", "province", "regency", "district")


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("0000", "country", None),
        ("6300", "province", "0000"),
        ("6371", "regency", "6300"),
        ("1273010", "district", "1273"),
    ],
)
def test_level_and_parent_from_the_shape_of_a_code(code, level, parent):
    assert level_of(code) == level
    assert parent_of(code) == parent


@pytest.mark.parametrize("code", ["63", "63.71", "637", "63710", "abcd", ""])
def test_shapes_that_are_not_bps_codes(code):
    with pytest.raises(ValueError):
        level_of(code)
    with pytest.raises(ValueError):
        parent_of(code)


def _build_script():
    spec = importlib.util.spec_from_file_location(
        "build_regions", REPO / "scripts" / "build_regions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_files_are_what_the_script_builds():
    if not SHARED_LISTS.is_dir():
        pytest.skip(f"{SHARED_LISTS} is absent: cannot rebuild the region reference")
    build = _build_script()
    files = build.build_files(SHARED_LISTS / "bpslooker_domain_all.json")
    for name, text in files.items():
        with open(
            REPO / "opendata" / "data" / name, encoding="utf-8", newline=""
        ) as committed_file:
            committed = committed_file.read()
        assert committed == text, f"opendata/data/{name} is stale: run scripts/build_regions.py"
