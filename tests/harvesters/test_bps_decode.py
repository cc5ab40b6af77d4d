"""The BPS decoder on our own fixtures (tests/fixtures/bps/, written by us in BPS's format)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from harvesters.bps import BPSHarvester
from harvesters.bps_decode import WIB
from harvesters.bps_labels import (
    Item,
    cell_value,
    clean_notes,
    display_name,
    is_total,
    period_of,
    slugify,
)
from harvesters.exceptions import ParseError
from opendata.model import CONFIDENTIAL, FLAGS, MAX_FLAG_LENGTH, MISSING, NOT_AVAILABLE, Region
from opendata.store import schema as t
from tests.harvesters.conftest import FIXTURES, load_exact, make_spec, payload

URL = "https://webapi.bps.go.id/v1/api/list?model=data&domain={}&var={}&th=124&lang=ind&key=***"


def fixture(name: str) -> dict:
    """A fixture's body; its numbers keep their exact text (see conftest.payload)."""
    return load_exact((FIXTURES / name).read_text(encoding="utf-8"))


def parse(tmp_path, regions, domain, var, *bodies, dimensions=None, models=None):
    spec = make_spec(tmp_path, domain=domain, var=var, years=2024, dimensions=dimensions)
    models = models or ["data"] * len(bodies)
    payloads = [
        payload(body, URL.format(domain, var), model)
        for body, model in zip(bodies, models, strict=True)
    ]
    return BPSHarvester({}).parse(spec, payloads, regions)


# --- keys -------------------------------------------------------------------------------------


def test_a_key_two_combinations_build_is_ambiguous(tmp_path, regions):
    with pytest.raises(ParseError, match="ambiguous datacontent key 11111240") as caught:
        parse(tmp_path, regions, "0000", 1, fixture("ambiguous_keys.json"))
    message = str(caught.value)
    assert "(vervar 1, turvar 11, tahun 124, turtahun 0)" in message
    assert "(vervar 11, turvar 1, tahun 124, turtahun 0)" in message


def test_an_ambiguous_key_without_a_cell_is_harmless(tmp_path, regions):
    body = fixture("ambiguous_keys.json")
    del body["datacontent"]["11111240"]
    result = parse(tmp_path, regions, "0000", 1, body)
    assert [(r.dimensions, r.value) for r in result.records] == [
        ((("kelompok", "1"), ("kolom", "1")), Decimal("5"))
    ]


def test_a_key_no_combination_builds_fails(tmp_path, regions):
    with pytest.raises(ParseError, match="1 datacontent key.*63005430124191"):
        parse(tmp_path, regions, "0000", 543, fixture("unknown_key.json"))


def test_a_body_about_another_var_fails(tmp_path, regions):
    with pytest.raises(ParseError, match="var 543, not var 544"):
        parse(tmp_path, regions, "0000", 544, fixture("unknown_key.json"))


# --- rows -------------------------------------------------------------------------------------


def test_an_unknown_regency_under_a_known_province_is_added(tmp_path, regions):
    result = parse(tmp_path, regions, "6300", 700, fixture("new_regency.json"))
    assert [r.region for r in result.records] == ["6301", "6312", "6300"]
    assert result.regions == [Region("6312", "Kabupaten Baru Selatan", "regency", "6300")]
    assert len(result.messages) == 1 and "6312" in result.messages[0]
    assert result.dimensions == []


def test_html_header_rows_keep_their_values_and_legacy_codes_map(tmp_path, regions):
    result = parse(tmp_path, regions, "0000", 624, fixture("html_header_rows.json"))
    cells = {(r.region, r.period): r.value for r in result.records}
    assert len(result.records) == 8
    assert cells[("6300", "2025")] == Decimal("650675.10")  # the bold header row
    assert str(cells[("6371", "2025")]) == "752092.00"  # exact text, trailing zeros kept
    assert cells[("9501", "2025")] == Decimal("517764")  # legacy Merauke 9401
    assert cells[("0000", "2024")] == Decimal("582932")  # 9999: Indonesia
    assert result.regions == [] and result.dimensions == []
    assert [(r.region, r.period) for r in result.records][:3] == [
        ("6300", "2024"),
        ("6300", "2025"),
        ("6302", "2025"),
    ]


