"""The BPS stand-in with scripted figures: a test sets each table's cells day by day.

``ScriptedTable.published`` is what the table publishes now ({(region code, year): value
text}); a cell not in it is not in the body. Each value is sent as the very JSON number its text
writes (``24.710`` stays ``24.710``), as BPS sends them. Annual tables, one column.
"""

from __future__ import annotations

import re

from tests.harvesters.bps_server import BPSStandIn, StandInTable


class ScriptedTable(StandInTable):
    """The stand-in's table, its cells those of the script's day (absent ones left out)."""

    published: dict[tuple[str, str], str] = {}
    last_update = "2027-01-01 10:00:00"

    def body(self, years):
        body = super().body(years)
        content = {}
        for (region, year), value in self.published.items():
            if int(year) in years:
                content[f"{region}{self.var}0{int(year) - 1900}0"] = f"#{value}#"
        body["datacontent"] = content
        body["last_update"] = self.last_update
        return body


class ScriptedStandIn(BPSStandIn):
    """The stand-in, each figure sent as the JSON number the script writes (``24.710`` too)."""

    def answer(self, path: str, user_agent: str) -> tuple[int, str, bytes]:
        status, content_type, body = super().answer(path, user_agent)
        return status, content_type, re.sub(rb'"#(-?[0-9.]+)#"', rb"\1", body)


def make_table(var: int, regions: dict[int, str]) -> ScriptedTable:
    """An annual table of ``regions`` (vervar) on domain 6300, publishing nothing yet."""
    return ScriptedTable(
        domain="6300",
        var=var,
        label="Jumlah Penduduk Menurut Kabupaten/Kota",
        unit="Ribu Jiwa",
        labelvervar="Kabupaten/Kota",
        vervar=list(regions.items()),
        years=[],
    )
