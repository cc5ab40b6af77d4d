"""The naive reference of the API benchmark: plain Flask + stdlib ``sqlite3`` + ``json``.

What a first version of the observations endpoint would look like: a connection per request
(the Flask tutorial's ``get_db``), the same SQL as ``opendata.store.queries`` (the observation
join, in the same order, and the series' dimension values), the same fields, one list of objects
dumped by ``json.dumps``. No cache, no paging, no validation, no ETag; ``value`` goes through
``float`` (``7.10`` comes out ``7.1``: the naive app is not exact, the benchmark compares values
as decimals).

Served by ``bench/api/run.py`` under gunicorn with the worker settings of ``gunicorn.conf.py``
(``naive_gunicorn.conf.py``); ``BENCH_NAIVE_DATABASE`` is the SQLite file.
"""

from __future__ import annotations

import json
import os
import sqlite3

from flask import Flask, Response, g

from bench.api.reference import OBSERVATIONS_SQL, SERIES_DIMENSIONS_SQL

app = Flask(__name__)


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(os.environ["BENCH_NAIVE_DATABASE"])
    return g.db


@app.teardown_appcontext
def close_db(_error=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@app.get("/healthz")
def healthz():
    get_db().execute("SELECT 1")
    return {"status": "ok"}


@app.get("/datasets/<dataset_id>/observations")
def observations(dataset_id: str):
    db = get_db()
    dimensions: dict[int, dict] = {}
    for series_id, slug, code, label in db.execute(SERIES_DIMENSIONS_SQL, (dataset_id,)):
        dimensions.setdefault(series_id, {})[slug] = {"code": code, "label": label}
    rows = []
    for (
        region_code,
        region_name,
        period,
        series_id,
        _start,
        _end,
        value,
        unit,
        flag,
        note,
        _value_to,
    ) in db.execute(OBSERVATIONS_SQL, (dataset_id,)):
        rows.append(
            {
                "region": {"code": region_code, "name": region_name},
                "period": period,
                "dimensions": dimensions.get(series_id, {}),
                "value": None if value is None else float(value),
                "unit": unit,
                "flag": flag,
                "note": note,
            }
        )
    return Response(json.dumps(rows), mimetype="application/json")
