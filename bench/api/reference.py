"""The references' SQL, and the CSV reference process (stdlib only, so it starts fast).

``OBSERVATIONS_SQL`` and ``SERIES_DIMENSIONS_SQL`` are the statements the API runs
(``opendata.store.queries``: the observation join in the served order, and each series'
dimension values); ``bench/api/run.py`` checks that they still are, and fails if the app's
changed. The naive app (``naive_app.py``) serves them as JSON.

As a script, ``python bench/api/reference.py STORE DATASET OUT`` writes the CSV export of
``DATASET`` to ``OUT`` with Python's ``csv`` module: the same columns, cells and CRLF line ends
as ``GET /api/v1/datasets/{id}/observations.csv`` (without the formula guard, which the
synthetic data never needs), so the two files are byte for byte the same.
"""

from __future__ import annotations

import csv
import sqlite3
import sys

OBSERVATIONS_SQL = """
SELECT series.region_code, region.name AS region_name, observation.period,
       series.id AS series_id,
       observation.period_start, observation.period_end, observation.value_text,
       indicator.unit, observation.flag, observation.note, observation.value_to_text
FROM observation
JOIN series ON series.id = observation.series_id
JOIN region ON region.code = series.region_code
JOIN indicator ON indicator.id = series.indicator_id
WHERE series.dataset_id = ? AND series.retired_run_id IS NULL
  AND observation.withdrawn_run_id IS NULL
ORDER BY series.region_code, series.id, observation.period_start, observation.period_end
"""

SERIES_DIMENSIONS_SQL = """
SELECT series_dimension.series_id, dimension.slug, dimension_value.code, dimension_value.label
FROM series_dimension
JOIN series ON series.id = series_dimension.series_id
JOIN dimension ON dimension.id = series_dimension.dimension_id
JOIN dimension_value ON dimension_value.id = series_dimension.value_id
WHERE series.dataset_id = ? AND series.retired_run_id IS NULL
ORDER BY series_dimension.series_id, dimension.position
"""

SLUGS_SQL = (
    "SELECT slug FROM dimension WHERE dataset_id = ? AND retired_run_id IS NULL ORDER BY position"
)


def write_csv(store: str, dataset_id: str, out: str) -> int:
    """Write the dataset's observations as CSV to ``out``; return the number of rows."""
    conn = sqlite3.connect(store)
    slugs = [slug for (slug,) in conn.execute(SLUGS_SQL, (dataset_id,))]
    series: dict[int, dict[str, tuple[str, str]]] = {}
    for series_id, slug, code, label in conn.execute(SERIES_DIMENSIONS_SQL, (dataset_id,)):
        series.setdefault(series_id, {})[slug] = (code, label)
    header = ["dataset", "region_code", "region_name", "period"]
    for slug in slugs:
        header += [f"{slug}_code", slug]
    header += ["value", "unit", "flag", "note"]
    count = 0
    with open(out, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow(header)
        for (
            code,
            name,
            period,
            series_id,
            _start,
            _end,
            value,
            unit,
            flag,
            note,
            _to,
        ) in conn.execute(OBSERVATIONS_SQL, (dataset_id,)):
            values = series.get(series_id, {})
            cells = [cell for slug in slugs for cell in values.get(slug, ("", ""))]
            writer.writerow([dataset_id, code, name, period, *cells, value, unit, flag, note])
            count += 1
    conn.close()
    return count


if __name__ == "__main__":
    write_csv(*sys.argv[1:4])
