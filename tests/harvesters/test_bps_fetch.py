"""The BPS harvester over real HTTP, against the local stand-in server of bps_server.py."""

from __future__ import annotations

import logging
import socket
from decimal import Decimal

import pytest
import requests

from harvesters.bps import BPSHarvester
from harvesters.exceptions import SourceConfigurationError, UpstreamError
from tests.harvesters.bps_server import BPSStandIn, default_value
from tests.harvesters.conftest import KEY, default_tables, make_spec


def harvest(settings, clock, spec, regions, session=None):
    """Fetch and parse one dataset; return (result, payloads, kept)."""
    kept = []
    with session or requests.Session() as http:
        harvester = BPSHarvester(settings, session=http, clock=clock)
        payloads = harvester.fetch(spec, kept.append)
    return harvester.parse(spec, payloads, regions), payloads, kept


# --- windows of years -------------------------------------------------------------------------


def test_national_years_are_asked_three_at_a_time(stand_in, bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2018-2024")
    result, payloads, kept = harvest(bps_settings, clock, spec, regions)
    assert stand_in.data_windows() == ["118:120", "121:123", "124"]
    assert len(payloads) == len(kept) == 3
    assert len(result.records) == 3 * 7  # 3 rows, 7 years, one survey month
    periods = sorted({r.period for r in result.records})
    assert periods == [f"{y}-08" for y in range(2018, 2025)]
    first = result.records[0]
    assert (first.region, first.period) == ("6300", "2018-08")
    assert first.value == Decimal(repr(default_value(6300, "0", 2018, 190)))
    assert {r.region for r in result.records} == {"6300", "6400", "0000"}


def test_province_years_are_asked_two_at_a_time(stand_in, bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="6300", var=30, years="2019-2023")
    result, _, _ = harvest(bps_settings, clock, spec, regions)
    assert stand_in.data_windows() == ["119:120", "121:122", "123"]
    assert len(result.records) == 3 * 3 * 5  # rows x sexes x years


def test_listed_years_are_asked_as_a_list(stand_in, bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="0000", var=543, years=[2019, 2021, 2024, 2025])
    result, _, _ = harvest(bps_settings, clock, spec, regions)
    assert stand_in.data_windows() == ["119;121;124", "125"]
    assert sorted({r.period for r in result.records}) == [
        "2019-08",
        "2021-08",
        "2024-08",
        "2025-08",
    ]


def test_windows_shrink_to_the_maximum_an_error_names(
    bps_settings, clock, tmp_path, regions, caplog
):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2018-2023")
    with BPSStandIn(KEY, default_tables(), max_years_national=2) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url}
        with caplog.at_level(logging.INFO, logger="harvesters"):
            result, payloads, kept = harvest(settings, clock, spec, regions)
    assert server.data_windows() == ["118:120", "118:119", "120:121", "122:123"]
    assert b"maximum allowed number of years" in kept[0].body  # the error body was kept
    assert payloads == kept[1:]
    assert len(result.records) == 3 * 6
    assert "at most 2 year(s)" in caplog.text


def test_a_null_window_is_split_down_to_single_years(bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2018-2020")
    with BPSStandIn(KEY, default_tables(), null_above=1) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url}
        result, payloads, kept = harvest(settings, clock, spec, regions)
    assert server.data_windows() == ["118:120", "118:119", "118", "119", "120"]
    assert [p.body for p in kept[:2]] == [b"null", b"null"]
    assert len(payloads) == 3
    assert sorted({r.period for r in result.records}) == ["2018-08", "2019-08", "2020-08"]


def test_a_single_year_that_is_still_null_fails(bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2019-2020")
    kept = []
    with BPSStandIn(KEY, default_tables(), null_above=0) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url}
        with pytest.raises(UpstreamError, match="null.*single year 2019") as caught:
            BPSHarvester(settings, clock=clock).fetch(spec, kept.append)
    assert server.data_windows() == ["119:120", "119"]
    assert len(kept) == 2
    assert KEY not in str(caught.value)


