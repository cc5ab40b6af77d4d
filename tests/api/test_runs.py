"""The harvest run log over HTTP: runs newest first, what each fetched, the bodies as they came."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from opendata.harvest import Runner
from opendata.model import Payload
from opendata.store import queries
from opendata.store.runs import finish_run, save_payload, start_run
from tests import fakes
from tests.api.conftest import CELLS
from tests.harvesters.bps_server import WAF_PAGE, BPSStandIn
from tests.harvesters.conftest import KEY, FakeClock, default_tables, make_spec

#: a body as a source sends it: exact decimals, non-ASCII text, no trailing newline
JSON_BODY = '{"nilai": 7.10, "wilayah": "Kota Banjarmasin – Selatan", "catatan": "ö"}'.encode()
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def add_run(engine, dataset_id: str, status: str, *bodies: tuple[bytes, str, int], **counts):
    """A finished run of ``dataset_id`` that fetched ``bodies`` (body, content type, status)."""
    with engine.begin() as conn:
        run_id = start_run(conn, "batch-x", dataset_id, offline=False)
        for n, (body, content_type, http_status) in enumerate(bodies):
            save_payload(
                conn,
                run_id,
                Payload(
                    url=f"https://source.invalid/list?page={n}&key=***",
                    body=body,
                    status=http_status,
                    content_type=content_type,
                    fetched_at=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC),
                    params={"page": n},
                ),
            )
        finish_run(conn, run_id, status, error="UpstreamError: 503" if status == "failed" else None)
    return run_id


def pages(client, url: str) -> list[list[int]]:
    """The run ids of every page from ``url`` on, following ``next``; checks ``Link`` too."""
    ids = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        ids.append([run["id"] for run in body["data"]])
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        else:
            assert "Link" not in response.headers
        url = body["next"]
    return ids


@pytest.fixture
def runs(store):
    """Run 1 harvested ``demo``; then 2 to 6, of ``demo`` and ``other``, some failed."""
    add_run(store, "demo", "unchanged")
    add_run(store, "other", "failed", (b"<html>503</html>", "text/html", 503))
    add_run(store, "demo", "no-data")
    add_run(store, "other", "ok", (JSON_BODY, "application/json", 200))
    add_run(store, "demo", "failed")
    return store


def test_runs_come_newest_first_a_page_at_a_time(runs, client):
    assert pages(client, "/api/v1/runs?limit=2") == [[6, 5], [4, 3], [2, 1]]
    assert pages(client, "/api/v1/runs") == [[6, 5, 4, 3, 2, 1]]
    # the page size may change between pages
    first = client.get("/api/v1/runs?limit=4").get_json()
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    assert pages(client, f"/api/v1/runs?limit=1&cursor={cursor}") == [[2], [1]]


def test_a_run_in_the_list(runs, client):
    run = client.get("/api/v1/runs?limit=1").get_json()["data"][0]
    assert set(run) == {
        "id",
        "dataset",
        "batch",
        "started_at",
        "finished_at",
        "status",
        "offline",
        "counts",
        "error",
        "links",
    }
    assert (run["id"], run["dataset"], run["batch"], run["status"]) == (
        6,
        "demo",
        "batch-x",
        "failed",
    )
    assert run["error"] == "UpstreamError: 503" and run["offline"] is False
    assert RFC3339_Z.fullmatch(run["started_at"]) and RFC3339_Z.fullmatch(run["finished_at"])
    assert run["links"] == {"self": "/api/v1/runs/6"}
    first = client.get("/api/v1/runs?limit=1&cursor=" + _cursor(client, "/api/v1/runs?limit=5"))
    demo = first.get_json()["data"][0]
    assert demo["id"] == 1 and demo["status"] == "ok"
    # the first harvest of the 12 cells of tests/api/conftest.py; `revised` is the store's changed
    assert demo["counts"] == {"added": 12, "revised": 0, "withdrawn": 0, "unchanged": 0}


def _cursor(client, url: str) -> str:
    return parse_qs(urlsplit(client.get(url).get_json()["next"]).query)["cursor"][0]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("dataset=demo", [6, 4, 2, 1]),
        ("dataset=other", [5, 3]),
        ("status=failed", [6, 3]),
        ("status=failed,no-data", [6, 4, 3]),
        ("status=failed&status=no-data", [6, 4, 3]),
        ("status=ok&dataset=other", [5]),
        ("dataset=never-harvested", []),  # a well-formed id with no runs: an empty list
    ],
)
def test_runs_are_filtered_by_dataset_and_status(runs, client, query, ids):
    assert pages(client, f"/api/v1/runs?{query}") == [ids]


def test_paging_keeps_the_filters(runs, client):
    assert pages(client, "/api/v1/runs?dataset=demo&limit=1") == [[6], [4], [2], [1]]
    cursor = _cursor(client, "/api/v1/runs?dataset=demo&limit=1")
    response = client.get(f"/api/v1/runs?dataset=other&limit=1&cursor={cursor}")
    assert response.status_code == 400
    assert "belongs to other filters" in response.get_json()["errors"]["cursor"][0]


@pytest.mark.parametrize(
    ("query", "param", "says"),
    [
        (
            "status=done",
            "status",
            "unknown status 'done'; give one or more of: running, ok, "
            "unchanged, no-data, failed, interrupted",
        ),
        ("status=ok,", "status", "empty"),
        ("dataset=Demo_1", "dataset", "not a dataset id"),
        ("dataset=", "dataset", "empty"),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("limit=1001", "limit", "at most 1000 runs per page"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor", "not a cursor of this API"),
        ("cursor=WzEsIjAwMDAwMDAwMDAwMDAwMDAiXQ", "cursor", "belongs to other filters"),
        ("dataset=demo&dataset=other", "dataset", "given 2 times"),
        ("sort=id", "sort", "this endpoint accepts: cursor, dataset, limit, status"),
    ],
)
def test_bad_parameters_are_400_problems(runs, client, query, param, says):
    response = client.get(f"/api/v1/runs?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400
    assert says in " ".join(problem["errors"][param])


def test_a_run_with_its_messages_and_payloads(runs, client):
    with runs.begin() as conn:
        run_id = start_run(conn, "batch-y", "other", offline=True)
        for body in (JSON_BODY, JSON_BODY):  # the same body twice: two fetches, one payload
            save_payload(conn, run_id, _payload(body))
        finish_run(conn, run_id, "ok", messages=["3 cells were empty", "region 6399 is new"])
    response = client.get(f"/api/v1/runs/{run_id}")
    assert response.status_code == 200
    run = response.get_json()
    assert run["messages"] == ["3 cells were empty", "region 6399 is new"]
    assert run["offline"] is True and run["links"] == {"self": f"/api/v1/runs/{run_id}"}
    sha = hashlib.sha256(JSON_BODY).hexdigest()
    item = {
        "sha256": sha,
        "url": "https://source.invalid/list?page=0&key=***",
        "status": 200,
        "fetched_at": "2026-11-02T03:04:05Z",
        "content_type": "application/json",
        "size": len(JSON_BODY),
        "links": {"body": f"/api/v1/runs/{run_id}/payloads/{sha}"},
    }
    assert run["payloads"] == [item, item]
    listed = client.get("/api/v1/runs?limit=1").get_json()["data"][0]
    assert {k: v for k, v in run.items() if k not in ("messages", "payloads")} == listed
    assert client.get("/api/v1/runs/1").get_json()["messages"] == []


def _payload(body: bytes) -> Payload:
    return Payload(
        url="https://source.invalid/list?page=0&key=***",
        body=body,
        status=200,
        content_type="application/json",
        fetched_at=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC),
        params={"page": 0},
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/runs/99",
        "/api/v1/runs/0",
        "/api/v1/runs/x1",
        "/api/v1/runs/2147483648",  # past the stores' integer ids: never reaches the store
        "/api/v1/runs/-1",
        f"/api/v1/runs/1/payloads/{'0' * 64}",
        f"/api/v1/runs/1/payloads/{'é' * 64}",
    ],
)
def test_an_unknown_run_is_a_404_problem(runs, client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_an_unknown_run_says_where_the_runs_are(runs, client):
    problem = client.get("/api/v1/runs/99").get_json()
    assert problem["detail"] == "no harvest run 99; the runs are listed at /api/v1/runs"


@pytest.mark.parametrize(
    ("run_id", "body", "content_type", "name"),
    [
        (5, JSON_BODY, "application/json", "json"),
        (3, b"<html>503</html>", "text/html", "html"),
    ],
)
def test_a_payload_body_comes_byte_for_byte(runs, client, run_id, body, content_type, name):
    sha = hashlib.sha256(body).hexdigest()
    response = client.get(f"/api/v1/runs/{run_id}/payloads/{sha}")
    assert response.status_code == 200
    assert response.get_data() == body
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["ETag"] == f'"{sha}"'
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="run-{run_id}-{sha}.{name}"'
    )
    again = client.get(
        f"/api/v1/runs/{run_id}/payloads/{sha}", headers={"If-None-Match": f'W/"{sha}"'}
    )
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == f'"{sha}"'


def test_a_body_another_run_fetched_is_a_404_here(runs, client):
    sha = hashlib.sha256(JSON_BODY).hexdigest()
    response = client.get(f"/api/v1/runs/4/payloads/{sha}", headers={"If-None-Match": f'"{sha}"'})
    assert response.status_code == 404
    assert response.get_json()["detail"] == (
        f"run 4 fetched no payload '{sha}'; its payloads are listed at /api/v1/runs/4"
    )
    assert client.get(f"/api/v1/runs/99/payloads/{sha}").status_code == 404
    assert client.get(f"/api/v1/runs/5/payloads/{sha.upper()}").status_code == 404


def test_a_body_without_a_well_formed_content_type_is_bytes(runs, client):
    run_id = add_run(runs, "demo", "ok", (b"\x00\x01", "", 200), (b"x", "text/html\r\nX: y", 200))
    for body in (b"\x00\x01", b"x"):
        sha = hashlib.sha256(body).hexdigest()
        response = client.get(f"/api/v1/runs/{run_id}/payloads/{sha}")
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Disposition"].endswith(f'{sha}.bin"')


# --- caching ----------------------------------------------------------------------------------


def test_the_list_changes_after_a_run_that_changed_no_data(engine, make_app, monkeypatch, settings):
    cells = {cell: value for cell, value in CELLS.items() if cell[0] != "6371010"}
    monkeypatch.setattr(fakes.FakeHarvester, "next_result", fakes.result(cells))
    [first] = Runner(engine, settings).run([fakes.spec("demo")])
    assert first.status == "ok", first.error
    client = make_app().test_client()
    urls = ["/api/v1/runs", "/api/v1/runs?dataset=demo", "/api/v1/runs/1"]
    before = {url: client.get(url) for url in urls}
    with engine.connect() as conn:
        version = queries.data_state(conn)
    [outcome] = Runner(engine, settings).run([fakes.spec("demo")])
    assert outcome.status == "unchanged", outcome.error
    with engine.connect() as conn:
        assert queries.data_state(conn) == version  # the data did not change; the log did
    for url, response in before.items():
        etag = response.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 200 and again.headers["ETag"] != etag, url
    assert [run["status"] for run in client.get(urls[0]).get_json()["data"]] == [
        "unchanged",
        "ok",
    ]


def test_the_run_log_answers_304_while_it_is_unchanged(runs, client):
    for url in ("/api/v1/runs?status=failed", "/api/v1/runs/3"):
        etag = client.get(url).headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


# --- secrets ----------------------------------------------------------------------------------


def test_a_bps_key_never_appears_in_any_runs_response(engine, make_app, settings, tmp_path):
    ok = make_spec(tmp_path, "penduduk", domain="6300", var=30, years="2023-2024")
    blocked = make_spec(tmp_path, "inflasi", domain="6371", var=1, years=2024)
    with BPSStandIn(KEY, default_tables()) as server:
        live = {**settings, "BPS_BASE_URL": server.base_url, "BPS_API_KEY": KEY}
        live["BPS_REQUESTS_PER_SECOND"] = 1000.0
        first = Runner(engine, live, clock=FakeClock()).run([ok])
        # a library User-Agent meets BPS's firewall: a failed run that kept its HTML page
        live["BPS_USER_AGENT"] = "python-requests/2.32"
        second = Runner(engine, live, clock=FakeClock()).run([blocked])
    assert [o.status for o in first + second] == ["ok", "failed"]
    client = make_app().test_client()
    texts = [client.get("/api/v1/runs").get_data(as_text=True)]
    bodies = []
    for run in client.get("/api/v1/runs").get_json()["data"]:
        detail = client.get(run["links"]["self"])
        texts.append(detail.get_data(as_text=True))
        for payload in detail.get_json()["payloads"]:
            assert "key=***" in payload["url"]
            body = client.get(payload["links"]["body"])
            bodies.append(body.get_data())
            texts.append(str(body.headers))
    assert len(bodies) >= 3 and WAF_PAGE.encode() in bodies
    assert all(KEY not in text for text in texts)
    assert all(KEY.encode() not in body for body in bodies)


def test_a_running_run_and_what_it_fetches_show_at_once(store, client, engine):
    listed = client.get("/api/v1/runs")
    with engine.begin() as conn:  # a harvest starts, and fetches a body, while nobody finishes
        run_id = start_run(conn, "b", "demo", offline=False)
    running = client.get("/api/v1/runs", headers={"If-None-Match": listed.headers["ETag"]})
    assert running.status_code == 200
    assert running.get_json()["data"][0]["status"] == "running"
    detail = client.get(f"/api/v1/runs/{run_id}")
    with engine.begin() as conn:
        save_payload(conn, run_id, _payload(b'{"fetched": "while running"}'))
    again = client.get(f"/api/v1/runs/{run_id}", headers={"If-None-Match": detail.headers["ETag"]})
    assert again.status_code == 200 and len(again.get_json()["payloads"]) == 1
