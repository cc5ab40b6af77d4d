"""SDMX: fetching files, URLs and sdmx1 web services, online (a replayed transport) and offline."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from harvesters.exceptions import UpstreamError
from harvesters.sdmx import SDMXHarvester
from harvesters.transport import build_response, request_params, snapshot_filename
from tests.harvesters.test_sdmx_formats import EXPECTED, FIXTURES, spec_of

SETTINGS = {"HTTP_TIMEOUT": 5.0, "HTTP_RETRIES": 2, "HARVEST_DATASET_TIMEOUT": 60.0}
DATA_URL = "https://sdmx.example.org/rest/data/UNICEF,CME,1.0/IDN.CME_MRY0T4?format=csv"
UNICEF = "https://sdmx.data.unicef.org/ws/public/sdmxapi/rest"


class Recorder(BaseAdapter):
    """Answer requests with scripted (status, content type, body) in turn; record each request."""

    def __init__(self, *answers: tuple[int, str, bytes]):
        super().__init__()
        self.answers = list(answers)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        status, content_type, body = self.answers.pop(0)
        return build_response(request, status, body, content_type)

    def close(self) -> None:
        pass


def session_of(*answers: tuple[int, str, bytes]) -> tuple[requests.Session, Recorder]:
    session = requests.Session()
    recorder = Recorder(*answers)
    session.mount("https://", recorder)
    return session, recorder


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run(spec, session=None, clock=None, offline=False):
    harvester = SDMXHarvester(SETTINGS, session=session, clock=clock, offline=offline)
    kept = []
    payloads = harvester.fetch(spec, kept.append)
    return harvester, kept, payloads


# --- a URL ------------------------------------------------------------------------------------


def test_a_url_is_fetched_retried_on_5xx_and_every_body_kept(tmp_path, regions, clock):
    session, recorder = session_of(
        (503, "text/plain", b"busy"), (200, "application/vnd.sdmx.data+csv", fixture("cme.csv"))
    )
    spec = spec_of(tmp_path, url=DATA_URL, format="csv")
    harvester, kept, payloads = run(spec, session, clock)
    assert [(p.status, p.body[:4]) for p in kept] == [(503, b"busy"), (200, b"DATA")]
    assert clock.sleeps == [1.0]
    assert [p.url for p in payloads] == [DATA_URL]
    sent = recorder.requests[-1]
    assert sent.url == DATA_URL
    assert sent.headers["Accept"].startswith("application/vnd.sdmx.data+csv")
    assert sent.headers["User-Agent"].startswith("opendata-kalsel/")
    assert harvester.parse(spec, payloads, regions).records == EXPECTED


def test_a_url_that_keeps_failing_fails_the_run_with_the_last_status(tmp_path, clock):
    session, _ = session_of(*[(502, "text/plain", b"bad gateway")] * 3)
    with pytest.raises(
        UpstreamError, match=r"failed with HTTP 502 for https://sdmx.example.org/.* after 3 attempt"
    ):
        run(spec_of(tmp_path, url=DATA_URL), session, clock)


def test_an_error_status_fails_quoting_the_body(tmp_path, clock):
    session, _ = session_of((400, "text/plain", b"Semantic error: unknown dimension"))
    with pytest.raises(UpstreamError, match=r"HTTP 400 for .*'Semantic error: unknown dimension'"):
        run(spec_of(tmp_path, url=DATA_URL), session, clock)


def test_no_results_found_is_no_data(tmp_path, regions, clock):
    """SDMX REST answers a query that matches nothing with 404 "No Results Found"."""
    session, _ = session_of((404, "text/plain", b"No Results Found"))
    spec = spec_of(tmp_path, url=DATA_URL)
    harvester, kept, payloads = run(spec, session, clock)
    result = harvester.parse(spec, payloads, regions)
    assert result.no_data and not result.records
    assert result.messages == [f"the SDMX source has no data for {DATA_URL} (HTTP 404, no results)"]


def test_an_html_page_is_not_an_sdmx_message(tmp_path, clock):
    session, _ = session_of((200, "text/html", b"<!DOCTYPE html><html><body>Maintenance</body>"))
    with pytest.raises(UpstreamError, match=r"an HTML page, not an SDMX message, for https://sdmx"):
        run(spec_of(tmp_path, url=DATA_URL), session, clock)


def test_an_offline_url_is_read_from_the_datasets_snapshots(tmp_path, regions):
    spec = spec_of(tmp_path, url=DATA_URL)
    spec.snapshot_dir.mkdir(parents=True)
    name = snapshot_filename(request_params(DATA_URL))
    assert name == "IDN.CME-MRY0T4_format-csv.json"  # the transport's rule, documented
    (spec.snapshot_dir / name).write_bytes(fixture("cme.csv"))
    harvester, kept, payloads = run(spec, offline=True)
    assert harvester.parse(spec, payloads, regions).records == EXPECTED


def test_an_offline_url_without_its_snapshot_fails_naming_the_file(tmp_path):
    spec = spec_of(tmp_path, url=DATA_URL)
    with pytest.raises(UpstreamError, match=r"no snapshot file IDN.CME-MRY0T4_format-csv.json"):
        run(spec, offline=True)


# --- a file -----------------------------------------------------------------------------------


def test_a_file_is_read_relative_to_the_catalog_file(tmp_path, regions):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "cme.json").write_bytes(fixture("cme.json"))
    spec = spec_of(tmp_path, path="files/cme.json")
    harvester, kept, payloads = run(spec)  # the same online and offline
    assert [(p.url, p.content_type) for p in kept] == [("files/cme.json", "application/json")]
    assert harvester.parse(spec, payloads, regions).records == EXPECTED


def test_a_missing_file_fails_naming_it(tmp_path):
    with pytest.raises(
        UpstreamError, match=r"u5mr\.yaml: sdmx: cannot read files/nope.csv \(relative"
    ):
        run(spec_of(tmp_path, path="files/nope.csv"))


# --- an sdmx1 web service ---------------------------------------------------------------------


def test_an_sdmx1_source_asks_for_the_structure_then_the_data(tmp_path, regions, clock):
    session, recorder = session_of(
        (200, "application/xml", fixture("cme.structure.xml")),
        (200, "application/xml", fixture("cme.ss.xml")),
    )
    query = {"source": "UNICEF", "flow": "UNICEF,CME,1.0", "key": "IDN+MYS.CME_MRY0T4."}
    spec = spec_of(tmp_path, **query, params={"startPeriod": 2019})
    harvester, kept, payloads = run(spec, session, clock)
    assert [r.url for r in recorder.requests] == [
        f"{UNICEF}/dataflow/UNICEF/UNICEF,CME,1.0/latest?references=all",
        f"{UNICEF}/data/UNICEF,CME,1.0/IDN+MYS.CME_MRY0T4.?startPeriod=2019",
    ]
    assert [p.params["role"] for p in kept] == ["structure", "data"]
    result = harvester.parse(spec, payloads, regions)
    assert result.records == EXPECTED
    assert result.dimensions[0].label == "Jenis kelamin"  # from the source's structure


def test_an_sdmx1_source_without_its_structure(tmp_path, regions, clock):
    session, recorder = session_of((200, "application/xml", fixture("cme.generic.xml")))
    spec = spec_of(tmp_path, source="UNICEF", flow="CME", structure=False)
    harvester, kept, payloads = run(spec, session, clock)
    assert [r.url for r in recorder.requests] == [f"{UNICEF}/data/CME"]
    assert harvester.parse(spec, payloads, regions).records == EXPECTED


def test_an_sdmx1_source_offline_reads_its_snapshots(tmp_path, regions):
    spec = spec_of(tmp_path, source="UNICEF", flow="CME", key="IDN..")
    spec.snapshot_dir.mkdir(parents=True)
    (spec.snapshot_dir / "latest_references-all.json").write_bytes(fixture("cme.structure.xml"))
    (spec.snapshot_dir / "IDN...json").write_bytes(fixture("cme.ss.xml"))
    harvester, kept, payloads = run(spec, offline=True)
    result = harvester.parse(spec, payloads, regions)
    assert [(r.period, r.value) for r in result.records][:2] == [
        ("2019", Decimal("23.60")),
        ("2020", Decimal("22.7879767553902")),
    ]


def test_a_structure_url_is_fetched_before_the_data(tmp_path, regions, clock):
    session, recorder = session_of(
        (200, "application/xml", fixture("cme.structure.xml")),
        (200, "application/json", fixture("cme.json")),
    )
    structure = "https://sdmx.example.org/rest/datastructure/UNICEF/DSD_CME/1.0?references=children"
    spec = spec_of(tmp_path, url=DATA_URL, structure=structure)
    harvester, kept, payloads = run(spec, session, clock)
    assert [r.url for r in recorder.requests] == [structure, DATA_URL]
    assert harvester.parse(spec, payloads, regions).dimensions[0].label == "Jenis kelamin"


def test_snapshot_names_of_the_documented_example():
    """docs/harvesters.md names these files; keep the two in step."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "harvesters.md").read_text("utf-8")
    for url in (
        f"{UNICEF}/dataflow/UNICEF/CME/latest?references=all",
        f"{UNICEF}/data/CME/.CME_MRY0T4.._T._T._T?startPeriod=2015",
    ):
        assert snapshot_filename(request_params(url)) in docs