def test_open_ended_years_end_at_the_latest_year_bps_lists(
    stand_in, bps_settings, clock, tmp_path, regions
):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2021-")
    result, payloads, kept = harvest(bps_settings, clock, spec, regions)
    th_pages = [s.params.get("page", "1") for s in stand_in.requests if s.params["model"] == "th"]
    assert th_pages == ["1", "2"]  # 16 years, 10 a page: paged to the end
    assert stand_in.data_windows() == ["121:123", "124:125"]
    assert len(kept) == 4 and len(payloads) == 2  # the th lists are kept, not parsed
    assert max(r.period for r in result.records) == "2025-08"


def test_open_ended_years_after_the_latest_are_no_data(
    stand_in, bps_settings, clock, tmp_path, regions
):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2030-")
    result, payloads, kept = harvest(bps_settings, clock, spec, regions)
    assert stand_in.data_windows() == []
    assert payloads == [] and len(kept) == 2
    assert result.no_data and result.records == []


def test_years_bps_has_no_data_for_are_no_data(stand_in, bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2001-2003")
    result, payloads, _ = harvest(bps_settings, clock, spec, regions)
    assert len(payloads) == 1
    assert result.no_data and result.records == []


def test_an_unknown_table_is_no_data(stand_in, bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="0000", var=9, years=2024)
    result, _, _ = harvest(bps_settings, clock, spec, regions)
    assert result.no_data


# --- columns ----------------------------------------------------------------------------------


def test_the_turvar_group_names_the_column_dimension(
    stand_in, bps_settings, clock, tmp_path, regions
):
    spec = make_spec(tmp_path, domain="6300", var=30, years="2022-2025")
    result, payloads, _ = harvest(bps_settings, clock, spec, regions)
    models = [s.params["model"] for s in stand_in.requests]
    assert models == ["data", "data", "turvar"]  # asked once, after the data
    assert payloads[-1].params["model"] == "turvar"
    (dimension,) = result.dimensions
    assert (dimension.id, dimension.label) == ("jenis_kelamin", "Jenis Kelamin")
    assert [(v.code, v.is_total) for v in dimension.values] == [
        ("27", False),
        ("28", False),
        ("29", True),
    ]
    assert result.records[0].dimensions == (("jenis_kelamin", "27"),)
    assert result.messages == []


def test_without_a_turvar_group_the_slug_is_guessed(bps_settings, clock, tmp_path, regions):
    tables = default_tables()
    tables[1].turvar_group = None  # list?model=turvar answers list-not-available
    spec = make_spec(tmp_path, domain="6300", var=30, years=2024)
    with BPSStandIn(KEY, tables) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url}
        result, _, _ = harvest(settings, clock, spec, regions)
    assert result.dimensions[0].id == "jenis_kelamin"
    assert "guessed" in result.messages[0]


def test_tables_without_columns_skip_the_turvar_list(
    stand_in, bps_settings, clock, tmp_path, regions
):
    spec = make_spec(tmp_path, domain="6371", var=1, years="2024-2025")
    result, _, _ = harvest(bps_settings, clock, spec, regions)
    assert [s.params["model"] for s in stand_in.requests] == ["data"]
    assert result.dimensions == []
    assert [r.period for r in result.records] == ["2024-03", "2024", "2025-03", "2025"]


# --- retries and the rate limit ---------------------------------------------------------------


def test_5xx_answers_are_retried_with_exponential_backoff(bps_settings, clock, tmp_path, regions):
    spec = make_spec(tmp_path, domain="6371", var=1, years=2024)
    with BPSStandIn(KEY, default_tables(), failures=2) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url}
        result, payloads, kept = harvest(settings, clock, spec, regions)
    assert clock.sleeps == [1.0, 2.0]
    assert [p.status for p in kept] == [503, 503, 200]  # the 5xx bodies were kept too
    assert payloads == kept[2:]
    assert len(result.records) == 2


