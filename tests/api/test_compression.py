"""gzip and brotli when a client asks (flask-compress), the same bytes once decoded."""

from __future__ import annotations

import gzip
import io

import brotli
import pandas as pd

JSON = "/api/v1/datasets/demo/observations"
CSV = "/api/v1/datasets/demo/observations.csv"


def test_json_is_gzipped_when_asked_and_decodes_to_the_same_bytes(client):
    plain = client.get(JSON)
    packed = client.get(JSON, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert (
        "Accept-Encoding" in plain.headers["Vary"] and "Accept-Encoding" in packed.headers["Vary"]
    )
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + ':gzip"'


def test_brotli_when_only_brotli_is_accepted(client):
    plain = client.get(JSON)
    packed = client.get(JSON, headers={"Accept-Encoding": "br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.get_data()) == plain.get_data()


def test_a_compressed_bodys_etag_gets_304(client):
    packed = client.get(JSON, headers={"Accept-Encoding": "gzip"})
    again = client.get(
        JSON, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    )
    assert again.status_code == 304 and again.headers["ETag"] == packed.headers["ETag"]
    plain_tag = client.get(JSON).headers["ETag"]
    assert client.get(JSON, headers={"If-None-Match": plain_tag}).status_code == 304


def test_the_csv_download_is_gzipped_as_it_streams(client):
    plain = client.get(CSV)
    packed = client.get(CSV, headers={"Accept-Encoding": "gzip"})
    assert packed.is_streamed and packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in packed.headers
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    frame = pd.read_csv(io.BytesIO(packed.get_data()), compression="gzip", dtype=str)
    assert list(frame.columns)[:2] == ["dataset", "region_code"] and len(frame) > 0


def test_small_answers_and_problems_stay_plain(client):
    problem = client.get("/api/v1/datasets/nope", headers={"Accept-Encoding": "gzip"})
    assert problem.status_code == 404 and "Content-Encoding" not in problem.headers
