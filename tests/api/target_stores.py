"""Target and actual datasets written as the runner would, for the achievement tests.

- ``tpt`` (actual): open unemployment, indicator 543 in Persen, no dimensions, August and
  February figures of 6300 and 6371 (one flagged);
- ``tpt-target`` (targets of ``tpt``, lower is better): RPJMD-like ranges and figures in ``%``;
- ``makro`` (actual) and ``makro-target`` (its targets, better per value of ``indikator``): an
  ``indikator`` dimension on both sides, one indicator each, in different units.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from opendata.catalog import parse_spec
from opendata.model import Dimension, DimensionValue, Indicator, ParseResult, Record
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run
from opendata.store.writer import write_dataset


def spec(dataset_id: str, target: dict | None = None):
    raw = {"id": dataset_id, "title": dataset_id.upper(), "source": "fake", "fake": {"n": 1}}
    if target is not None:
        raw["target"] = target
    return parse_spec(raw, Path(f"/nonexistent/{dataset_id}.yaml"))


def result(indicator: Indicator, cells: dict, dimension: Dimension | None = None) -> ParseResult:
    """cells: (region, period[, dimension code]) -> value text, (low, high) texts, or None."""
    records = []
    for key, value in cells.items():
        region, period, *code = key
        dims = ((dimension.id, code[0]),) if dimension is not None else ()
        first, second = value if isinstance(value, tuple) else (value, None)
        records.append(
            Record(
                indicator.code,
                region,
                period,
                dims,
                None if first is None else Decimal(first),
                "L" if first is None else None,
                value_to=None if second is None else Decimal(second),
            )
        )
    return ParseResult(
        indicators=[indicator],
        dimensions=[dimension] if dimension is not None else [],
        records=records,
    )


def write(engine, dataset_spec, parsed: ParseResult):
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", dataset_spec.id, offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, dataset_spec, "Fake source", parsed, run_id, known)
        finish_run(conn, run_id, "ok", counts)
    return counts


TPT_TARGET = {"of": {"dataset": "tpt"}, "better": "lower", "document": "RPJMD 2021-2026"}
TPT_TARGETS = {
    ("6300", "2023"): "5.0",
    ("6300", "2024"): ("6.0", "6.9"),
    ("6300", "2025"): ("0.22", "0.18"),  # a descending range, as published
    ("6300", "2026"): ("4.0", "4.5"),  # no actual yet
    ("6371", "2024"): "4.20",
}
TPT_ACTUALS = {
    ("6300", "2023-08"): "4.31",
    ("6300", "2024-02"): "4.80",
    ("6300", "2024-08"): "4.56",
    ("6300", "2025-08"): "0.20",
    ("6371", "2024-02"): "4.00",
    ("6371", "2024-08"): None,  # flagged: not the latest figure of the year
}


def write_tpt_target(engine, target: dict | None = None, unit: str = "%"):
    parsed = result(Indicator("T1", "Target TPT", unit=unit), TPT_TARGETS)
    return write(engine, spec("tpt-target", target or TPT_TARGET), parsed)


def write_tpt(engine, unit: str = "Persen", cells: dict | None = None):
    parsed = result(Indicator("543", "TPT", unit=unit), TPT_ACTUALS if cells is None else cells)
    return write(engine, spec("tpt"), parsed)


INDIKATOR = Dimension(
    "indikator",
    "Indikator",
    [DimensionValue("pe", "Pertumbuhan ekonomi"), DimensionValue("tpt", "TPT")],
)
MAKRO_TARGET = {
    "of": {"dataset": "makro"},
    "better": {"by": "indikator", "lower": ["tpt"], "higher": ["pe"]},
    "document": "LKjIP 2014",
}


def write_makro(engine):
    actual = {("6300", "2014", "pe"): "4.85", ("6300", "2014", "tpt"): "4.03"}
    write(engine, spec("makro"), result(Indicator("R", "Realisasi"), actual, INDIKATOR))
    targets = {("6300", "2014", "pe"): "6.00", ("6300", "2014", "tpt"): "6.50"}
    parsed = result(Indicator("T", "Target"), targets, INDIKATOR)
    write(engine, spec("makro-target", MAKRO_TARGET), parsed)
