"""The capaian computation and the target/actual matching, without a store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from opendata.achievement import (
    Matcher,
    Outcome,
    Series,
    achievement,
    assess,
    ends,
    normalize_unit,
    pick_actual,
    threshold,
    units_agree,
)
from opendata.model import HIGHER, LOWER, TargetSpec

#: LKjIP 2014 Kalimantan Selatan, Tabel 1 (../shared/sources/bappeda/rpjmd/, transcribed):
#: indicator, better, target, realisation, the "% Capaian" the report printed
LKJIP_2014 = [
    ("Pertumbuhan ekonomi", HIGHER, "6.00", "4.85", "80.83"),
    ("PDRB per kapita (ADHK)", HIGHER, "9200000", "9674468.00", "105.16"),
    ("Laju inflasi", LOWER, "7.00", "7.16", "97.77"),
    ("Indeks Gini", LOWER, "0.22", "0.326", "67.48"),
    ("Tingkat pengangguran terbuka", LOWER, "6.50", "4.03", "161.29"),
    ("Tingkat kemiskinan", LOWER, "4.25", "4.81", "88.36"),
    ("Indeks Pembangunan Manusia", HIGHER, "74.00", "71.74", "96.95"),
    ("Tingkat pertumbuhan penduduk", LOWER, "1.60", "1.77", "90.40"),
]


@pytest.mark.parametrize(("name", "better", "target", "actual", "printed"), LKJIP_2014)
def test_the_lkjip_2014_capaian_come_out_as_printed(name, better, target, actual, printed):
    outcome = assess(target, None, actual, better)
    assert outcome.achievement == printed, name
    assert outcome.achieved is (Decimal(printed) >= 100)


def test_the_issue_example_a_range_met_at_its_easier_end():
    """TPT 6,0-6,9 %, lower is better, actual 4.56: 6.9 / 4.56 x 100."""
    assert assess("6.0", "6.9", "4.56", LOWER) == Outcome("6.0", "6.9", True, "151.32")


@pytest.mark.parametrize(("value", "value_to"), [("0.22", "0.18"), ("0.18", "0.22")])
def test_a_range_has_the_same_ends_in_either_order(value, value_to):
    assert ends(Decimal(value), Decimal(value_to)) == (Decimal("0.18"), Decimal("0.22"))
    # higher is better: met at the low end; lower is better: at the high end
    assert assess(value, value_to, "0.20", HIGHER) == Outcome("0.18", "0.22", True, "111.11")
    assert assess(value, value_to, "0.20", LOWER) == Outcome("0.18", "0.22", True, "110.00")
    assert assess(value, value_to, "0.17", HIGHER).achieved is False
    assert assess(value, value_to, "0.23", LOWER).achieved is False


def test_threshold_is_the_easier_end():
    low, high = Decimal("5.0"), Decimal("5.5")
    assert threshold(low, high, HIGHER) == low
    assert threshold(low, high, LOWER) == high
    with pytest.raises(ValueError, match="better"):
        threshold(low, high, "sideways")


def test_meeting_the_target_exactly_is_achieved_at_100():
    assert assess("4.25", None, "4.250", LOWER) == Outcome("4.25", "4.25", True, "100.00")
    assert assess("6", None, "6.00", HIGHER) == Outcome("6", "6", True, "100.00")


def test_rounding_is_half_up_and_exact():
    # 1/8 = 12.5 %: 0.125 x 100 = 12.50; 1/6 = 16.666..% -> 16.67; 2/3 -> 66.67
    assert achievement(Decimal("1"), Decimal("8"), HIGHER) == Decimal("12.50")
    assert achievement(Decimal("1"), Decimal("6"), HIGHER) == Decimal("16.67")
    # exactly half a cent goes up: 0.00005 / 1 x 100 = 0.005
    assert achievement(Decimal("0.00005"), Decimal("1"), HIGHER) == Decimal("0.01")
    # half a cent below zero goes away from zero too
    assert achievement(Decimal("-0.00005"), Decimal("1"), HIGHER) == Decimal("-0.01")
    # just under half a cent, with more digits than a float or the default context hold
    under = Decimal("0.0000499999999999999999999999999999999")
    assert achievement(under, Decimal("1"), HIGHER) == Decimal("0.00")


def test_dividing_by_zero_gives_no_achievement():
    assert achievement(Decimal("5"), Decimal("0"), HIGHER) is None
    assert achievement(Decimal("0"), Decimal("5"), LOWER) is None
    assert assess("0", None, "5", HIGHER) == Outcome("0", "0", True, None)
    assert assess("5", None, "0", LOWER) == Outcome("5", "5", True, None)


def test_negative_growth_against_a_growth_target():
    assert assess("6.00", None, "-2.50", HIGHER) == Outcome("6.00", "6.00", False, "-41.67")


def test_a_scale_converts_the_target_exactly():
    """The LKjIP's "juta rupiah" target against an actual in rupiah."""
    outcome = assess("9.2", None, "9674468.00", HIGHER, scale=Decimal("1000000"))
    assert outcome == Outcome("9200000.0", "9200000.0", True, "105.16")
    many = "1.23456789012345678901234567890123"  # more digits than the default context
    assert assess(many, None, None, HIGHER, scale=Decimal("1E+3")).low == (
        "1234.56789012345678901234567890123"
    )