def test_districts_get_seven_digit_codes_and_names(tmp_path, regions):
    result = parse(tmp_path, regions, "6371", 32, fixture("districts_with_categories.json"))
    assert [r.code for r in result.regions] == ["6371010", "6371020"]
    assert result.regions[0] == Region("6371010", "Banjarmasin Selatan", "district", "6371")
    assert {r.region for r in result.records} == {"6371010", "6371020", "6371"}
    (sex,) = result.dimensions
    assert sex.id == "jenis_kelamin" and [v.is_total for v in sex.values] == [False, False, True]
    assert result.messages  # the slug was guessed; the operator is told


def test_known_districts_are_not_added_again(tmp_path, regions):
    from opendata.regions import RegionInfo

    known = regions.with_regions([RegionInfo("6371010", "Banjarmasin Selatan", "district", "6371")])
    result = parse(tmp_path, known, "6371", 32, fixture("districts_with_categories.json"))
    assert [r.code for r in result.regions] == ["6371020"]


def test_categories_with_a_total_row(tmp_path, regions):
    result = parse(tmp_path, regions, "6300", 610, fixture("categories_with_total.json"))
    (sector,) = result.dimensions  # the lone "Tahun" column is no dimension
    assert (sector.id, sector.label) == ("lapangan_usaha", "Lapangan Usaha")
    assert [(v.code, v.is_total) for v in sector.values] == [
        ("1", False),
        ("2", False),
        ("9999", True),
    ]
    assert {r.region for r in result.records} == {"6300"}
    periods = [r.period for r in result.records if r.dimensions == (("lapangan_usaha", "1"),)]
    assert periods == ["2025-S1", "2025-S2", "2025-Q1", "2025-Q2", "2025-Q3", "2025"]


def test_a_vervar_slug_override_wins(tmp_path, regions):
    body = fixture("categories_with_total.json")
    result = parse(tmp_path, regions, "6300", 610, body, dimensions={"vervar": "sektor"})
    assert result.dimensions[0].id == "sektor"
    assert result.records[0].dimensions == (("sektor", "1"),)


def test_rows_that_mix_regions_and_categories_fail(tmp_path, regions):
    body = fixture("categories_with_total.json")
    body["vervar"].append({"val": 6301, "label": "Tanah Laut"})
    with pytest.raises(ParseError, match="mix categories and regions.*6301"):
        parse(tmp_path, regions, "6300", 610, body)


# --- columns ----------------------------------------------------------------------------------


def _two_columns():
    body = fixture("unknown_key.json")
    body["turvar"] = [
        {"val": 530, "label": "Harga Berlaku"},
        {"val": 531, "label": "Harga Konstan"},
    ]
    body["turtahun"] = [{"val": 0, "label": "Tahun"}]
    body["datacontent"] = {"63005435301240": 1.5, "63005435311240": 2}
    return body


def test_the_turvar_group_names_the_columns(tmp_path, regions):
    group = {
        "status": "OK",
        "data-availability": "available",
        "data": [{"page": 1, "pages": 1}, [{"turvar_id": 530, "name_group_turvar": "Harga"}]],
    }
    result = parse(tmp_path, regions, "0000", 543, _two_columns(), group, models=["data", "turvar"])
    (price,) = result.dimensions
    assert (price.id, price.label) == ("harga", "Harga")
    assert [r.dimensions for r in result.records] == [(("harga", "530"),), (("harga", "531"),)]
    assert result.messages == []


def test_a_turvar_list_that_is_not_available_falls_back_to_a_guess(tmp_path, regions):
    missing = {"status": "OK", "data-availability": "list-not-available", "data": ""}
    result = parse(
        tmp_path, regions, "0000", 543, _two_columns(), missing, models=["data", "turvar"]
    )
    assert result.dimensions[0].id == "harga"
    assert "guessed" in result.messages[0]


def test_a_turvar_override_wins(tmp_path, regions):
    result = parse(tmp_path, regions, "0000", 543, _two_columns(), dimensions={"turvar": "basis"})
    assert result.dimensions[0].id == "basis" and result.messages == []


