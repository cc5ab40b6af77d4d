"""SDMX: periods, flags, units, regions and dimensions, decided as docs/harvesters.md says.

Each test writes a small SDMX-CSV file (the format is the same for the decoder whatever the
message's format) and harvests it offline.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from harvesters.exceptions import ParseError
from harvesters.sdmx_decode import period_of, unit_text
from opendata.model import ParseResult
from tests.harvesters.test_sdmx_formats import harvest, spec_of

HEADER = "REF_AREA,INDICATOR,SEX,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS"


def run(tmp_path: Path, regions, rows: list[str], header: str = HEADER, **query) -> ParseResult:
    (tmp_path / "data.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return harvest(spec_of(tmp_path, path="data.csv", **query), regions)


# --- TIME_PERIOD ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2024", "2024"),
        ("2024-A1", "2024"),
        ("2024-S2", "2024-S2"),
        ("2024-Q1", "2024-Q1"),
        ("2024-08", "2024-08"),
        ("2024-M08", "2024-08"),
    ],
)
def test_time_periods_become_the_stores_periods(text, period):
    assert period_of(text, "f.csv") == period


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("2024-W05", "weekly"),
        ("2024-08-15", "daily"),
        ("2024-D228", "daily"),
        ("2024-T2", "four-monthly"),
        ("2024-01-01/P1Y", "a time range"),
        ("2024-13", "not a period"),
    ],
)
def test_weeks_days_and_ranges_are_refused_naming_the_period(text, kind):
    with pytest.raises(ParseError, match=rf"f\.csv: TIME_PERIOD '{text}' is {kind}"):
        period_of(text, "f.csv")


def test_a_weekly_observation_fails_the_run_naming_file_and_period(tmp_path, regions):
    with pytest.raises(ParseError, match=r"data\.csv: TIME_PERIOD '2024-W05' is weekly"):
        run(tmp_path, regions, ["IDN,X,_T,2024-W05,1,,,A"])


# --- OBS_VALUE and OBS_STATUS -----------------------------------------------------------------


def test_status_codes_are_flags_and_values_stay_exact(tmp_path, regions):
    rows = [
        "IDN,X,_T,2015,7.10,,,A",
        "IDN,X,_T,2016,683244,,,",
        "IDN,X,_T,2017,1.50E-2,,,P",
        "IDN,X,_T,2018,,,,M",
        "IDN,X,_T,2019,NaN,,,L",
        "IDN,X,_T,2020,,,,C",
        "IDN,X,_T,2021,,,,",
        "IDN,X,_T,2022,n/a,,,",
        "IDN,X,_T,2023,-3,,,E",
    ]
    result = run(tmp_path, regions, rows)
    assert [(r.period, r.value, r.flag, r.note) for r in result.records] == [
        ("2015", Decimal("7.10"), None, None),
        ("2016", Decimal("683244"), None, None),
        ("2017", Decimal("0.0150"), "P", None),
        ("2018", None, "M", None),
        ("2019", None, "L", None),
        ("2020", None, "C", None),
        ("2021", None, "L", None),  # no value, no status: not available
        ("2022", None, "L", "n/a"),  # text that is no number: kept as the note
        ("2023", Decimal("-3"), "E", None),
    ]
    assert str(result.records[0].value) == "7.10"


def test_a_status_longer_than_a_flag_fails(tmp_path, regions):
    with pytest.raises(ParseError, match=r"OBS_STATUS 'ESTIMATED_BY_NSO_' is longer than 16"):
        run(tmp_path, regions, ["IDN,X,_T,2020,1,,,ESTIMATED_BY_NSO_"])


# --- UNIT_MEASURE, UNIT_MULT, DECIMALS --------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "multiplier", "text"),
    [
        ("Persons", None, "Persons"),
        ("Persons", "0", "Persons"),
        ("Persons", "3", "Persons (thousands)"),
        ("Rupiah", "9", "Rupiah (billions)"),
        ("Rupiah", "-2", "Rupiah (× 10^-2)"),
        (None, "6", "millions"),
        (None, None, None),
    ],
)
def test_the_unit_says_the_multiplier(measure, multiplier, text):
    assert unit_text(measure, multiplier, "f.csv") == text


def test_unit_mult_is_said_in_the_unit_and_values_are_not_multiplied(tmp_path, regions):
    result = run(tmp_path, regions, ["IDN,POP,_T,2020,270203.9,PS,3,A"])
    [indicator] = result.indicators
    assert indicator.unit == "PS (thousands)"
    assert result.records[0].value == Decimal("270203.9")


def test_an_indicator_in_two_units_fails_naming_them(tmp_path, regions):
    rows = ["IDN,POP,_T,2019,270,PS,6,A", "IDN,POP,_T,2020,270203,PS,3,A"]
    with pytest.raises(ParseError, match=r"indicator POP has observations in several units "):
        run(tmp_path, regions, rows)


def test_the_catalogs_unit_replaces_the_sources(tmp_path, regions):
    rows = ["IDN,POP,_T,2019,270,PS,6,A", "IDN,POP,_T,2020,270203,PS,3,A"]
    result = run(tmp_path, regions, rows, indicator={"dimension": "INDICATOR", "unit": "Jiwa"})
    assert result.indicators[0].unit == "Jiwa"


def test_decimals_are_the_indicators_published_decimals(tmp_path, regions):
    header = HEADER + ",DECIMALS"
    result = run(tmp_path, regions, ["IDN,X,_T,2019,1.50,,,A,2"], header=header)
    assert result.indicators[0].decimals == 2


# --- regions ----------------------------------------------------------------------------------


def test_areas_map_to_regions_of_any_code_system(tmp_path, regions):
    rows = ["KS,X,_T,2020,1,,,", "BJM,X,_T,2020,2,,,", "IDN,X,_T,2020,3,,,"]
    result = run(
        tmp_path, regions, rows, region={"map": {"KS": "63", "BJM": "63.71", "IDN": "0000"}}
    )
    assert [r.region for r in result.records] == ["6300", "6371", "0000"]


def test_areas_not_in_the_map_are_skipped_and_said(tmp_path, regions):
    rows = ["IDN,X,_T,2020,1,,,", "MYS,X,_T,2020,2,,,", "MYS,X,_T,2021,2,,,", "SGP,X,_T,2020,3,,,"]
    result = run(tmp_path, regions, rows)
    assert [r.region for r in result.records] == ["0000"]
    assert result.messages == [
        "skipped 3 observation(s) of 2 area(s) not in sdmx.region.map: MYS, SGP"
    ]


def test_no_area_of_the_map_in_the_message_fails_listing_its_areas(tmp_path, regions):
    rows = ["MYS,X,_T,2020,2,,,", "SGP,X,_T,2020,3,,,"]
    with pytest.raises(
        ParseError,
        match=r"no observation is of an area in sdmx.region.map \(IDN\); "
        r"the message's REF_AREA codes are MYS, SGP",
    ):
        run(tmp_path, regions, rows)


def test_a_map_to_an_unknown_region_fails_naming_the_key(tmp_path, regions):
    with pytest.raises(ParseError, match=r"sdmx\.region\.map\.IDN: no region has code '9999'"):
        run(tmp_path, regions, ["IDN,X,_T,2020,1,,,"], region={"map": {"IDN": "9999"}})


def test_one_region_for_a_message_without_areas(tmp_path, regions):
    header = "INDICATOR,SEX,TIME_PERIOD,OBS_VALUE"
    result = run(tmp_path, regions, ["X,_T,2020,1"], header=header, region={"code": "6300"})
    assert [r.region for r in result.records] == ["6300"]


def test_a_region_dimension_the_message_lacks_fails(tmp_path, regions):
    header = "GEO,INDICATOR,SEX,TIME_PERIOD,OBS_VALUE"
    with pytest.raises(
        ParseError,
        match=r"sdmx.region.dimension REF_AREA is not a dimension of the message "
        r"\(it has GEO, INDICATOR, SEX\)",
    ):
        run(tmp_path, regions, ["IDN,X,_T,2020,1"], header=header)


def test_another_area_dimension(tmp_path, regions):
    header = "GEO,INDICATOR,SEX,TIME_PERIOD,OBS_VALUE"
    query = {"region": {"dimension": "GEO", "map": {"ID": "0000"}}}
    result = run(tmp_path, regions, ["ID,X,_T,2020,1"], header=header, **query)
    assert [r.region for r in result.records] == ["0000"]


# --- indicators and dimensions ----------------------------------------------------------------


def test_each_indicator_code_is_an_indicator(tmp_path, regions):
    result = run(tmp_path, regions, ["IDN,B,_T,2020,1,,,", "IDN,A,_T,2020,2,,,"])
    assert [i.code for i in result.indicators] == ["B", "A"]


def test_a_declared_indicator_needs_a_single_valued_indicator_dimension(tmp_path, regions):
    rows = ["IDN,B,_T,2020,1,,,", "IDN,A,_T,2020,2,,,"]
    indicator = {"code": "u5mr", "name": "Angka kematian balita"}
    with pytest.raises(
        ParseError, match=r"dimension INDICATOR has several values \(B, A\) but is not kept"
    ):
        run(tmp_path, regions, rows, indicator=indicator)
    result = run(tmp_path, regions, rows[:1], indicator=indicator)
    assert [(i.code, i.name) for i in result.indicators] == [("u5mr", "Angka kematian balita")]
    assert result.records[0].indicator == "u5mr"


def test_a_message_without_an_indicator_dimension_asks_for_one(tmp_path, regions):
    header = "REF_AREA,SEX,TIME_PERIOD,OBS_VALUE"
    with pytest.raises(
        ParseError,
        match=r"the message has no INDICATOR dimension \(it has REF_AREA, SEX\): "
        r"declare sdmx.indicator",
    ):
        run(tmp_path, regions, ["IDN,_T,2020,1"], header=header)


def test_a_dimension_not_kept_with_several_values_fails(tmp_path, regions):
    rows = ["IDN,X,F,2020,1,,,", "IDN,X,M,2020,2,,,"]
    with pytest.raises(
        ParseError,
        match=r"dimension SEX has several values \(F, M\) but is not kept: "
        r"list it in sdmx.dimensions, pick values with sdmx.select",
    ):
        run(tmp_path, regions, rows, dimensions=[])


def test_select_keeps_the_chosen_codes(tmp_path, regions):
    rows = ["IDN,X,F,2020,1,,,", "IDN,X,M,2020,2,,,", "IDN,X,_T,2020,3,,,"]
    result = run(tmp_path, regions, rows, dimensions=[], select={"SEX": "_T"})
    assert [(r.dimensions, r.value) for r in result.records] == [((), Decimal("3"))]
    result = run(tmp_path, regions, rows, select={"SEX": ["F", "M"]})
    assert [r.value for r in result.records] == [Decimal("1"), Decimal("2")]


def test_select_of_a_component_no_observation_has_fails(tmp_path, regions):
    with pytest.raises(ParseError, match=r"sdmx.select names SEXX, which no observation has"):
        run(tmp_path, regions, ["IDN,X,F,2020,1,,,"], select={"SEXX": "_T"})


def test_a_kept_dimension_gets_the_catalogs_id_and_label(tmp_path, regions):
    dimensions = [{"dimension": "SEX", "id": "jenis_kelamin", "label": "Jenis kelamin"}]
    result = run(tmp_path, regions, ["IDN,X,F,2020,1,,,"], dimensions=dimensions)
    [dimension] = result.dimensions
    assert (dimension.id, dimension.label) == ("jenis_kelamin", "Jenis kelamin")
    assert result.records[0].dimensions == (("jenis_kelamin", "F"),)


def test_a_kept_dimension_the_message_lacks_fails(tmp_path, regions):
    with pytest.raises(
        ParseError,
        match=r"sdmx.dimensions names AGE, which is not a dimension of the message "
        r"\(it has REF_AREA, INDICATOR, SEX\)",
    ):
        run(tmp_path, regions, ["IDN,X,F,2020,1,,,"], dimensions=["AGE"])


def test_two_observations_of_one_cell_with_different_values_fail(tmp_path, regions):
    header = "REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,SOURCE_DETAIL"
    rows = ["IDN,X,2020,1,a", "IDN,X,2020,2,b"]
    with pytest.raises(
        ParseError, match=r"two observations give X 0000 2020 .*different values \(1 and 2\)"
    ):
        run(tmp_path, regions, rows, header=header, dimensions=[], select={})


def test_the_same_observation_twice_is_one_record(tmp_path, regions):
    rows = ["IDN,X,_T,2020,1,,,", "IDN,X,_T,2020,1,,,"]
    assert len(run(tmp_path, regions, rows).records) == 1


def test_comments_are_notes(tmp_path, regions):
    header = "REF_AREA,INDICATOR,SEX,TIME_PERIOD,OBS_VALUE,OBS_COMMENT,COMMENT_OBS"
    result = run(tmp_path, regions, ["IDN,X,_T,2020,1,Provisional figure,Revised"], header=header)
    assert result.records[0].note == "Provisional figure; Revised"


def test_a_message_without_observations_is_no_data(tmp_path, regions):
    result = run(tmp_path, regions, [])
    assert result.no_data
    assert result.messages == ["data.csv: no observation"]
