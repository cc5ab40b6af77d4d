"""``frequency=``: the periods of one frequency (or several) of a series that mixes them."""

from __future__ import annotations

import csv
import io

import pytest

OBS = "/api/v1/datasets/demo/observations"


def _periods(response) -> list[str]:
    return [o["period"] for o in response.json["data"]]


@pytest.mark.parametrize(
    ("frequency", "kept"),
    [
        ("monthly", {"2024-08", "2024-01"}),
        ("quarterly", {"2024-Q1", "2024-Q3"}),
        ("semiannual", {"2024-S2"}),
        ("annual", {"2023", "2024"}),
        ("monthly,quarterly", {"2024-08", "2024-01", "2024-Q1", "2024-Q3"}),
    ],
)
def test_only_the_periods_of_the_frequencies_asked_for(client, frequency, kept):
    everything = client.get(f"{OBS}?limit=1000").json["data"]
    page = client.get(f"{OBS}?frequency={frequency}&limit=1000")
    assert page.status_code == 200
    assert set(_periods(page)) == kept
    expected = [o for o in everything if o["period"] in kept]  # same rows, same order
    assert page.json["data"] == expected
    rows = list(csv.DictReader(io.StringIO(client.get(f"{OBS}.csv?frequency={frequency}").text)))
    assert [(r["region_code"], r["period"]) for r in rows] == [
        (o["region"]["code"], o["period"]) for o in expected
    ]


def test_repeated_is_a_list_and_the_cursor_is_bound_to_it(client):
    repeated = client.get(f"{OBS}?frequency=monthly&frequency=annual&limit=1000").json["data"]
    listed = client.get(f"{OBS}?frequency=monthly,annual&limit=1000").json["data"]
    assert repeated == listed
    first = client.get(f"{OBS}?frequency=monthly&limit=1").json
    assert first["next"]
    other = first["next"].replace("frequency=monthly", "frequency=annual")
    assert client.get(other).status_code == 400  # a cursor of other filters


def test_it_combines_with_latest_and_names_the_download(client):
    latest = client.get(f"{OBS}?frequency=quarterly&latest=1&region=6371&limit=1000")
    assert _periods(latest) == ["2024-Q3"]
    csv_download = client.get(f"{OBS}.csv?frequency=monthly")
    assert "frequency-monthly" in csv_download.headers["Content-Disposition"]


@pytest.mark.parametrize("value", ["yearly", "", "monthly,", "MONTHLY"])
def test_an_unknown_frequency_is_a_400_naming_the_four(client, value):
    response = client.get(f"{OBS}?frequency={value}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "frequency" in response.json["errors"]
