"""/metrics: requests by URL rule, cache lookups and the store's harvests, read back with
prometheus_client's own parser of the text format."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from opendata.store.runs import finish_run, start_run

OBSERVATIONS = "/api/v1/datasets/demo/observations?region=6371"
RULE = "/api/v1/datasets/<dataset_id>/observations"


def _get(client, url: str, **kwargs):
    """A request whose response is read and closed (the middleware counts it then)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    """The samples of /metrics, by (name, sorted labels)."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    response.close()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_requests_are_counted_by_url_rule_and_status(client):
    for _ in range(3):
        _get(client, OBSERVATIONS)
    _get(client, "/api/v1/datasets/no-such-dataset/observations")
    _get(client, "/no/such/page")
    samples = scrape(client)
    requests = {k: v for k, v in samples.items() if k[0] == "opendata_http_requests_total"}
    labels = (("method", "GET"), ("route", RULE))
    assert requests[("opendata_http_requests_total", (*labels, ("status", "200")))] == 3
    assert requests[("opendata_http_requests_total", (*labels, ("status", "404")))] == 1
    unmatched = (("method", "GET"), ("route", "(unmatched)"), ("status", "404"))
    assert requests[("opendata_http_requests_total", unmatched)] == 1
    # the paths clients typed never become labels
    http = [key for key in samples if key[0].startswith("opendata_http_")]
    assert http and not any("demo" in str(key) or "no-such" in str(key) for key in http)
    count = samples[("opendata_http_request_duration_seconds_count", labels)]
    assert count == 4
    assert samples[("opendata_http_request_duration_seconds_sum", labels)] > 0


def test_an_unknown_method_is_counted_as_other(client):
    """No rule matches a method the URL does not take: its route is `(unmatched)` too."""
    client.open("/healthz", method="BREW").close()
    samples = scrape(client)
    key = (("method", "other"), ("route", "(unmatched)"), ("status", "405"))
    assert samples[("opendata_http_requests_total", key)] == 1


def test_a_streamed_csv_is_counted_when_it_ends(client):
    response = client.get("/api/v1/datasets/demo/observations.csv")
    labels = (("method", "GET"), ("route", RULE + ".csv"), ("status", "200"))
    assert ("opendata_http_requests_total", labels) not in scrape(client)
    response.get_data()
    response.close()
    assert scrape(client)[("opendata_http_requests_total", labels)] == 1


def test_cache_hits_and_misses(client):
    _get(client, OBSERVATIONS)
    _get(client, OBSERVATIONS)
    _get(client, OBSERVATIONS)
    samples = scrape(client)
    assert samples[("opendata_response_cache_lookups_total", (("result", "miss"),))] == 1
    assert samples[("opendata_response_cache_lookups_total", (("result", "hit"),))] == 2


def test_the_data_version_and_the_harvests_are_read_at_each_scrape(store, client):
    from opendata.store import queries

    samples = scrape(client)
    with store.connect() as conn:
        version = queries.data_version(conn)
    assert samples[("opendata_store_up", ())] == 1
    assert samples[("opendata_data_version", ())] == version
    demo = (("dataset", "demo"),)
    assert samples[("opendata_dataset_last_harvest_status", (*demo, ("status", "ok")))] == 1
    assert samples[("opendata_dataset_last_harvest_status", (*demo, ("status", "failed")))] == 0
    assert samples[("opendata_dataset_harvest_failures", demo)] == 0
    checked = samples[("opendata_dataset_last_check_timestamp_seconds", demo)]
    assert samples[("opendata_dataset_last_harvest_timestamp_seconds", demo)] == checked

    with store.begin() as conn:
        finish_run(conn, start_run(conn, "b", "demo", offline=False), "failed", error="boom")
    samples = scrape(client)
    assert samples[("opendata_dataset_last_harvest_status", (*demo, ("status", "ok")))] == 0
    assert samples[("opendata_dataset_last_harvest_status", (*demo, ("status", "failed")))] == 1
    assert samples[("opendata_dataset_harvest_failures", demo)] == 1
    assert samples[("opendata_dataset_last_check_timestamp_seconds", demo)] == checked
    assert samples[("opendata_dataset_last_harvest_timestamp_seconds", demo)] > checked


def test_a_store_that_does_not_answer_is_reported(make_app, tmp_path):
    client = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}").test_client()
    samples = scrape(client)
    assert samples[("opendata_store_up", ())] == 0
    assert ("opendata_data_version", ()) not in samples


PUBLIC = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.mark.parametrize(
    "remote", ["127.0.0.1", "::1", "10.1.2.3", "172.20.0.5", "192.168.1.9", "::ffff:10.0.0.2"]
)
def test_loopback_and_private_clients_may_read_the_metrics_by_default(client, remote):
    scrape(client, environ_base={"REMOTE_ADDR": remote})


def test_a_public_client_gets_a_403_problem(client):
    response = client.get("/metrics", environ_base=PUBLIC)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "OPENDATA_METRICS_NETWORKS" in response.get_json()["detail"]


def test_the_networks_are_a_setting(store, make_app):
    anyone = make_app(METRICS_NETWORKS="*").test_client()
    scrape(anyone, environ_base=PUBLIC)
    one = make_app(METRICS_NETWORKS="203.0.113.0/24").test_client()
    scrape(one, environ_base=PUBLIC)
    assert one.get("/metrics").status_code == 403  # loopback is not in that list
    off = make_app(METRICS_NETWORKS="none").test_client()
    assert off.get("/metrics").status_code == 404
