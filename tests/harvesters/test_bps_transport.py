"""Offline snapshots, secret masking and the rate limit (harvesters/transport.py)."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from harvesters.bps import BPSHarvester
from harvesters.exceptions import UpstreamError
from harvesters.transport import (
    RateLimiter,
    file_session,
    mask_secret,
    mask_secrets_in_library_logs,
    request_params,
    snapshot_filename,
)
from tests.harvesters.conftest import default_tables, make_spec


@pytest.mark.parametrize(
    ("params", "name"),
    [
        (
            {"model": "data", "domain": "0000", "var": "543", "th": "123:125"},
            "data_0000_543_123-125",
        ),
        ({"model": "data", "domain": "6300", "var": "30", "th": "119;124"}, "data_6300_30_119+124"),
        (
            {"model": "data", "domain": "0000", "var": "543", "th": "124", "key": "K"},
            "data_0000_543_124",
        ),
        ({"model": "th", "domain": "0000", "var": "543", "lang": "ind"}, "th_0000_543"),
        ({"model": "th", "domain": "0000", "var": "543", "page": "2"}, "th_0000_543_page-2"),
        ({"model": "turvar", "domain": "0000", "var": "543"}, "turvar_0000_543"),
        (
            {"model": "data", "domain": "0000", "var": "1", "th": "124", "turvar": "4/3"},
            "data_0000_1_124_turvar-4-3",
        ),
    ],
)
def test_snapshot_filenames(params, name):
    assert snapshot_filename(params) == name + ".json"


def test_a_snapshot_name_needs_a_model():
    with pytest.raises(ValueError, match="model"):
        snapshot_filename({"domain": "0000"})


def test_request_params_take_the_model_from_the_path_when_absent():
    assert request_params("https://x/v1/api/list?model=th&domain=0000&key=K")["model"] == "th"
    assert request_params("https://x/v1/api/domain?type=all") == {"model": "domain", "type": "all"}


def test_the_file_session_answers_from_files_and_404_names_a_missing_one(tmp_path):
    (tmp_path / "th_0000_543.json").write_text('{"status": "OK"}', encoding="utf-8")
    with file_session(tmp_path) as session:
        found = session.get(
            "https://webapi.bps.go.id/v1/api/list",
            params={"model": "th", "domain": "0000", "var": "543", "key": "K", "lang": "ind"},
        )
        missing = session.get(
            "https://webapi.bps.go.id/v1/api/list?model=data&domain=0000&var=543&th=123:125"
        )
    assert (found.status_code, found.json()) == (200, {"status": "OK"})
    assert found.headers["Content-Type"] == "application/json"
    assert missing.status_code == 404
    assert "data_0000_543_123-125.json" in missing.text and str(tmp_path) in missing.text


def test_mask_secret_hides_key_parameters_and_the_secret_itself():
    text = "GET /list?model=data&key=abc123&th=1 failed: key abc123, path /key/abc123/ k=abc%2B1"
    masked = mask_secret(text, "abc123")
    assert "abc123" not in masked
    assert "&key=***&th=1" in masked and "/key/***/" in masked
    assert mask_secret("x?key=a+b", "a b") == "x?key=***"


def test_library_request_lines_are_masked(caplog):
    mask_secrets_in_library_logs()
    mask_secrets_in_library_logs()  # adding it twice adds one filter
    logger = logging.getLogger("urllib3.connectionpool")
    assert sum(type(f).__name__ == "MaskSecrets" for f in logger.filters) == 1
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logger.debug('%s "GET %s HTTP/1.1"', "http://h", "/list?model=data&key=SECRET")
    assert "SECRET" not in caplog.text and "key=***" in caplog.text


def test_the_rate_limiter_sleeps_only_what_is_left(clock):
    limiter = RateLimiter(clock, 2.0)
    limiter.wait()
    clock.now += 0.2
    limiter.wait()
    limiter.wait()
    assert clock.sleeps == [pytest.approx(0.3), pytest.approx(0.5)]
    with pytest.raises(ValueError):
        RateLimiter(clock, 0)


# --- the harvester offline --------------------------------------------------------------------


def _write_snapshots(spec, bodies):
    spec.snapshot_dir.mkdir(parents=True)
    for name, body in bodies.items():
        (spec.snapshot_dir / name).write_text(json.dumps(body), encoding="utf-8")


def test_offline_harvests_read_snapshots_without_a_key(tmp_path, clock, regions):
    table = default_tables()[1]  # domain 6300, var 30, three sexes
    spec = make_spec(tmp_path, domain="6300", var=30, years="2022-2024")
    turvar = {
        "status": "OK",
        "data-availability": "available",
        "data": [
            {"page": 1, "pages": 1, "per_page": 10, "count": 1, "total": 1},
            [{"turvar_id": 27, "turvar": "Laki-laki", "name_group_turvar": "Jenis Kelamin"}],
        ],
    }
    first = table.body([2022, 2023])
    first["_opendata"] = {"recorded": "2026-11-01", "by": "tests"}  # our own provenance key
    _write_snapshots(
        spec,
        {
            "data_6300_30_122-123.json": first,
            "data_6300_30_124.json": table.body([2024]),
            "turvar_6300_30.json": turvar,
        },
    )
    kept = []
    settings = {"BPS_API_KEY": ""}
    harvester = BPSHarvester(settings, clock=clock, offline=True)
    payloads = harvester.fetch(spec, kept.append)
    result = harvester.parse(spec, payloads, regions)
    assert len(kept) == 3 and all("key" not in p.url for p in kept)
    assert kept[0].url.startswith("https://webapi.bps.go.id/v1/api/list?model=data")
    assert len(result.records) == 3 * 3 * 3
    assert result.dimensions[0].id == "jenis_kelamin"


def test_offline_harvests_fail_loudly_on_a_missing_snapshot(tmp_path, clock):
    spec = make_spec(tmp_path, domain="0000", var=543, years="2023-2025")
    _write_snapshots(spec, {"data_0000_543_123.json": {"status": "OK"}})
    kept = []
    with pytest.raises(UpstreamError, match=r"HTTP 404.*data_0000_543_123-125\.json"):
        BPSHarvester({}, clock=clock, offline=True).fetch(spec, kept.append)
    assert kept[0].status == 404


def test_an_injected_session_is_used_and_left_open(tmp_path, clock, regions):
    from tests.harvesters.conftest import replay_session

    body = json.dumps(default_tables()[2].body([2024])).encode()
    session = replay_session((200, "application/json", body))
    spec = make_spec(tmp_path, domain="6371", var=1, years=2024)
    settings = {"BPS_API_KEY": "k", "BPS_BASE_URL": "https://bps.invalid/v1/api/"}
    payloads = BPSHarvester(settings, session=session, clock=clock).fetch(spec, lambda p: None)
    assert session.replay.urls == [
        "https://bps.invalid/v1/api/list?model=data&domain=6371&var=1&th=124&lang=ind&key=k"
    ]
    assert payloads[0].url.endswith("&lang=ind&key=***")
    assert isinstance(session, requests.Session)
    session.close()
