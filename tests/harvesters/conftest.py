"""Fixtures of the harvester tests: a fake clock, catalog entries, the BPS stand-in server."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from harvesters.transport import build_response, dumps_exact, load_exact
from opendata.model import DatasetSpec, Payload
from opendata.regions import RegionIndex
from tests.harvesters.bps_server import BPSStandIn, StandInTable

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bps"
#: the recorded BPS responses shared by the team (outside the project; never copied into it)
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "sources" / "bps"
KEY = "s3cr3t-KEY-0042"


class FakeClock:
    """A clock that never waits: ``sleep`` moves time on and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ReplayAdapter(BaseAdapter):
    """Answer requests with scripted (status, content type, body) in turn; record the URLs."""

    def __init__(self, answers: Sequence[tuple[int, str, bytes] | Exception]):
        super().__init__()
        self.answers = list(answers)
        self.urls: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.urls.append(request.url or "")
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, content_type, body = answer
        return build_response(request, status, body, content_type)

    def close(self) -> None:
        pass


def replay_session(*answers: tuple[int, str, bytes] | Exception) -> requests.Session:
    """A session answered by a :class:`ReplayAdapter` (its adapter is ``session.replay``)."""
    session = requests.Session()
    adapter = ReplayAdapter(answers)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.replay = adapter  # type: ignore[attr-defined]
    return session


def make_spec(
    tmp_path: Path,
    dataset_id: str = "demo",
    dimensions: Mapping[str, str] | None = None,
    **query: Any,
) -> DatasetSpec:
    """A catalog entry of the BPS source (its file need not exist)."""
    return DatasetSpec(
        id=dataset_id,
        title={"id": "Demo"},
        source="bps",
        query=query,
        path=tmp_path / f"{dataset_id}.yaml",
        dimensions=dict(dimensions or {}),
    )


def payload(body: Any, url: str = "", model: str = "data", status: int = 200) -> Payload:
    """A payload of a BPS body given as bytes, text or a JSON value."""
    if isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = dumps_exact(body).encode("utf-8")
    return Payload(
        url=url,
        body=raw,
        status=status,
        content_type="application/json",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        params={"model": model},
    )


def recorded(path: Path) -> tuple[str, bytes, int, str]:
    """Return (url, raw body bytes, status, content type) of a shared recorded file.

    Recorders wrap the BPS body as ``{"name", "request", "status_code", "content_type", "body"}``
    or ``{"result": ...}``; the body is written back with each number's text as the file has it.
    """
    document = load_exact(path.read_text(encoding="utf-8"))
    url, status, content_type = "", 200, "application/json"
    if isinstance(document, dict) and "body" in document and "request" in document:
        url = document["request"]["url"]
        status = document.get("status_code", 200)
        content_type = document.get("content_type", content_type)
        document = document["body"]
    elif isinstance(document, dict) and set(document) == {"result"}:
        document = document["result"]
    if isinstance(document, str):
        return url, document.encode("utf-8"), status, content_type
    return url, dumps_exact(document).encode("utf-8"), status, content_type


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def regions() -> RegionIndex:
    return RegionIndex.reference()


@pytest.fixture
def shared() -> Path:
    """The shared recorded responses; the test skips, saying why, where they are absent."""
    if not SHARED.is_dir():
        pytest.skip(f"the shared recorded BPS responses are not here: {SHARED}")
    return SHARED


@pytest.fixture
def stand_in() -> Iterator[BPSStandIn]:
    """A running BPS stand-in with a national, a provincial and a regency table."""
    server = BPSStandIn(key=KEY, tables=default_tables())
    with server:
        yield server


def default_tables() -> list[StandInTable]:
    provinces = [(6300, "KALIMANTAN SELATAN"), (6400, "KALIMANTAN TIMUR"), (9999, "INDONESIA")]
    regencies = [(6301, "Tanah Laut"), (6371, "Kota Banjarmasin"), (6300, "Kalimantan Selatan")]
    return [
        StandInTable(
            domain="0000",
            var=543,
            label="Tingkat Pengangguran Terbuka Menurut Provinsi",
            unit="Persen",
            labelvervar="38 Provinsi",
            vervar=provinces,
            turtahun=[(190, "Agustus")],
            years=range(2010, 2026),
        ),
        StandInTable(
            domain="6300",
            var=30,
            label="Jumlah Penduduk Menurut Kabupaten/Kota dan Jenis Kelamin",
            unit="Jiwa",
            labelvervar="Kabupaten/Kota",
            vervar=regencies,
            turvar=[(27, "Laki-laki"), (28, "Perempuan"), (29, "Jumlah")],
            turvar_group="Jenis Kelamin",
            years=range(2018, 2026),
        ),
        StandInTable(
            domain="6371",
            var=1,
            label="Inflasi",
            unit="Persen",
            labelvervar="Wilayah Inflasi",
            vervar=[(6371, "Kota Banjarmasin")],
            turtahun=[(3, "Maret"), (13, "Tahunan")],
            years=range(2020, 2026),
        ),
    ]


@pytest.fixture
def bps_settings(stand_in: BPSStandIn) -> dict[str, Any]:
    """Settings that point the harvester at the stand-in server."""
    return {
        "BPS_BASE_URL": stand_in.base_url,
        "BPS_API_KEY": KEY,
        "BPS_REQUESTS_PER_SECOND": 2.0,
        "HTTP_TIMEOUT": 5.0,
        "HTTP_RETRIES": 3,
    }
