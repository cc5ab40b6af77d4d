"""``format=`` and ``Accept`` on ``/observations``: the same answers as each format's own URL.

Each negotiated format answers exactly what its URL answers (body and headers, ETag aside: the
URLs differ), ``format=`` wins over ``Accept``, an unknown format is a 400 and an ``Accept``
naming nothing served a 406; two representations of one URL never share an ETag or a cached
body, and every answer says ``Vary: Accept``. On both stores.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from opendata.api import negotiate
from opendata.api.xlsx import XLSX
from opendata.formats import sdmx as sdmx_format
from tests.api import test_schemathesis
from tests.api.test_schemathesis import served  # noqa: F401 - a fixture

URL = "/api/v1/datasets/demo/observations"
QUERY = "region=6371,6372&from=2024"
SDMX_ML = "application/vnd.sdmx.structurespecificdata+xml"
SDMX_CSV = "application/vnd.sdmx.data+csv"

#: headers that name the URL or the moment, not the representation
URL_HEADERS = {"etag", "vary", "content-length"}


def headers(response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers if k.lower() not in URL_HEADERS}


def vary(response) -> set[str]:
    return {v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()}


@pytest.mark.parametrize(
    ("name", "suffix"), [("csv", ".csv"), ("jsonstat", ".jsonstat"), ("xlsx", ".xlsx")]
)
def test_a_format_answers_what_its_own_url_answers(client, name, suffix):
    own = client.get(f"{URL}{suffix}?{QUERY}")
    negotiated = client.get(f"{URL}?{QUERY}&format={name}")
    assert negotiated.status_code == own.status_code == 200
    # the negotiated URL says its language whatever the format (some formats have titles)
    language = headers(negotiated).pop("content-language")
    assert own.headers.get("Content-Language", language) == language
    assert {k: v for k, v in headers(negotiated).items() if k != "content-language"} == {
        k: v for k, v in headers(own).items() if k != "content-language"
    }
    if name == "xlsx":  # a workbook's zip has the time it was written: compare the cells
        sheets = [openpyxl.load_workbook(io.BytesIO(r.get_data())) for r in (own, negotiated)]
        mine, theirs = ([list(ws.iter_rows(values_only=True)) for ws in book] for book in sheets)
        assert mine == theirs
    else:
        assert negotiated.get_data() == own.get_data()
    assert "Accept" in vary(negotiated)


@pytest.mark.parametrize(
    ("accept", "name"),
    [
        ("text/csv", "csv"),
        (XLSX, "xlsx"),
        (SDMX_ML, "sdmx-ml"),
        (f"{SDMX_ML};version=2.1", "sdmx-ml"),
        (SDMX_CSV, "sdmx-csv"),
        (f"{SDMX_CSV};version=1.0.0", "sdmx-csv"),
        ("application/json", "json"),
        ("*/*", "json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "json"),
        ("text/*;q=0.5, application/json;q=0.4", "csv"),
    ],
)
def test_accept_selects_the_same_as_format(client, accept, name):
    by_accept = client.get(f"{URL}?{QUERY}", headers={"Accept": accept})
    by_format = client.get(f"{URL}?{QUERY}&format={name}")
    assert by_accept.status_code == by_format.status_code == 200
    assert by_accept.mimetype == by_format.mimetype
    if name != "xlsx":
        assert by_accept.get_data() == by_format.get_data()
    assert "Accept" in vary(by_accept)


def test_no_accept_is_json_and_format_wins_over_accept(client):
    assert client.get(URL).mimetype == "application/json"
    response = client.get(f"{URL}?format=csv", headers={"Accept": "application/json"})
    assert response.mimetype == "text/csv"
    response = client.get(f"{URL}?format=json", headers={"Accept": "text/csv"})
    assert response.mimetype == "application/json"


def test_the_sdmx_media_types_are_sent_with_their_version(client):
    assert client.get(f"{URL}?format=sdmx-ml").headers["Content-Type"] == sdmx_format.DATA_TYPE
    assert client.get(f"{URL}?format=sdmx-csv").headers["Content-Type"] == sdmx_format.CSV_TYPE


def test_an_accept_naming_nothing_served_is_a_406_listing_the_choices(client):
    for accept in ("image/png", f"{SDMX_CSV};version=2.0.0", "application/xml"):
        response = client.get(URL, headers={"Accept": accept})
        assert response.status_code == 406, accept
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert set(problem["formats"]) == set(negotiate.FORMATS)
        assert "text/csv" in problem["media_types"]
        assert "format=" in problem["detail"]
        assert "Accept" in vary(response)


def test_an_unknown_format_is_a_400_naming_the_choices(client):
    response = client.get(f"{URL}?format=parquet")
    assert response.status_code == 400
    message = " ".join(response.get_json()["errors"]["format"])
    for name in negotiate.FORMATS:
        assert name in message


def test_a_format_ignores_the_json_paging_and_refuses_what_its_own_url_refuses(client):
    for name, suffix in (("csv", ".csv"), ("jsonstat", ".jsonstat"), ("sdmx-csv", "")):
        paged = client.get(f"{URL}?format={name}&limit=1&region=6371")
        assert paged.status_code == 200, name
        whole = client.get(
            f"{URL}{suffix}?region=6371" + ("&format=sdmx-csv" if not suffix else "")
        )
        assert paged.get_data() == whole.get_data()  # a download is whole
    assert client.get(f"{URL}.csv?limit=1").status_code == 400  # as its own URL says
    assert client.get(f"{URL}?format=csv&updated_after=2000-01-01").status_code == 200
    for name in ("xlsx", "sdmx-ml", "sdmx-csv", "jsonstat"):
        response = client.get(f"{URL}?format={name}&updated_after=2000-01-01")
        assert response.status_code == 400, name
        assert "updated_after" in response.get_json()["errors"]
    assert client.get(f"{URL}?format=jsonstat&as_of=2000-01-01").status_code == 400
    assert client.get("/api/v1/datasets/nope/observations?format=csv").status_code == 404


def test_two_representations_of_one_url_never_share_an_etag_or_a_cached_body(client):
    tags = {}
    for accept in ("application/json", "text/csv", XLSX, SDMX_ML, SDMX_CSV):
        response = client.get(URL, headers={"Accept": accept})
        assert response.status_code == 200
        tags[accept] = response.headers["ETag"]
    assert len(set(tags.values())) == len(tags)
    # the JSON, now cached by URL, is never the answer to another Accept, nor the reverse
    again = client.get(URL, headers={"Accept": "text/csv"})
    assert again.mimetype == "text/csv"
    assert client.get(URL).mimetype == "application/json"
    # a tag revalidates its own representation only
    csv_tag = tags["text/csv"]
    assert (
        client.get(URL, headers={"Accept": "text/csv", "If-None-Match": csv_tag}).status_code == 304
    )
    assert client.get(URL, headers={"If-None-Match": csv_tag}).status_code == 200
    json_tag = tags["application/json"]
    not_modified = client.get(URL, headers={"If-None-Match": json_tag})
    assert not_modified.status_code == 304
    assert "Accept" in vary(not_modified)


def test_every_format_has_its_own_etag(client):
    tags = [client.get(f"{URL}?format={name}").headers["ETag"] for name in negotiate.FORMATS]
    tags.append(client.get(URL).headers["ETag"])
    assert len(set(tags)) == len(tags)


def test_the_xlsx_media_type_is_the_xlsx_views():
    assert negotiate.XLSX == XLSX


def test_the_spec_lists_each_media_type_and_the_format_values(client):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/datasets/{dataset_id}/observations"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {
        "application/json",
        "text/csv",
        XLSX,
        sdmx_format.DATA_TYPE,
        sdmx_format.CSV_TYPE,
    }
    (parameter,) = [p for p in operation["parameters"] if p.get("name") == "format"]
    assert parameter["schema"]["enum"] == list(negotiate.FORMATS)
    assert "406" in operation["responses"]


def _formats_spec() -> dict:
    """The spec of the observations only, ``format`` steered to the downloads that refuse
    ``updated_after`` (left out here), so every other schema-valid request must succeed."""
    spec = test_schemathesis._spec()
    path = "/api/v1/datasets/{dataset_id}/observations"
    spec["paths"] = {path: spec["paths"][path]}
    operation = spec["paths"][path]["get"]
    operation["parameters"] = [
        p for p in operation["parameters"] if p.get("name") != "updated_after"
    ]
    for parameter in operation["parameters"]:
        if parameter.get("name") == "format":
            parameter["schema"] = {"type": "string", "enum": ["xlsx", "sdmx-ml", "sdmx-csv"]}
            parameter["required"] = True
    return spec


formats_schema = schemathesis.openapi.from_dict(_formats_spec())


@formats_schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_downloads_do_what_the_spec_says(case, served):  # noqa: F811 - the fixture
    # `format` is required only in this steered spec: a request without it is the JSON page,
    # which the API rightly accepts, so the negative check of a missing `format` does not apply
    case.call_and_validate(
        app=served,
        headers={"Accept-Encoding": "identity"},
        excluded_checks=[schemathesis.checks.negative_data_rejection],
    )
