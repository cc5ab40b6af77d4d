"""Regions from the store: any code system, levels, parents and children."""

from __future__ import annotations


def test_regions_by_level(client):
    provinces = client.get("/api/v1/regions?level=province").get_json()["data"]
    assert len(provinces) == 38
    assert {
        "code": "6300",
        "name": "Provinsi Kalimantan Selatan",
        "level": "province",
        "parent_code": "0000",
    } in provinces
    assert [r["code"] for r in client.get("/api/v1/regions?level=country").get_json()["data"]] == [
        "0000"
    ]


def test_regions_under_a_parent_named_in_any_system(client):
    by_bps = client.get("/api/v1/regions?parent=6300").get_json()["data"]
    assert by_bps == client.get("/api/v1/regions?parent=63").get_json()["data"]
    assert len(by_bps) == 13 and {r["level"] for r in by_bps} == {"regency"}
    districts = client.get("/api/v1/regions?parent=63.71&level=district").get_json()["data"]
    assert districts == [
        {
            "code": "6371010",
            "name": "Banjarmasin Selatan",
            "level": "district",
            "parent_code": "6371",
        }
    ]


def test_a_region_by_any_of_its_codes(client):
    region = client.get("/api/v1/regions/63.71").get_json()
    assert region == client.get("/api/v1/regions/6371").get_json()
    assert region["code"] == "6371" and region["name"] == "Kota Banjarmasin"
    assert {"system": "kemendagri", "code": "63.71"} in region["aliases"]
    assert region["parent"]["code"] == "6300"
    assert [c["code"] for c in region["children"]] == ["6371010"]


def test_a_legacy_bps_code_names_the_current_region(client):
    region = client.get("/api/v1/regions/9106").get_json()
    assert region["code"] == "9203"
    assert {"system": "bps-legacy", "code": "9106"} in region["aliases"]


def test_indonesia_has_no_parent_and_every_province_as_child(client):
    country = client.get("/api/v1/regions/0000").get_json()
    assert country["parent"] is None and country["parent_code"] is None
    assert len(country["children"]) == 38
