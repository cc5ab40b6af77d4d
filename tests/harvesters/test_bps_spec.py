"""The ``bps:`` section of catalog entries, and the windows of years it asks in."""

from __future__ import annotations

import pytest

from harvesters import get_harvester
from harvesters.bps import BPSHarvester, BPSQuery, max_years, parse_query, th_param, windows
from opendata.catalog import load_spec
from opendata.exceptions import CatalogError
from tests.harvesters.conftest import make_spec


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"domain": "0000", "var": 2263, "years": 2024}, BPSQuery("0000", 2263, (2024,))),
        ({"domain": 6300, "var": 1, "years": "2024"}, BPSQuery("6300", 1, (2024,))),
        (
            {"domain": "6371", "var": 1, "years": "2020-2022"},
            BPSQuery("6371", 1, (2020, 2021, 2022)),
        ),
        ({"domain": "0000", "var": 5, "years": "2020-"}, BPSQuery("0000", 5, (), 2020)),
        ({"domain": "0000", "var": 5, "years": [2024, 2019]}, BPSQuery("0000", 5, (2019, 2024))),
    ],
)
def test_valid_queries(tmp_path, query, expected):
    assert parse_query(make_spec(tmp_path, **query)) == expected
    BPSHarvester.validate_spec(make_spec(tmp_path, **query))


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"domain": "63", "var": 1, "years": 2024}, "bps.domain must be a BPS domain"),
        ({"domain": 0, "var": 1, "years": 2024}, "bps.domain"),
        ({"domain": True, "var": 1, "years": 2024}, "bps.domain"),
        ({"domain": "0000", "var": 0, "years": 2024}, "bps.var must be a positive whole number"),
        ({"domain": "0000", "var": "543", "years": 2024}, "bps.var"),
        ({"domain": "0000", "var": True, "years": 2024}, "bps.var"),
        ({"domain": "0000", "var": 1, "years": "2024-2020"}, "runs backwards"),
        ({"domain": "0000", "var": 1, "years": 1899}, "1900 or later"),
        ({"domain": "0000", "var": 1, "years": "1850-"}, "1900 or later"),
        ({"domain": "0000", "var": 1, "years": "last five"}, "not a year or a range"),
        ({"domain": "0000", "var": 1, "years": []}, "empty"),
        ({"domain": "0000", "var": 1, "years": [2020, 2020]}, "listed twice"),
        ({"domain": "0000", "var": 1, "years": 20.5}, "not a year"),
        ({"domain": "0000", "var": 1}, "bps.years is missing"),
        ({"domain": "0000", "var": 1, "years": 2024, "yaers": 1}, "unknown key(s) yaers"),
    ],
)
def test_invalid_queries_name_the_file_and_key(tmp_path, query, words):
    spec = make_spec(tmp_path, **query)
    with pytest.raises(CatalogError) as caught:
        BPSHarvester.validate_spec(spec)
    assert str(spec.path) in str(caught.value)
    assert words in str(caught.value)


def test_dimension_overrides_must_name_bps_axes(tmp_path):
    spec = make_spec(tmp_path, dimensions={"rows": "sektor"}, domain="0000", var=1, years=2024)
    with pytest.raises(CatalogError, match="dimensions: unknown key"):
        BPSHarvester.validate_spec(spec)


def test_the_catalog_loader_validates_through_the_registry(tmp_path):
    path = tmp_path / "tpt.yaml"
    path.write_text(
        "id: tpt\ntitle: TPT\nsource: bps\nbps: {domain: 0000, var: 543, years: 2023-2025}\n",
        encoding="utf-8",
    )
    spec = load_spec(path)
    get_harvester(spec.source).validate_spec(spec)
    assert parse_query(spec) == BPSQuery("0000", 543, (2023, 2024, 2025))


def test_windows_and_th():
    assert max_years("0000") == 3 and max_years("6300") == 2 and max_years("6371") == 2
    assert windows([2018, 2019, 2020, 2021], 3) == [(2018, 2019, 2020), (2021,)]
    assert th_param((2023, 2024, 2025)) == "123:125"
    assert th_param((2024,)) == "124"
    assert th_param((2019, 2024)) == "119;124"
    assert th_param((2019, 2020, 2024)) == "119;120;124"