def test_nothing_is_said_without_an_actual_a_direction_or_comparable_units():
    assert assess("6.0", "6.9", None, LOWER) == Outcome("6.0", "6.9", None, None)
    assert assess("6.0", "6.9", "4.56", None) == Outcome("6.0", "6.9", None, None)
    assert assess("6.0", "6.9", "4.56", LOWER, comparable=False) == Outcome(
        "6.0", "6.9", None, None
    )
    assert assess(None, None, "4.56", LOWER) == Outcome(None, None, None, None)


@pytest.mark.parametrize(
    ("target", "actual", "agree"),
    [
        ("Persen", "%", True),
        (" persen ", "PERCENT", True),
        ("Rp", "Rupiah", True),
        ("Rupiah/kapita/bulan", "Rp / Kapita / Bulan", True),
        ("Juta Rupiah", "Rupiah", False),
        ("Persen", "Indeks", False),
        (None, "Persen", True),
        ("Persen", None, True),
    ],
)
def test_units_are_compared_normalized(target, actual, agree):
    assert units_agree(target, actual) is agree


def test_normalized_units():
    assert normalize_unit("  Ribu   Rupiah ") == "ribu rupiah"
    assert normalize_unit("(%)") == "( % )"


D = date


def test_the_same_period_else_the_latest_within_the_target_period():
    def pick(*args):
        found = pick_actual(*args)
        return None if found is None else (found[0], found[3])

    candidates = [
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "4.8"),
        ("2024-08", D(2024, 8, 1), D(2024, 8, 31), "4.56"),
        ("2025-02", D(2025, 2, 1), D(2025, 2, 28), "4.1"),
    ]
    year = ("2024", D(2024, 1, 1), D(2024, 12, 31))
    assert pick(*year, candidates) == ("2024-08", "4.56")
    assert pick(*year, [*candidates, ("2024", D(2024, 1, 1), D(2024, 12, 31), "4.6")]) == (
        "2024",
        "4.6",
    )
    # a flagged figure does not count; nothing within the year is no actual
    flagged = [("2024-08", D(2024, 8, 1), D(2024, 8, 31), None), candidates[0]]
    assert pick(*year, flagged) == ("2024-02", "4.8")
    assert pick("2026", D(2026, 1, 1), D(2026, 12, 31), candidates) is None
    # of the periods that end last, the longest: the semester before its last month
    ends_together = [
        ("2024-12", D(2024, 12, 1), D(2024, 12, 31), "1"),
        ("2024-S2", D(2024, 7, 1), D(2024, 12, 31), "2"),
        ("2024-Q4", D(2024, 10, 1), D(2024, 12, 31), "3"),
    ]
    assert pick(*year, ends_together) == ("2024-S2", "2")
    # the rest of the chosen observation (its flag and note) comes back with it
    noted = [("2024", D(2024, 1, 1), D(2024, 12, 31), "71.74", "***", "data tahun 2013")]
    assert pick_actual(*year, noted)[4:] == ("***", "data tahun 2013")


def _series(id_, region="6300", indicator="1", unit="Persen", **dims):
    return Series(id_, region, indicator, unit, dims)


def _matcher(spec, series, units=None, totals=None):
    return Matcher("target", spec, series, units or {"1": "Persen"}, totals or {})


def test_the_only_indicator_same_region_and_the_total_are_matched():
    actual = [
        _series(10, jenis_kelamin="1"),
        _series(11, jenis_kelamin="3"),
        _series(12, region="6371", jenis_kelamin="3"),
    ]
    matcher = _matcher(TargetSpec("actual", better=LOWER), actual, totals={"jenis_kelamin": "3"})
    match = matcher.match(_series(1, indicator="T1", unit="%"))
    assert (match.actual, match.better, match.comparable, match.unit) == (11, LOWER, True, "Persen")
    assert match.warnings == ()
    assert matcher.match(_series(2, region="6371", indicator="T1")).actual == 12
    assert matcher.match(_series(3, region="6372", indicator="T1")).actual is None


def test_a_dimension_of_the_same_id_and_the_catalog_choice_win_over_the_total():
    actual = [_series(10, jenis_kelamin="1"), _series(11, jenis_kelamin="3")]
    totals = {"jenis_kelamin": "3"}
    same_slug = _matcher(TargetSpec("actual", better=LOWER), actual, totals=totals)
    assert same_slug.match(_series(1, jenis_kelamin="1")).actual == 10
    chosen = TargetSpec("actual", better=LOWER, dimensions={"jenis_kelamin": "1"})
    assert _matcher(chosen, actual, totals=totals).match(_series(1)).actual == 10


