"""Data flows one way: the store never imports harvesters, harvesters never import the store,
the catalog's loader or the web app, and the web workers never import the harvesters."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _imported(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("opendata.store.writer", ("harvesters",)),
        ("opendata.store.runs", ("harvesters",)),
        ("opendata.store.queries", ("harvesters", "flask")),
        ("harvesters.bps", ("opendata.store", "opendata.catalog", "opendata.api", "flask")),
        ("opendata.catalog", ("harvesters", "opendata.store")),
        ("opendata.region_names", ("harvesters", "opendata.store", "flask", "openpyxl")),
        ("opendata.api", ("harvesters", "requests")),
    ],
)
def test_modules_import_only_what_their_layer_may(module, forbidden):
    imported = _imported(module)
    bad = sorted(m for m in imported if m.split(".")[0] in forbidden or m in forbidden)
    bad += sorted(m for m in imported for f in forbidden if "." in f and m.startswith(f))
    assert not bad, f"{module} imports {bad}"
