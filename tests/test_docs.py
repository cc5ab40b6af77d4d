"""Docs are part of the feature: settings and harvesters may not drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from harvesters import list_harvesters
from opendata.config import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"
TEST_ONLY = {"OPENDATA_TEST_POSTGRES_URL"}


def test_every_setting_is_documented_and_every_documented_one_exists():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(OPENDATA_[A-Z0-9_]+)`", text)) - TEST_ONLY
    assert documented == {s.env for s in SETTINGS}


def test_every_setting_has_help_text():
    assert all(len(s.help) > 20 for s in SETTINGS)


def test_every_harvester_has_a_section_in_the_harvester_docs():
    text = (DOCS / "harvesters.md").read_text(encoding="utf-8")
    for harvester_id in list_harvesters():
        assert re.search(rf"^#+ .*`{harvester_id}`", text, re.MULTILINE), harvester_id
