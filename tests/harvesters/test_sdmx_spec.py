"""SDMX: the ``sdmx:`` section of a catalog entry is checked when the catalog loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvesters.sdmx_query import parse_query, sdmx1_sources
from opendata.catalog import load_catalog
from opendata.exceptions import CatalogError

VALID = """\
id: u5mr
title: Angka kematian balita
source: sdmx
sdmx:
  path: files/cme.csv
  region: {dimension: REF_AREA, map: {IDN: "0000"}}
  indicator: {dimension: INDICATOR}
  dimensions: [SEX, {dimension: WEALTH_QUINTILE, id: kuintil, label: Kuintil kekayaan}]
  select: {DATA_SOURCE: UN_IGME}
"""


def load(tmp_path: Path, sdmx_section: str, extra: str = ""):
    text = "id: u5mr\ntitle: Angka kematian balita\nsource: sdmx\nsdmx:\n"
    text += "".join(f"  {line}\n" for line in sdmx_section.strip().splitlines()) + extra
    (tmp_path / "u5mr.yaml").write_text(text, encoding="utf-8")
    return load_catalog(tmp_path)["u5mr"]


def test_a_valid_entry_loads(tmp_path):
    (tmp_path / "u5mr.yaml").write_text(VALID, encoding="utf-8")
    query = parse_query(load_catalog(tmp_path)["u5mr"])
    assert query.path == "files/cme.csv"
    assert query.region_map == {"IDN": "0000"}
    assert [(k.component, k.id, k.label) for k in query.dimensions] == [
        ("SEX", "sex", None),
        ("WEALTH_QUINTILE", "kuintil", "Kuintil kekayaan"),
    ]
    assert query.select == {"DATA_SOURCE": frozenset({"UN_IGME"})}


def test_an_sdmx1_source_with_flow_and_key_loads(tmp_path):
    spec = load(
        tmp_path,
        """
source: UNICEF
flow: UNICEF,CME,1.0
key: .CME_MRY0T4.._T._T._T
params: {startPeriod: 2015}
region: {map: {IDN: "0000"}}
""",
    )
    query = parse_query(spec)
    assert (query.source, query.flow, query.key) == (
        "UNICEF",
        "UNICEF,CME,1.0",
        ".CME_MRY0T4.._T._T._T",
    )
    assert query.params == {"startPeriod": "2015"}
    assert query.fetch_structure  # asked of the source unless structure: false


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "region: {map: {IDN: '0000'}}",
            r"sdmx: give exactly one of path \(a file\), url, or source",
        ),
        ("path: a.csv\nurl: https://x.org/a\nregion: {code: '0000'}", "give exactly one of path"),
        ("path: a.csv\nregion: {code: '0000'}\nfrmat: csv", r"sdmx: unknown key\(s\) frmat"),
        (
            "path: a.csv\nregion: {code: '0000'}\nformat: xlsx",
            r"sdmx.format: must be one of xml, json, csv",
        ),
        ("url: ftp://x.org/a\nregion: {code: '0000'}", r"sdmx.url: must be an http\(s\) URL"),
        ("path: a.csv\nflow: CME\nregion: {code: '0000'}", "sdmx.flow: only with source"),
        (
            "source: NOPE\nflow: CME\nregion: {code: '0000'}",
            r"sdmx.source: 'NOPE' is not an sdmx1 source \(known: .*UNICEF",
        ),
        ("source: UNICEF\nregion: {code: '0000'}", "sdmx.flow: is missing"),
        (
            "source: UNICEF\nflow: CME\nkey: {SEX: F}\nregion: {code: '0000'}",
            "sdmx.key: must be an SDMX key text",
        ),
        ("path: a.csv", r"sdmx.region: is missing: \{dimension: REF_AREA, map"),
        ("path: a.csv\nregion: {map: {}}", "sdmx.region.map: must map the source's area codes"),
        (
            "path: a.csv\nregion: {code: '0000', map: {IDN: '0000'}}",
            "sdmx.region: code .* goes alone",
        ),
        ("path: a.csv\nregion: {areas: {IDN: '0000'}}", r"sdmx.region: unknown key\(s\) areas"),
        (
            "path: a.csv\nregion: {code: '0000'}\nindicator: {code: x}",
            r"sdmx.indicator: give \{dimension: INDICATOR\}, or \{code: ..., name: ...\}",
        ),
        (
            "path: a.csv\nregion: {code: '0000'}\nindicator: {dimension: I, code: x}",
            "sdmx.indicator: give either dimension, or code and name",
        ),
        ("path: a.csv\nregion: {code: '0000'}\ndimensions: SEX", "sdmx.dimensions: must be a list"),
        (
            "path: a.csv\nregion: {code: '0000'}\ndimensions: [{dimension: SEX, id: Sex}]",
            r"sdmx.dimensions\[0\].id: must be lowercase",
        ),
        (
            "path: a.csv\nregion: {code: '0000'}\ndimensions: [{dimension: UNIT}]",
            r"sdmx.dimensions\[0\].id: 'unit' would repeat a CSV column: .*e.g. 'unit_dim'",
        ),
        (
            "path: a.csv\nregion: {code: '0000'}\ndimensions: [SEX, SEX]",
            r"sdmx.dimensions\[1\]: SEX is listed twice",
        ),
        (
            "path: a.csv\nregion: {code: '0000'}\ndimensions: [{dimension: SEX, name: x}]",
            r"sdmx.dimensions\[0\]: unknown key\(s\) name",
        ),
        (
            "path: a.csv\nregion: {code: '0000'}\nselect: {SEX: []}",
            "sdmx.select.SEX: the list of codes is empty",
        ),
    ],
)
def test_a_malformed_section_fails_naming_file_and_key(tmp_path, section, message):
    with pytest.raises(
        CatalogError, match=rf"u5mr\.yaml: {message}" if message.startswith("sdmx") else message
    ):
        load(tmp_path, section)


def test_the_top_level_dimensions_key_is_refused_for_sdmx(tmp_path):
    with pytest.raises(
        CatalogError,
        match=r"u5mr\.yaml: dimensions: an SDMX dataset names its dimensions in sdmx.dimensions",
    ):
        load(
            tmp_path,
            "path: a.csv\nregion: {code: '0000'}",
            extra="dimensions: {SEX: jenis_kelamin}\n",
        )


def test_the_source_ids_are_sdmx1s():
    assert {"ESTAT", "IMF", "OECD", "UNICEF", "WB_WDI"} <= set(sdmx1_sources())
