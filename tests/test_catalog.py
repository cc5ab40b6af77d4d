"""The catalog: every bundled dataset loads; a broken file says which key to fix."""

from __future__ import annotations

import textwrap

import pytest

from harvesters import list_harvesters
from opendata.catalog import load_catalog, load_spec
from opendata.config import PROJECT_DIR
from opendata.exceptions import CatalogError

BUNDLED = PROJECT_DIR / "datasets"


def test_the_bundled_catalog_loads_and_each_dataset_has_what_an_offline_harvest_reads():
    catalog = load_catalog(BUNDLED)
    assert len(catalog) >= 11
    assert sum(spec.source == "spreadsheet" for spec in catalog.values()) >= 3  # Bappeda too
    for spec in catalog.values():
        assert spec.source in list_harvesters()
        assert spec.title["id"] and spec.license and spec.attribution
        if spec.source == "spreadsheet" and "path" in spec.query:
            assert (spec.path.parent / spec.query["path"]).is_file(), spec.id  # read in place
        else:
            assert any(spec.snapshot_dir.glob("*.json")), spec.id


def test_each_bundled_file_is_read_by_a_dataset_and_its_source_is_cited():
    """A file under datasets/files/ is read by an entry and named in the README beside it."""
    read = {
        (spec.path.parent / spec.query["path"]).resolve()
        for spec in load_catalog(BUNDLED).values()
        if spec.source == "spreadsheet" and "path" in spec.query
    }
    folder = BUNDLED / "files"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    files = sorted(p for p in folder.iterdir() if p.name != "README.md")
    assert files and set(p.resolve() for p in files) == read
    for path in files:
        assert f"`{path.name}`" in readme, path.name


def _write(tmp_path, body: str, name: str = "demo"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_an_unquoted_domain_0000_is_read_as_text(tmp_path):
    path = _write(
        tmp_path,
        """\
        id: demo
        title: {id: Inflasi, en: Inflation}
        source: bps
        bps: {domain: 0000, var: 2263, years: "2020-2024"}
        """,
    )
    spec = load_spec(path)
    assert spec.query["domain"] == "0000"
    assert spec.title == {"id": "Inflasi", "en": "Inflation"}
    assert load_catalog(tmp_path)["demo"].query["domain"] == "0000"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("title: T\nsource: bps\nbps: {}\n", "the key 'id' is missing"),
        ("id: other\ntitle: T\nsource: bps\nbps: {}\n", "must be named after its id"),
        ("id: Demo X\ntitle: T\nsource: bps\n", "'id' must be lowercase"),
        ("id: demo\ntitle: T\nsource: bps\n", "needs a 'bps:' mapping"),
        ('id: "demo\\n"\ntitle: T\nsource: bps\nbps: {}\n', "'id' must be lowercase"),
        (
            'id: demo\ntitle: T\nsource: bps\ndimensions: {vervar: "sex\\n"}\n'
            'bps: {domain: "6300", var: 1, years: 2024}\n',
            "'dimensions' must map",
        ),
        ("id: demo\ntitle: {en: T}\nsource: bps\nbps: {}\n", "'title' must be a text"),
        ("id: demo\ntitle: T\nsource: nope\nnope: {}\n", "no harvester 'nope'"),
        (
            "id: demo\ntitle: T\nsource: bps\nfrequency: daily\n"
            'bps: {domain: "6300", var: 1, years: 2024}\n',
            "'frequency' must be one of",
        ),
        ("id: demo\ntitle: [T\n", "not valid YAML"),
        (
            "id: demo\ntitle: T\nsource: bps\nlicence: CC-BY\n"
            'bps: {domain: "6300", var: 1, years: 2024}\n',
            "unknown key 'licence': did you mean 'license'?",
        ),
        (
            "id: demo\ntitle: T\nsource: bps\natribution: BPS\n"
            'bps: {domain: "6300", var: 1, years: 2024}\n',
            "did you mean 'attribution'?",
        ),
    ],
)
def test_a_broken_file_names_itself_and_the_key(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        (
            "{vervar: region}",
            "dimensions.vervar: 'region' would repeat a CSV column: its column 'region_code' is "
            "one of the fixed columns (dataset, region_code, region_name, period, value, unit, "
            "flag, note); choose another id, e.g. 'region_dim'",
        ),
        ("{turvar: value}", "dimensions.turvar: 'value' would repeat a CSV column"),
        ("{turvar: note}", "e.g. 'note_dim'"),
        ("{vervar: period}", "dimensions.vervar: 'period' would repeat"),
        ("{vervar: region_name}", "its column 'region_name' is one of the fixed columns"),
        (
            "{vervar: harga, turvar: harga_code}",
            "dimensions.turvar: 'harga_code' would repeat a CSV column: its column 'harga_code' "
            "is a column of dimension 'harga' too; choose another id, e.g. 'harga_code_dim'",
        ),
        ("{vervar: sektor, turvar: sektor}", "a column of dimension 'sektor' too"),
    ],
)
def test_a_dimension_id_that_repeats_a_csv_column_is_refused(tmp_path, dimensions, message):
    path = _write(
        tmp_path,
        "id: demo\ntitle: T\nsource: bps\nbps: {domain: '6300', var: 1, years: 2024}\n"
        f"dimensions: {dimensions}\n",
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}: ")


def test_dimension_ids_near_the_fixed_columns_are_fine(tmp_path):
    _write(
        tmp_path,
        "id: demo\ntitle: T\nsource: bps\nbps: {domain: '6300', var: 1, years: 2024}\n"
        "dimensions: {vervar: region_dim, turvar: nilai}\n",
    )
    assert load_catalog(tmp_path)["demo"].dimensions == {"vervar": "region_dim", "turvar": "nilai"}


def test_more_keys_are_allowed_and_kept(tmp_path):
    path = _write(
        tmp_path,
        """\
        id: demo
        title: T
        source: bps
        bps: {domain: "6300", var: 1, years: 2024}
        contact: bappeda@kalselprov.go.id
        """,
    )
    assert load_spec(path).extra == {"contact": "bappeda@kalselprov.go.id"}