def test_5xx_answers_fail_after_the_retries(bps_settings, clock, tmp_path):
    spec = make_spec(tmp_path, domain="6371", var=1, years=2024)
    kept = []
    with BPSStandIn(KEY, default_tables(), failures=10) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url, "HTTP_RETRIES": 2}
        with pytest.raises(UpstreamError, match="HTTP 503.*after 3 attempt") as caught:
            BPSHarvester(settings, clock=clock).fetch(spec, kept.append)
    assert len(server.requests) == 3 and len(kept) == 3
    assert clock.sleeps == [1.0, 2.0]
    assert KEY not in str(caught.value)


def test_connection_errors_are_retried_then_fail_without_the_key(
    bps_settings, clock, tmp_path, caplog
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = {**bps_settings, "BPS_BASE_URL": f"http://127.0.0.1:{port}/v1/api"}
    spec = make_spec(tmp_path, domain="6371", var=1, years=2024)
    kept = []
    with caplog.at_level(logging.DEBUG), pytest.raises(UpstreamError) as caught:
        BPSHarvester({**settings, "HTTP_RETRIES": 1}, clock=clock).fetch(spec, kept.append)
    assert "connection error" in str(caught.value)
    assert KEY not in str(caught.value) and KEY not in caplog.text
    assert clock.sleeps == [1.0]
    assert kept == []  # no body was received


def test_timeouts_are_retried(bps_settings, clock, tmp_path, regions):
    from tests.harvesters.conftest import replay_session

    spec = make_spec(tmp_path, domain="6371", var=1, years=2024)
    with BPSStandIn(KEY, default_tables()) as server:
        good = server.answer(
            f"/v1/api/list?model=data&domain=6371&var=1&th=124&key={KEY}", "Mozilla/5.0"
        )
    session = replay_session(requests.ReadTimeout("slow"), good)
    result, _, kept = harvest(bps_settings, clock, spec, regions, session=session)
    assert clock.sleeps == [1.0]
    assert len(kept) == 1 and len(result.records) == 2


def test_requests_keep_to_the_rate_limit(stand_in, bps_settings, clock, tmp_path, regions):
    sent = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **kwargs: sent.append(clock.now))
    spec = make_spec(tmp_path, domain="0000", var=543, years="2010-2025")
    harvest(bps_settings, clock, spec, regions, session=session)
    assert len(sent) == 6
    gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
    assert all(gap >= 0.5 - 1e-9 for gap in gaps), gaps  # at most 2 requests a second
    assert clock.sleeps == [pytest.approx(0.5)] * 5


# --- keys, errors and the firewall ------------------------------------------------------------


def test_the_key_is_masked_in_logs_payloads_and_errors(
    stand_in, bps_settings, clock, tmp_path, regions, caplog
):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2018-2024")
    with caplog.at_level(logging.DEBUG):
        result, payloads, kept = harvest(bps_settings, clock, spec, regions)
    assert all("key=***" in p.url and KEY not in p.url for p in kept)
    assert all("key" not in p.params for p in kept)
    assert KEY not in caplog.text and "key=***" in caplog.text
    assert KEY not in result.indicators[0].source_ref
    assert result.indicators[0].source_ref.endswith("/list?model=data&domain=0000&var=543")


def test_a_rejected_key_says_so_and_keeps_the_error_body(bps_settings, clock, tmp_path, caplog):
    spec = make_spec(tmp_path, domain="0000", var=543, years=2024)
    kept = []
    with BPSStandIn("another-key", default_tables()) as server:
        settings = {**bps_settings, "BPS_BASE_URL": server.base_url}
        with caplog.at_level(logging.DEBUG), pytest.raises(SourceConfigurationError) as caught:
            BPSHarvester(settings, clock=clock).fetch(spec, kept.append)
    message = str(caught.value)
    assert "BPS rejected the API key (OPENDATA_BPS_API_KEY)" in message
    assert "key=***" in message and KEY not in message and KEY not in caplog.text
    assert len(kept) == 1 and b"re-check your key" in kept[0].body


