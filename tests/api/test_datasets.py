"""Datasets: the list and each one's metadata, as the store holds them."""

from __future__ import annotations

from datetime import datetime

from tests.api.conftest import CELLS, harvest


def test_the_list_has_titles_source_units_and_last_harvest(store, client):
    harvest(store, {("6371", "2024", "1"): "1"}, dataset_id="another")
    listed = client.get("/api/v1/datasets").get_json()["data"]
    assert [d["id"] for d in listed] == ["another", "demo"]
    demo = listed[1]
    assert demo["title"] == {"id": "Demo"}
    assert demo["source"] == {"id": "fake", "title": "Fake source", "url": None}
    assert demo["units"] == ["Jiwa"]
    harvest_ = demo["last_harvest"]
    assert (harvest_["status"], harvest_["added"], harvest_["changed"]) == ("ok", len(CELLS), 0)
    assert datetime.fromisoformat(harvest_["finished_at"]).utcoffset().total_seconds() == 0
    assert demo["links"]["self"] == "/api/v1/datasets/demo"
    for link in demo["links"].values():
        assert client.get(link).status_code == 200


def test_last_harvest_is_the_latest_finished_run(store, client):
    harvest(store, CELLS)
    last = client.get("/api/v1/datasets/demo").get_json()["last_harvest"]
    assert (last["added"], last["changed"], last["unchanged"]) == (0, 0, len(CELLS))


def test_the_detail_has_indicators_dimensions_and_provenance(client):
    demo = client.get("/api/v1/datasets/demo").get_json()
    assert demo["indicators"] == [
        {
            "code": "1",
            "name": "Penduduk",
            "unit": "Jiwa",
            "decimals": 0,
            "definition": None,
            "notes": None,
            "subject": None,
            "source_ref": None,
            "source_last_update": None,
        }
    ]
    assert demo["dimensions"] == [
        {
            "id": "jenis_kelamin",
            "label": "Jenis Kelamin",
            "values": [
                {"code": "1", "label": "Laki-laki", "is_total": False},
                {"code": "2", "label": "Perempuan", "is_total": False},
                {"code": "3", "label": "Jumlah", "is_total": True},
            ],
        }
    ]
    for key in ("license", "attribution", "description", "source_last_update"):
        assert demo[key] is None
    assert demo["tags"] == []
    assert demo["data_changed_at"] == demo["last_harvest"]["finished_at"]


def test_an_empty_store_lists_no_dataset(make_app):
    assert make_app().test_client().get("/api/v1/datasets").get_json() == {"data": []}
