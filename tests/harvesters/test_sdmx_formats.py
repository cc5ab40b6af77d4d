"""SDMX: the same observations in SDMX-ML (structure-specific, generic), SDMX-JSON and SDMX-CSV
(codes, labels=both, the .Stat flavour) give the same records, each figure exactly as written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harvesters.exceptions import ParseError
from harvesters.sdmx import SDMXHarvester
from opendata.model import DatasetSpec, DimensionValue, ParseResult, Record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdmx"
FORMATS = ["cme.ss.xml", "cme.generic.xml", "cme.json", "cme.csv", "cme.labels.csv", "cme.stat.csv"]
DIMS_T, DIMS_F, DIMS_M = ((("sex", "_T"),), (("sex", "F"),), (("sex", "M"),))
#: what every fixture holds for Indonesia (Malaysia is not in the map)
EXPECTED = [
    Record("CME_MRY0T4", "0000", "2019", DIMS_T, Decimal("23.60"), "E", "Interpolated"),
    Record("CME_MRY0T4", "0000", "2020", DIMS_T, Decimal("22.7879767553902"), None, None),
    Record("CME_MRY0T4", "0000", "2019", DIMS_F, None, "M", None),
    Record("CME_MRY0T4", "0000", "2020", DIMS_F, Decimal("20.4278156220471"), None, None),
    Record("CME_MRY0T4", "0000", "2020", DIMS_M, Decimal("25.0475199585074"), None, None),
]


def spec_of(directory: Path = FIXTURES, dataset_id: str = "u5mr", **query: Any) -> DatasetSpec:
    """A catalog entry of the SDMX source whose files lie in ``directory``."""
    query = {"region": {"map": {"IDN": "0000"}}, "dimensions": ["SEX"], **query}
    return DatasetSpec(
        id=dataset_id,
        title={"id": "Angka kematian balita"},
        source="sdmx",
        query=query,
        path=directory / f"{dataset_id}.yaml",
    )


def harvest(spec: DatasetSpec, regions) -> ParseResult:
    harvester = SDMXHarvester({}, offline=True)
    kept = []
    payloads = harvester.fetch(spec, kept.append)
    assert kept == payloads  # every body read is kept
    return harvester.parse(spec, payloads, regions)


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_gives_the_same_exact_records(name, regions):
    result = harvest(spec_of(path=name), regions)
    assert result.records == EXPECTED
    assert result.records[0].value.as_tuple().exponent == -2  # 23.60, not 23.6
    assert result.messages == ["skipped 1 observation(s) of 1 area(s) not in sdmx.region.map: MYS"]
    assert [(i.code, i.source_ref) for i in result.indicators] == [("CME_MRY0T4", name)]


@pytest.mark.parametrize("name", FORMATS)
def test_a_structure_gives_every_format_the_codelists_labels(name, regions):
    result = harvest(spec_of(path=name, structure="cme.structure.xml"), regions)
    assert result.records == EXPECTED
    [indicator] = result.indicators
    assert (indicator.name, indicator.unit) == (
        "Under-five mortality rate",
        "Deaths per 1,000 live births",
    )
    [sex] = result.dimensions
    # the concept's and the codes' Indonesian names where the structure has them
    assert (sex.id, sex.label) == ("sex", "Jenis kelamin")
    assert sex.values == [
        DimensionValue("_T", "Total", is_total=True),
        DimensionValue("F", "Perempuan"),
        DimensionValue("M", "Laki-laki"),
    ]


@pytest.mark.parametrize("name", ["cme.json", "cme.labels.csv", "cme.stat.csv"])
def test_labels_the_message_carries_are_used_without_a_structure(name, regions):
    result = harvest(spec_of(path=name), regions)
    [indicator] = result.indicators
    assert (indicator.name, indicator.unit) == (
        "Under-five mortality rate",
        "Deaths per 1,000 live births",
    )
    [sex] = result.dimensions
    assert sex.label == "Sex"
    assert [(v.code, v.label) for v in sex.values] == [
        ("_T", "Total"),
        ("F", "Female"),
        ("M", "Male"),
    ]


@pytest.mark.parametrize("name", ["cme.ss.xml", "cme.generic.xml", "cme.csv"])
def test_without_labels_the_codes_are_the_labels(name, regions):
    result = harvest(spec_of(path=name), regions)
    [indicator] = result.indicators
    assert (indicator.name, indicator.unit) == ("CME_MRY0T4", "D_PER_1000_B")
    [sex] = result.dimensions
    assert (sex.label, [v.label for v in sex.values]) == ("SEX", ["_T", "F", "M"])


def test_json_numbers_keep_their_digits(regions, tmp_path):
    """sdmx1 reads SDMX-JSON numbers as floats; we keep each number's text."""
    text = (FIXTURES / "cme.json").read_text(encoding="utf-8")
    text = text.replace("22.7879767553902", "0.10000000000000000555").replace("23.60", "1E+2")
    (tmp_path / "u5mr.json").write_text(text, encoding="utf-8")
    result = harvest(spec_of(tmp_path, path="u5mr.json"), regions)
    values = [str(r.value) for r in result.records[:2]]
    assert values == ["100", "0.10000000000000000555"]