def test_a_derived_id_that_would_repeat_a_csv_column_gets_dim(tmp_path, regions):
    body = fixture("categories_with_total.json")
    body["labelvervar"] = "Value"  # the rows' id would be "value", a fixed column
    body["turvar"] = [{"val": 1040, "label": "Region Utara"}, {"val": 1041, "label": "Region X"}]
    result = parse(tmp_path, regions, "6300", 610, body)  # the columns' guess: "region"
    assert [d.id for d in result.dimensions] == ["value_dim", "region_dim"]
    assert [d.label for d in result.dimensions] == ["Value", "Region"]
    assert {r.dimensions[0][0] for r in result.records} == {"value_dim"}
    assert any(
        "'value' would repeat a CSV column" in m and "'value_dim'" in m for m in result.messages
    )
    assert any("'region' would repeat a CSV column" in m for m in result.messages)


def test_a_derived_id_yields_to_the_other_dimensions_columns(tmp_path, regions):
    body = fixture("categories_with_total.json")
    body["labelvervar"] = "Harga"
    body["turvar"] = [
        {"val": 1040, "label": "Harga Code A"},
        {"val": 1041, "label": "Harga Code B"},
    ]
    result = parse(tmp_path, regions, "6300", 610, body)  # rows "harga", columns "harga_code"
    assert [d.id for d in result.dimensions] == ["harga", "harga_code_dim"]
    result = parse(tmp_path, regions, "6300", 610, body, dimensions={"turvar": "sektor_code"})
    assert [d.id for d in result.dimensions] == ["harga", "sektor_code"]
    # the catalog's id wins: the derived one moves
    result = parse(tmp_path, regions, "6300", 610, body, dimensions={"turvar": "harga_code"})
    assert [d.id for d in result.dimensions] == ["harga_dim", "harga_code"]


def test_a_catalog_id_that_would_repeat_a_csv_column_fails_the_parse(tmp_path, regions):
    # the catalog refuses it first; a spec that skipped the catalog still cannot store it
    body = fixture("categories_with_total.json")
    with pytest.raises(ParseError, match="'region' would repeat a CSV column.*dimensions.vervar"):
        parse(tmp_path, regions, "6300", 610, body, dimensions={"vervar": "region"})


def test_columns_without_any_name_are_turvar(tmp_path, regions):
    body = _two_columns()
    body["turvar"] = [{"val": 530, "label": "Berlaku"}, {"val": 531, "label": "Konstan"}]
    result = parse(tmp_path, regions, "0000", 543, body)
    assert result.dimensions[0].id == "turvar"
    assert "dimensions.turvar" in result.messages[0]


# --- values, periods, indicator ---------------------------------------------------------------


def test_cells_without_a_number_say_why_in_the_flag(tmp_path, regions):
    result = parse(tmp_path, regions, "6371", 1, fixture("non_numeric_cells.json"))
    cells = {r.period: (r.value, r.flag, r.note) for r in result.records}
    assert len(result.records) == 13  # no cell is dropped
    assert cells["2024-01"] == (None, "M", None)  # "-": nil
    assert cells["2024-02"] == (None, "L", None)  # "…": not available
    assert cells["2024-03"] == (None, None, None)  # "": an empty cell, as null
    assert cells["2024-04"] == (Decimal("12.50"), None, None)
    assert cells["2024-05"] == (None, None, None)
    assert str(cells["2024-06"][0]) == "7.10"
    assert cells["2024-07"] == (None, "L", "1,5")  # text, not a number: kept in the note
    assert cells["2024-08"] == (Decimal("-0.19"), None, None)
    assert cells["2024-09"] == (Decimal("0.01"), None, None)
    assert cells["2024-10"] == (None, "C", None)  # "x": confidential
    assert cells["2024-11"] == (None, "L", None)  # "...": not available
    assert cells["2024-12"] == (None, "*", None)  # a mark of the source's own
    assert str(cells["2024"][0]) == "2.860"
    assert [r.period for r in result.records][-2:] == ["2024-12", "2024"]