def test_a_dimension_without_a_total_or_a_choice_is_a_warning():
    actual = [_series(10, sektor="A"), _series(11, sektor="B")]
    match = _matcher(TargetSpec("actual", better=HIGHER), actual).match(_series(1))
    assert match.actual is None
    assert "pick one with target.of.dimensions ({sektor: <code>})" in match.warnings[0]


def test_the_indicator_is_the_declared_one_else_the_one_of_the_same_code():
    units = {"1": "Persen", "2": "Persen"}
    actual = [_series(10, indicator="1"), _series(20, indicator="2")]
    declared = _matcher(TargetSpec("actual", better=LOWER, indicator="2"), actual, units)
    assert declared.match(_series(1, indicator="1")).actual == 20
    same_code = _matcher(TargetSpec("actual", better=LOWER), actual, units)
    assert same_code.match(_series(1, indicator="1")).actual == 10
    none = same_code.match(_series(1, indicator="9"))
    assert none.actual is None and "name one with target.of.indicator" in none.warnings[0]
    missing = _matcher(TargetSpec("actual", better=LOWER, indicator="7"), actual, units)
    assert "actual has no indicator '7'" in missing.match(_series(1)).warnings[0]


def test_better_by_a_dimension_of_the_target():
    spec = TargetSpec("actual", better_by="indikator", better_values={"tpt": LOWER, "pe": HIGHER})
    matcher = _matcher(spec, [_series(10)])
    assert matcher.match(_series(1, indikator="tpt")).better == LOWER
    assert matcher.match(_series(2, indikator="pe")).better == HIGHER
    unknown = matcher.match(_series(3, indikator="ipm"))
    assert unknown.better is None
    assert "declares no better for indikator = ipm" in unknown.warnings[0]


def test_units_that_differ_are_not_compared_unless_a_scale_converts():
    actual = [_series(10, unit="Rupiah")]
    units = {"1": "Rupiah"}
    differ = _matcher(TargetSpec("actual", better=HIGHER), actual, units).match(
        _series(1, unit="Juta Rupiah")
    )
    assert (differ.actual, differ.comparable, differ.unit) == (10, False, "Rupiah")
    assert "'Juta Rupiah'" in differ.warnings[0] and "declare target.scale" in differ.warnings[0]
    scaled = TargetSpec("actual", better=HIGHER, scale=Decimal(1000000))
    match = _matcher(scaled, actual, units).match(_series(1, unit="Juta Rupiah"))
    assert (match.comparable, match.unit, match.target_unit) == (True, "Rupiah", "Juta Rupiah")
    assert match.warnings == ()


def test_before_the_actual_dataset_is_harvested_the_target_keeps_its_own_unit():
    matcher = Matcher("target", TargetSpec("actual", better=LOWER), None, {}, {})
    match = matcher.match(_series(1, unit="Persen"))
    assert (match.actual, match.unit, match.better, match.warnings) == (None, "Persen", LOWER, ())
    spec = TargetSpec("actual", better=LOWER, scale=Decimal(1000))
    scaled = Matcher("target", spec, None, {}, {})
    assert scaled.match(_series(1, unit="Juta Rupiah")).unit is None


def test_a_tiny_negative_achievement_is_zero_not_minus_zero():
    assert achievement(Decimal("-1.5"), Decimal("1000000"), HIGHER) == Decimal("0.00")
    assert str(achievement(Decimal("-1.5"), Decimal("1000000"), HIGHER)) == "0.00"


def test_a_dimension_or_value_the_actual_dataset_lacks_is_never_replaced_by_the_total():
    actual = [_series(10, jk="1"), _series(11, jk="3")]
    totals = {"jk": "3"}
    misspelt = TargetSpec("actual", better=LOWER, dimensions={"jenis_kelamin": "1"})
    match = _matcher(misspelt, actual, totals=totals).match(_series(1))
    assert match.actual is None
    assert "actual has no dimension 'jenis_kelamin'" in match.warnings[0]
    assert "it has: jk" in match.warnings[0]
    wrong_code = TargetSpec("actual", better=LOWER, dimensions={"jk": "laki-laki"})
    match = _matcher(wrong_code, actual, totals=totals).match(_series(1))
    assert (
        match.actual is None and "no value 'laki-laki' of its dimension 'jk'" in match.warnings[0]
    )
    own_code = _matcher(TargetSpec("actual", better=LOWER), actual, totals=totals)
    match = own_code.match(_series(1, jk="L"))  # the target's own code, absent from the actual
    assert match.actual is None and "(of the target; it has: 1, 3)" in match.warnings[0]
