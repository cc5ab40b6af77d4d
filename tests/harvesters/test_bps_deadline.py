"""A hung or slow BPS cannot hold a harvest past the dataset's deadline (on a fake clock)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from sqlalchemy import select

from harvesters.bps import BPSHarvester
from harvesters.exceptions import HarvestTimeout
from harvesters.transport import build_response
from opendata.harvest import Runner
from opendata.store import schema as t
from tests.harvesters.bps_server import BPSStandIn
from tests.harvesters.conftest import KEY, default_tables, make_spec, replay_session

EXCEEDED = "the fetch exceeded OPENDATA_HARVEST_DATASET_TIMEOUT={} s"


class HangingAdapter(BaseAdapter):
    """Every request waits its whole timeout on the fake clock, then times out."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.timeouts: list[float] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs["timeout"])
        self.clock.now += kwargs["timeout"]
        raise requests.ReadTimeout("no answer")

    def close(self) -> None:
        pass


class Trickle(io.RawIOBase):
    """A body that comes one chunk every 30 s (on the fake clock)."""

    def __init__(self, clock, chunks: int):
        self.clock, self.chunks = clock, chunks

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.chunks:
            return 0
        self.chunks -= 1
        self.clock.now += 30
        buffer[: len(buffer)] = b" " * len(buffer)
        return len(buffer)


def session_with(adapter: BaseAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def fetch(settings, clock, tmp_path, session=None):
    spec = make_spec(tmp_path, domain="6371", var=1, years=2024)
    kept = []
    BPSHarvester(settings, session=session, clock=clock).fetch(spec, kept.append)
    return kept


def test_no_request_waits_past_the_deadline(bps_settings, clock, tmp_path):
    adapter = HangingAdapter(clock)
    settings = {**bps_settings, "HTTP_TIMEOUT": 60.0, "HTTP_RETRIES": 4}
    start = clock.now
    with pytest.raises(HarvestTimeout, match=EXCEEDED.format(100)) as caught:
        fetch(
            {**settings, "HARVEST_DATASET_TIMEOUT": 100.0}, clock, tmp_path, session_with(adapter)
        )
    assert adapter.timeouts == [60.0, 39.0]  # the second request only had 39 s left
    assert clock.sleeps == [1.0]
    assert clock.now - start == 100.0  # not a second past it
    assert KEY not in str(caught.value) and "key=***" in str(caught.value)


def test_a_backoff_that_would_pass_the_deadline_is_not_begun(bps_settings, clock, tmp_path):
    session = replay_session((503, "text/html", b"<html>busy</html>"))
    settings = {**bps_settings, "HTTP_RETRIES": 4, "HARVEST_DATASET_TIMEOUT": 2.5}
    with pytest.raises(HarvestTimeout, match=r"retrying .* after HTTP 503"):
        fetch(settings, clock, tmp_path, session)
    assert clock.sleeps == [1.0]  # the 2 s backoff would have ended past the deadline
    assert len(session.replay.urls) == 2


def test_a_source_that_trickles_its_answer_meets_the_deadline(bps_settings, clock, tmp_path):
    class TrickleAdapter(BaseAdapter):
        def send(self, request, **kwargs):
            response = build_response(request, 200, b"", "application/json")
            response.raw._fp = io.BufferedReader(Trickle(clock, chunks=10))
            return response

        def close(self) -> None:
            pass

    settings = {**bps_settings, "HARVEST_DATASET_TIMEOUT": 100.0}
    with pytest.raises(HarvestTimeout, match="reading the answer to"):
        fetch(settings, clock, tmp_path, session_with(TrickleAdapter()))
    assert clock.now - 1000.0 == 120.0  # the first chunk read after the deadline: no more


def test_without_a_deadline_retries_run_their_course(bps_settings, clock, tmp_path):
    adapter = HangingAdapter(clock)
    settings = {**bps_settings, "HTTP_TIMEOUT": 60.0, "HTTP_RETRIES": 2}
    with pytest.raises(Exception, match="after 3 attempt") as caught:
        fetch({**settings, "HARVEST_DATASET_TIMEOUT": 0}, clock, tmp_path, session_with(adapter))
    assert not isinstance(caught.value, HarvestTimeout)
    assert adapter.timeouts == [60.0] * 3


def test_a_hung_bps_fails_the_dataset_in_the_time_left(bps_settings, clock, tmp_path):
    # real HTTP to a server that never answers; the deadline leaves the request 0.2 s
    with BPSStandIn(KEY, default_tables(), hang=lambda params: True) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url, "HTTP_TIMEOUT": 30.0}
        with pytest.raises(HarvestTimeout, match=EXCEEDED.format(0.2)):
            fetch({**settings, "HARVEST_DATASET_TIMEOUT": 0.2}, clock, tmp_path)
    assert [seen.status for seen in server.requests] == [0]


def _observations(engine, dataset_id: str) -> list:
    with engine.connect() as conn:
        query = (
            select(t.observation.c.period, t.observation.c.value_text)
            .join(t.series, t.series.c.id == t.observation.c.series_id)
            .join(t.indicator, t.indicator.c.id == t.series.c.indicator_id)
            .where(t.indicator.c.dataset_id == dataset_id)
            .order_by(t.observation.c.period, t.observation.c.value_text)
        )
        return conn.execute(query).all()


def test_the_runner_fails_a_hung_dataset_and_goes_on(engine, settings, clock, tmp_path):
    hung = make_spec(tmp_path, "inflasi", domain="6371", var=1, years=2024)
    other = make_spec(tmp_path, "penduduk", domain="6300", var=30, years=2024)
    with BPSStandIn(KEY, default_tables()) as server:
        live = {**settings, "BPS_BASE_URL": server.base_url, "BPS_API_KEY": KEY}
        # 0.2 s on the fake clock; the rate limit's pauses (on that clock too) must fit in it
        live.update(HARVEST_DATASET_TIMEOUT=0.2, BPS_REQUESTS_PER_SECOND=1000.0)
        first = Runner(engine, live, clock=clock).run([hung, other])
        assert [o.status for o in first] == ["ok", "ok"]
        before = _observations(engine, "inflasi")
        server.hang = lambda params: params.get("var") == "1"
        outcomes = Runner(engine, live, clock=clock, force=True).run([hung, other])
    assert [o.status for o in outcomes] == ["failed", "ok"]
    assert outcomes[0].error.startswith(
        "HarvestTimeout: the fetch exceeded OPENDATA_HARVEST_DATASET_TIMEOUT=0.2 s"
    )
    assert not outcomes[0].configuration_error  # the command line exits 1, not 2
    assert before and _observations(engine, "inflasi") == before
    with engine.connect() as conn:
        run = conn.execute(select(t.harvest_run).order_by(t.harvest_run.c.id.desc())).all()[1]
    assert run.status == "failed" and run.error == outcomes[0].error
