"""The catalog's ``target:`` section: a dataset of plan targets names the figures it targets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from opendata.catalog import load_catalog
from opendata.exceptions import CatalogError
from opendata.model import TargetSpec

ACTUAL = "id: tpt\ntitle: TPT\nsource: bps\nbps: {domain: '6300', var: 543, years: 2024}\n"


def _catalog(tmp_path, target: str, actual: str = ACTUAL):
    (tmp_path / "tpt.yaml").write_text(actual, encoding="utf-8")
    (tmp_path / "target-tpt.yaml").write_text(
        "id: target-tpt\ntitle: Target TPT\nsource: bps\n"
        "bps: {domain: '6300', var: 9, years: 2024}\n" + target,
        encoding="utf-8",
    )
    return tmp_path


def test_a_target_section_is_read_whole(tmp_path):
    catalog = load_catalog(
        _catalog(
            tmp_path,
            "target:\n"
            "  of: {dataset: tpt, indicator: 543, dimensions: {jenis_kelamin: _T}}\n"
            "  better: lower\n"
            "  document: RPJMD Provinsi Kalimantan Selatan 2021-2026\n"
            "  scale: 1000000\n",
        )
    )
    target = catalog["target-tpt"].target
    assert target == TargetSpec(
        dataset="tpt",
        better="lower",
        indicator="543",
        dimensions={"jenis_kelamin": "_T"},
        document="RPJMD Provinsi Kalimantan Selatan 2021-2026",
        scale=Decimal("1000000"),
    )
    assert catalog["tpt"].target is None
    assert TargetSpec.from_json(target.to_json()) == target


def test_better_can_be_decided_per_value_of_a_dimension(tmp_path):
    target = load_catalog(
        _catalog(
            tmp_path,
            "target:\n  of: tpt\n"
            "  better: {by: indikator, lower: [inflasi, 4], higher: [pertumbuhan]}\n",
        )
    )["target-tpt"].target
    assert target.better is None and target.better_by == "indikator"
    assert target.better_for({"indikator": "inflasi"}) == "lower"
    assert target.better_for({"indikator": "4"}) == "lower"
    assert target.better_for({"indikator": "pertumbuhan"}) == "higher"
    assert target.better_for({"indikator": "other"}) is None


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("target:\n  of: {dataset: tpt-provinsi}\n  better: lower\n", "no dataset 'tpt-provinsi'"),
        ("target:\n  of: {dataset: tptt}\n  better: lower\n", "did you mean 'tpt'?"),
        ("target:\n  of: {dataset: target-tpt}\n  better: lower\n", "the target of itself"),
        ("target:\n  of: {dataset: tpt}\n", "'better' is missing"),
        ("target:\n  of: {dataset: tpt}\n  better: smaller\n", "must be 'lower'"),
        ("target:\n  better: lower\n", "target.of: must name the dataset"),
        ("target:\n  of: {dataset: tpt, indikator: 1}\n  better: lower\n", "unknown key"),
        ("target:\n  of: tpt\n  better: lower\n  scale: -1\n", "scale: must be a positive"),
        ("target:\n  of: tpt\n  better: lower\n  scale: juta\n", "scale: must be a positive"),
        ("target:\n  of: tpt\n  better: lower\n  skala: 1000\n", "unknown key 'skala'"),
        (
            "target:\n  of: tpt\n  better: {by: indikator, lower: [a], higher: [a]}\n",
            "the code 'a' is both lower and higher",
        ),
        ("target:\n  of: tpt\n  better: {by: indikator}\n", "list the codes of 'indikator'"),
        (
            "target:\n  of: {dataset: tpt, dimensions: {Jenis: 1}}\n  better: lower\n",
            "of.dimensions: must map",
        ),
        ("target: lower\n", "target: must be a mapping"),
    ],
)
def test_a_broken_target_section_says_what_to_fix(tmp_path, target, message):
    with pytest.raises(CatalogError) as info:
        load_catalog(_catalog(tmp_path, target))
    assert message in str(info.value)
    assert "target-tpt.yaml" in str(info.value)


def test_a_target_of_a_target_is_refused(tmp_path):
    _catalog(tmp_path, "target:\n  of: tpt\n  better: lower\n")
    (tmp_path / "target-2.yaml").write_text(
        "id: target-2\ntitle: T\nsource: bps\nbps: {domain: '6300', var: 9, years: 2024}\n"
        "target:\n  of: target-tpt\n  better: lower\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="holds targets itself"):
        load_catalog(tmp_path)