@pytest.mark.parametrize(
    ("cell", "flag", "note"),
    [
        ("-", "M", None),
        (" - ", "M", None),
        ("\u2013", "M", None),  # en dash
        ("\u2014", "M", None),  # em dash
        ("--", "M", None),
        ("\u2026", "L", None),  # the ellipsis character
        ("...", "L", None),
        ("..", "L", None),
        ("NA", "L", None),
        ("n/a", "L", None),
        ("x", "C", None),
        ("X", "C", None),
        ("*", "*", None),
        ("**", "**", None),
        ("r", "r", None),
        ("e", "e", None),
        ("(p)", "(p)", None),
        ("abcdefghijklmnop", "abcdefghijklmnop", None),  # 16 characters: still a mark
        ("abcdefghijklmnopq", "L", "abcdefghijklmnopq"),  # 17: too long for the flag
        ("1,5", "L", "1,5"),  # a digit: a number we cannot read, never a mark
        ("12.5*", "L", "12.5*"),
        ("tidak tersedia", "L", "tidak tersedia"),  # words: text, not a mark
        ("", None, None),
        ("   ", None, None),
        (None, None, None),
        (True, "L", "true"),
    ],
)
def test_the_flag_vocabulary(cell, flag, note):
    assert cell_value(cell) == (None, flag, note)


def test_a_number_has_no_flag():
    assert cell_value(" 12.50 ") == (Decimal("12.50"), None, None)
    assert cell_value(Decimal("-0.19")) == (Decimal("-0.19"), None, None)
    assert cell_value(7) == (Decimal(7), None, None)


def test_flags_fit_the_store_and_name_the_vocabulary():
    assert set(FLAGS) == {MISSING, NOT_AVAILABLE, CONFIDENTIAL} == {"M", "L", "C"}
    assert MAX_FLAG_LENGTH == t.observation.c.flag.type.length


def test_the_indicator_says_what_the_table_measures(tmp_path, regions):
    result = parse(tmp_path, regions, "0000", 624, fixture("html_header_rows.json"))
    (indicator,) = result.indicators
    assert indicator.code == "624"
    assert indicator.name == "Garis Kemiskinan Menurut Kabupaten/Kota"
    assert indicator.unit == "Rupiah/kapita/bulan" and indicator.decimals == 2
    assert indicator.definition == "Garis kemiskinan: nilai pengeluaran minimum"
    assert indicator.notes == "Catatan:\n- Angka 2025 & 2024 sementara\n- Sumber: Susenas"
    assert indicator.subject == "Kemiskinan dan Ketimpangan"
    assert indicator.source_ref == (
        "https://webapi.bps.go.id/v1/api/list?model=data&domain=0000&var=624"
    )
    # BPS writes Jakarta time without an offset: 13:45:51 WIB is 06:45:51 UTC
    assert indicator.source_last_update == datetime(2025, 12, 1, 13, 45, 51, tzinfo=WIB)
    assert indicator.source_last_update == datetime(2025, 12, 1, 6, 45, 51, tzinfo=UTC)


def test_windows_merge_and_equal_cells_count_once(tmp_path, regions):
    first = fixture("html_header_rows.json")
    second = fixture("html_header_rows.json")
    second["last_update"] = "2026-01-05 00:00:00"
    result = parse(tmp_path, regions, "0000", 624, first, second)
    assert len(result.records) == 8
    assert result.indicators[0].source_last_update == datetime(2026, 1, 5, tzinfo=WIB)


def test_windows_that_disagree_on_a_cell_fail(tmp_path, regions):
    first = fixture("html_header_rows.json")
    second = fixture("html_header_rows.json")
    second["datacontent"]["637162401250"] = 1
    with pytest.raises(ParseError, match="6371 2025 different values"):
        parse(tmp_path, regions, "0000", 624, first, second)


def test_windows_that_disagree_on_a_flag_fail_naming_both(tmp_path, regions):
    first = fixture("html_header_rows.json")
    second = fixture("html_header_rows.json")
    first["datacontent"]["637162401250"] = "-"
    second["datacontent"]["637162401250"] = "x"
    with pytest.raises(ParseError, match="= flag 'M', key 637162401250 = flag 'C'"):
        parse(tmp_path, regions, "0000", 624, first, second)
    second["datacontent"]["637162401250"] = "\u2013"  # an en dash is nil too: the same cell
    assert parse(tmp_path, regions, "0000", 624, first, second).records


def test_an_unknown_sub_period_fails_naming_it(tmp_path, regions):
    body = fixture("unknown_key.json")
    body["turtahun"] = [{"val": 190, "label": "Musim Hujan"}]
    del body["datacontent"]["63005430124191"]
    with pytest.raises(ParseError, match="'Musim Hujan'"):
        parse(tmp_path, regions, "0000", 543, body)