def test_a_format_that_is_not_the_declared_one_fails_naming_the_file(regions):
    with pytest.raises(
        ParseError, match=r"cme\.json: sdmx\.format says csv, but the body reads as json"
    ):
        harvest(spec_of(path="cme.json", format="csv"), regions)


def test_a_csv_without_time_period_fails_naming_the_header(regions, tmp_path):
    (tmp_path / "x.csv").write_text("REF_AREA,OBS_VALUE\nIDN,1\n", encoding="utf-8")
    with pytest.raises(ParseError, match=r"x\.csv: an SDMX-CSV file needs the columns TIME_PERIOD"):
        harvest(spec_of(tmp_path, path="x.csv"), regions)


def test_a_csv_row_of_the_wrong_length_fails_naming_the_line(regions, tmp_path):
    text = "REF_AREA,SEX,TIME_PERIOD,OBS_VALUE\nIDN,_T,2020,1\nIDN,_T,2021\n"
    (tmp_path / "x.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ParseError, match=r"x\.csv: line 3 has 3 fields, the header 4"):
        harvest(spec_of(tmp_path, path="x.csv", indicator={"code": "x", "name": "X"}), regions)


def test_broken_xml_fails_naming_the_file(regions, tmp_path):
    (tmp_path / "x.xml").write_bytes(b"<message:GenericData><broken")
    with pytest.raises(ParseError, match=r"x\.xml: not a readable SDMX-ML data message"):
        harvest(spec_of(tmp_path, path="x.xml"), regions)


def test_a_structure_message_with_two_data_structures_is_refused(regions, tmp_path):
    text = (FIXTURES / "cme.structure.xml").read_text(encoding="utf-8")
    start, end = text.index("<str:DataStructure "), text.index("</str:DataStructure>") + 20
    second = text[start:end].replace('id="DSD_CME"', 'id="DSD_OTHER"')
    (tmp_path / "two.xml").write_text(text[:end] + second + text[end:], encoding="utf-8")
    (tmp_path / "cme.csv").write_bytes((FIXTURES / "cme.csv").read_bytes())
    with pytest.raises(
        ParseError, match=r"two\.xml: .* exactly one data structure .*DSD_CME, DSD_OTHER"
    ):
        harvest(spec_of(tmp_path, path="cme.csv", structure="two.xml"), regions)


def test_parsing_is_stable(regions):
    spec = spec_of(path="cme.ss.xml", structure="cme.structure.xml")
    harvester = SDMXHarvester({}, offline=True)
    payloads = harvester.fetch(spec, lambda payload: None)
    assert harvester.parse(spec, payloads, regions) == harvester.parse(spec, payloads, regions)


def test_payloads_from_the_store_parse_without_their_roles(regions):
    """Payloads parsed again later may have lost their params: structure messages are sniffed."""
    spec = spec_of(path="cme.ss.xml", structure="cme.structure.xml")
    harvester = SDMXHarvester({}, offline=True)
    payloads = harvester.fetch(spec, lambda payload: None)
    bare = [p.__class__(**{**p.__dict__, "params": {}}) for p in payloads]
    assert harvester.parse(spec, bare, regions).dimensions[0].label == "Jenis kelamin"


def test_structure_specific_data_without_a_structure_is_read_quietly(regions, caplog):
    """sdmx1 warns that it got no DSD; we expect that and move the attributes back."""
    with caplog.at_level("INFO"):
        harvest(spec_of(path="cme.ss.xml"), regions)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
