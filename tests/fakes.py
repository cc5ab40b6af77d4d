"""A scripted harvester for runner and store tests: its payloads and records are set by a test."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from harvesters.base import Harvester
from harvesters.exceptions import ParseError, UpstreamError
from opendata.catalog import parse_spec
from opendata.model import Dimension, DimensionValue, Indicator, ParseResult, Payload, Record


def spec(dataset_id: str = "demo", tmp_path=None, **query):
    """A catalog entry of the fake source."""
    from pathlib import Path

    path = Path(tmp_path or "/nonexistent") / f"{dataset_id}.yaml"
    return parse_spec(
        {"id": dataset_id, "title": "Demo", "source": "fake", "fake": query or {"n": 1}}, path
    )


def result(cells: dict[tuple[str, str, str], str | None], indicator: str = "1") -> ParseResult:
    """A parse result with one indicator, a sex dimension and cells (region, period, sex)."""
    sexes = [DimensionValue("1", "Laki-laki"), DimensionValue("2", "Perempuan")]
    sexes.append(DimensionValue("3", "Jumlah", is_total=True))
    return ParseResult(
        indicators=[Indicator(indicator, "Penduduk", unit="Jiwa", decimals=0)],
        dimensions=[Dimension("jenis_kelamin", "Jenis Kelamin", sexes)],
        records=[
            Record(
                indicator,
                region,
                period,
                (("jenis_kelamin", sex),),
                None if value is None else Decimal(value),
            )
            for (region, period, sex), value in cells.items()
        ],
    )


class FakeHarvester(Harvester):
    """Fetches ``payloads`` (given to keep), then fails or returns ``next_result``."""

    id = "fake"
    title = "Fake source"
    next_result: ParseResult | None = None
    fail_fetch: bool = False
    fail_parse: bool = False

    @classmethod
    def validate_spec(cls, spec) -> None:
        pass

    def fetch(self, spec, keep):
        # the body says what parse will return, as a real source's body would
        body = json.dumps({"dataset": spec.id, "result": repr(type(self).next_result)}).encode()
        payload = Payload(
            url="https://fake.invalid/data?key=***",
            body=body,
            status=200,
            content_type="application/json",
            fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
            params={"dataset": spec.id},
        )
        keep(payload)
        if type(self).fail_fetch:
            raise UpstreamError("the fake source answered 500 five times")
        return [payload]

    def parse(self, spec, payloads, regions):
        if type(self).fail_parse:
            raise ParseError("the fake payload is ambiguous")
        return type(self).next_result or ParseResult(no_data=True)