def test_parse_is_stable(tmp_path, regions):
    body = fixture("categories_with_total.json")
    assert parse(tmp_path, regions, "6300", 610, body) == parse(
        tmp_path, regions, "6300", 610, body
    )


def test_no_data_everywhere_is_no_data(tmp_path, regions):
    missing = {"status": "OK", "data-availability": "list-not-available", "data": ""}
    empty = fixture("unknown_key.json") | {"datacontent": {}}
    result = parse(tmp_path, regions, "0000", 543, missing, empty)
    assert result.no_data and result.records == [] and result.indicators == []
    spec = make_spec(tmp_path, domain="0000", var=1, years=2024)
    assert BPSHarvester({}).parse(spec, [], regions).no_data


def test_error_bodies_do_not_parse(tmp_path, regions):
    with pytest.raises(ParseError, match="null"):
        parse(tmp_path, regions, "0000", 543, None)
    with pytest.raises(ParseError, match="re-check"):
        parse(tmp_path, regions, "0000", 543, {"status": "Error", "message": "re-check your key"})
    with pytest.raises(ParseError, match="not JSON"):
        parse(tmp_path, regions, "0000", 543, b"<html></html>")


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "period"),
    [
        ("Tahun", "2024"),
        ("Tahunan", "2024"),
        ("Januari", "2024-01"),
        ("Pebruari", "2024-02"),
        ("Agustus", "2024-08"),
        ("December", "2024-12"),
        ("Semester 1 (Maret)", "2024-S1"),
        ("Semester II", "2024-S2"),
        ("Triwulan I", "2024-Q1"),
        ("Triwulan IV", "2024-Q4"),
        ("Triwulan 3", "2024-Q3"),
        ("Quarter 2", "2024-Q2"),
    ],
)
def test_sub_periods_map_by_meaning(label, period):
    assert period_of(2024, Item("999", label)) == period


def test_notes_become_plain_lines():
    note = (
        "<p>Data 2011-2013 menggunakan Backcast                    <br />Sumber: Sakernas  "
        "<br /><br /></p><p><br /></p>"
    )
    assert clean_notes(note) == "Data 2011-2013 menggunakan Backcast\nSumber: Sakernas"
    assert clean_notes("") is None and clean_notes("<p><br /></p>") is None
    assert clean_notes("- a\n<br>- b") == "- a\n- b"


def test_names_slugs_and_totals():
    assert display_name("SIANTAR MARIHAT") == "Siantar Marihat"
    assert display_name("KOTO XI TARUSAN") == "Koto XI Tarusan"
    assert display_name("<b>Kota Baru</b>") == "Kota Baru"
    assert slugify("Jenis Korban ") == "jenis_korban"
    assert slugify("38 Provinsi") == "provinsi"
    assert slugify("Lapangan usaha 17 Kategori") == "lapangan_usaha_17_kategori"
    assert all(is_total(x) for x in ("Jumlah", "TOTAL", "Laki-Laki + Perempuan"))
    assert not is_total("Perempuan")


def test_seven_digit_rows_under_a_known_regency_are_districts(tmp_path, regions):
    body = fixture("new_regency.json")
    body["vervar"] = [{"val": 6371010, "label": "BANJARMASIN SELATAN"}]
    body["datacontent"] = {"637101070001240": 160000}
    result = parse(tmp_path, regions, "6300", 700, body)
    assert result.regions == [Region("6371010", "Banjarmasin Selatan", "district", "6371")]
    assert [r.region for r in result.records] == ["6371010"]


def test_payloads_without_parameters_are_told_apart_by_their_body(tmp_path, regions):
    group = {
        "status": "OK",
        "data-availability": "available",
        "data": [{"page": 1, "pages": 1}, [{"turvar_id": 530, "name_group_turvar": "Harga"}]],
    }
    spec = make_spec(tmp_path, domain="0000", var=543, years=2024)
    payloads = [payload(_two_columns()), payload(group)]
    payloads = [replace(p, params={}) for p in payloads]
    result = BPSHarvester({}).parse(spec, payloads, regions)
    assert result.dimensions[0].id == "harga" and result.messages == []
