"""SDMX conformance: the shared real samples (``../shared/sources/bappeda/sdmx/``), read in place.

Each quirk SOURCES.md lists for them has a test. Where the shared folder is absent the tests
skip, saying why.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.harvesters.test_sdmx_formats import harvest, spec_of

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "sources" / "bappeda" / "sdmx"
U5MR_CSV = "unicef_cme_u5mr_all_2020.sdmx.csv"
SERIES_KEYS = "unicef_cme_serieskeys_IDN.excerpt.xml"


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the shared SDMX samples are not here: {SHARED}")
    return SHARED


def test_unicef_csv_gives_indonesias_under_five_mortality_exactly(shared, regions):
    """Full-precision figures keep every digit; LOWER_BOUND/UPPER_BOUND are attributes."""
    result = harvest(spec_of(shared, path=U5MR_CSV), regions)
    assert [(r.region, r.period, r.dimensions, r.value, r.flag) for r in result.records] == [
        ("0000", "2020", (("sex", "F"),), Decimal("20.4278156220471"), None),
        ("0000", "2020", (("sex", "M"),), Decimal("25.0475199585074"), None),
        ("0000", "2020", (("sex", "_T"),), Decimal("22.7879767553902"), None),
    ]


def test_unicef_csv_label_columns_give_names_and_quoted_labels_stay_whole(shared, regions):
    """Code and label columns interleave (``SEX,Sex``); ``"Deaths per 1,000 live births"``."""
    result = harvest(spec_of(shared, path=U5MR_CSV), regions)
    [indicator] = result.indicators
    assert (indicator.code, indicator.name, indicator.unit) == (
        "CME_MRY0T4",
        "Under-five mortality rate",
        "Deaths per 1,000 live births",
    )
    [sex] = result.dimensions
    assert (sex.id, sex.label) == ("sex", "Sex")
    assert [(v.code, v.label, v.is_total) for v in sex.values] == [
        ("F", "Female", False),
        ("M", "Male", False),
        ("_T", "Total", True),
    ]


def test_unicef_csv_other_countries_are_skipped_and_counted(shared, regions):
    result = harvest(spec_of(shared, path=U5MR_CSV), regions)
    [message] = result.messages
    assert message.startswith("skipped 744 observation(s) of 248 area(s) not in sdmx.region.map")


def test_unicef_csv_empty_attribute_cells_are_no_notes(shared, regions):
    """Empty COUNTRY_NOTES and REF_PERIOD give nothing; OBS_STATUS A is no flag."""
    result = harvest(spec_of(shared, path=U5MR_CSV), regions)
    assert {(r.flag, r.note) for r in result.records} == {(None, None)}


def test_unicef_csv_a_sex_not_kept_must_be_selected(shared, regions):
    result = harvest(spec_of(shared, path=U5MR_CSV, dimensions=[], select={"SEX": "_T"}), regions)
    assert [(r.dimensions, r.value) for r in result.records] == [((), Decimal("22.7879767553902"))]


def test_unicef_series_keys_without_observations_are_no_data(shared, regions):
    """A series-keys answer lists 88 <Series> of Indonesia and no <Obs>: nothing to store."""
    result = harvest(spec_of(shared, path=SERIES_KEYS), regions)
    assert result.no_data
    assert result.messages == [
        f"{SERIES_KEYS}: no observation (88 series keys without observations)"
    ]
