"""/healthz: the store is reachable and the catalog loaded, or a 503 saying which is not."""

from __future__ import annotations


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "status": "ok",
        "store": {"reachable": True, "data_version": response.get_json()["store"]["data_version"]},
        "catalog": {"loaded": True, "datasets": 1},
    }
    assert response.get_json()["store"]["data_version"] > 0


def test_a_catalog_that_does_not_load_is_a_503(store, make_app, tmp_path):
    client = make_app(CATALOG_DIR=tmp_path / "missing").test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["checks"]["catalog"]["loaded"] is False
    assert "missing" in problem["checks"]["catalog"]["error"]
    assert problem["checks"]["store"]["reachable"] is True
    assert "catalog" in problem["detail"]


def test_a_store_that_is_not_there_is_a_503(make_app, tmp_path):
    client = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}").test_client()
    problem = client.get("/healthz").get_json()
    assert problem["status"] == 503
    assert problem["checks"]["store"] == {
        "reachable": False,
        "data_version": None,
        "error": "OperationalError",
    }