def test_a_missing_key_setting_fails_before_any_request(stand_in, bps_settings, clock, tmp_path):
    spec = make_spec(tmp_path, domain="0000", var=543, years=2024)
    settings = {**bps_settings, "BPS_API_KEY": ""}
    with pytest.raises(SourceConfigurationError, match="OPENDATA_BPS_API_KEY"):
        BPSHarvester(settings, clock=clock).fetch(spec, lambda payload: None)
    assert stand_in.requests == []


def test_a_library_user_agent_meets_the_firewall(stand_in, bps_settings, clock, tmp_path):
    spec = make_spec(tmp_path, domain="0000", var=543, years=2024)
    settings = {**bps_settings, "BPS_USER_AGENT": requests.utils.default_user_agent()}
    kept = []
    with pytest.raises(UpstreamError) as caught:
        BPSHarvester(settings, clock=clock).fetch(spec, kept.append)
    assert "firewall blocked" in str(caught.value)
    assert "OPENDATA_BPS_USER_AGENT" in str(caught.value)
    assert kept[0].status == 403 and b"Perimeter WAF Block" in kept[0].body
    assert stand_in.requests[0].status == 403


def test_the_browser_user_agent_is_sent_on_every_request(
    stand_in, bps_settings, clock, tmp_path, regions
):
    spec = make_spec(tmp_path, domain="6300", var=30, years="2020-2025")
    harvest(bps_settings, clock, spec, regions)
    agents = {s.user_agent for s in stand_in.requests}
    assert len(agents) == 1 and next(iter(agents)).startswith("Mozilla/5.0")
    assert len(stand_in.requests) == 4


def test_a_body_that_is_not_json_fails(bps_settings, clock, tmp_path):
    from tests.harvesters.conftest import replay_session

    spec = make_spec(tmp_path, domain="0000", var=543, years=2024)
    session = replay_session((200, "text/html", b"<html>maintenance</html>"))
    kept = []
    with session, pytest.raises(UpstreamError, match="not JSON"):
        BPSHarvester(bps_settings, session=session, clock=clock).fetch(spec, kept.append)
    assert kept[0].body == b"<html>maintenance</html>"


def test_a_catalog_turvar_name_skips_the_turvar_list(
    stand_in, bps_settings, clock, tmp_path, regions
):
    spec = make_spec(
        tmp_path, domain="6300", var=30, years=2024, dimensions={"turvar": "jenis_kelamin"}
    )
    result, _, _ = harvest(bps_settings, clock, spec, regions)
    assert [s.params["model"] for s in stand_in.requests] == ["data"]
    assert [(d.id, d.label) for d in result.dimensions] == [("jenis_kelamin", "Jenis Kelamin")]


def test_open_ended_years_of_an_unknown_table_are_no_data(
    stand_in, bps_settings, clock, tmp_path, regions
):
    spec = make_spec(tmp_path, domain="0000", var=9, years="2020-")
    result, payloads, kept = harvest(bps_settings, clock, spec, regions)
    assert payloads == [] and len(kept) == 1 and result.no_data


def test_too_many_requests_is_retried(bps_settings, clock, tmp_path, regions):
    from tests.harvesters.conftest import replay_session

    with BPSStandIn(KEY, default_tables()) as server:
        good = server.answer(
            f"/v1/api/list?model=data&domain=6371&var=1&th=124&key={KEY}", "Mozilla/5.0"
        )
    session = replay_session((429, "text/plain", b"slow down"), good)
    spec = make_spec(tmp_path, domain="6371", var=1, years=2024)
    result, _, kept = harvest(bps_settings, clock, spec, regions, session=session)
    assert [p.status for p in kept] == [429, 200] and clock.sleeps == [1.0]
    assert len(result.records) == 2
