"""Docs are part of the feature: settings and harvesters may not drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from harvesters import list_harvesters
from opendata.config import NOT_SETTINGS, PROJECT_DIR, SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"
TEST_ONLY = {"OPENDATA_TEST_POSTGRES_URL"}
#: the typo docs/configuration.md shows to explain the warning about unknown variables
TYPO_EXAMPLES = {"OPENDATA_PAGESIZE"}
#: what is not the project's own code or docs (the changelog may name settings of the past;
#: tests name misspelt variables on purpose)
NOT_SCANNED = {".git", ".venv", ".ruff_cache", ".pytest_cache", "data", "tests", "build"}
SCANNED_SUFFIXES = {".py", ".md", ".toml", ".yaml", ".cfg", ".ini", ".txt", ""}


def test_every_setting_is_documented_and_every_documented_one_exists():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(OPENDATA_[A-Z0-9_]+)`", text)) - TEST_ONLY - TYPO_EXAMPLES
    assert documented == {s.env for s in SETTINGS}


def test_every_setting_has_help_text():
    assert all(len(s.help) > 20 for s in SETTINGS)


def test_every_harvester_has_a_section_in_the_harvester_docs():
    text = (DOCS / "harvesters.md").read_text(encoding="utf-8")
    for harvester_id in list_harvesters():
        assert re.search(rf"^#+ .*`{harvester_id}`", text, re.MULTILINE), harvester_id


def _project_files():
    for path in sorted(PROJECT_DIR.rglob("*")):
        parts = path.relative_to(PROJECT_DIR).parts
        if (
            path.is_file()
            and not (set(parts) & NOT_SCANNED)
            and not any(p.endswith(".egg-info") for p in parts)
            and path.suffix in SCANNED_SUFFIXES
            and path.name != "CHANGELOG.md"
        ):
            yield path


def test_every_variable_that_code_and_docs_name_is_a_setting():
    known = {s.env for s in SETTINGS} | NOT_SETTINGS | TYPO_EXAMPLES
    named = {}
    for path in _project_files():
        for name in re.findall(r"OPENDATA_[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8", "replace")):
            named.setdefault(name, path.relative_to(PROJECT_DIR).as_posix())
    assert "OPENDATA_DATABASE_URL" in named  # the scan reads the project
    assert {n: where for n, where in named.items() if n not in known} == {}


def test_every_catalog_example_of_the_harvester_docs_is_a_valid_entry(tmp_path):
    from harvesters import get_harvester
    from opendata.catalog import load_spec

    text = (DOCS / "harvesters.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "\nsource:" in b]
    assert {re.search(r"^source: (\w+)", b, re.M).group(1) for b in blocks} >= {
        "bps",
        "spreadsheet",
        "ckan",
        "sdmx",
    }
    for number, block in enumerate(blocks):
        dataset_id = re.search(r"^id: (\S+)", block, re.M).group(1)
        (tmp_path / str(number)).mkdir()
        path = tmp_path / str(number) / f"{dataset_id}.yaml"
        path.write_text(block, encoding="utf-8")
        spec = load_spec(path)
        get_harvester(spec.source).validate_spec(spec)
