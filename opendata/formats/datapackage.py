"""A Frictionless Data Package (v1, ``tabular-data-package``) describing a dataset's long CSV.

One resource: the CSV of :mod:`opendata.formats.csv`, by absolute URL, with a Table Schema that
says what each column holds: the column types (``value`` and ``value_to`` are numbers, the rest
strings), ``missingValues`` (an empty cell: a missing value, whose ``flag`` says why), the
codes each dimension may take, the periods' pattern, the units, and the primary key.

The key is ``region_code, period`` and each dimension's code column: one row per cell. A
dataset of several indicators has no key (the long CSV has no indicator column, so two
indicators' rows may share one); its units are the ``unit`` column's values either way.

Codes and units go through the CSV's formula guard (:func:`opendata.formats.csv.neutralize`),
so that the schema's ``enum`` names them as the CSV writes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from opendata import columns
from opendata.formats.csv import neutralize
from opendata.store.queries import DatasetInfo

#: a period as the CSV writes it: 2024, 2024-08, 2024-Q3, 2024-S1
PERIOD_PATTERN = r"[1-9][0-9]{3}(-(0[1-9]|1[0-2]|Q[1-4]|S[12]))?"
#: a Data Package name: lower-case letters, digits and ``-._/``
_NAME = re.compile(r"[^a-z0-9._/-]+")


def package_name(dataset_id: str) -> str:
    """The dataset id as a Data Package name (lower case, ``-`` for anything else)."""
    return _NAME.sub("-", dataset_id.lower()) or "dataset"


def table_schema(info: DatasetInfo, ranges: bool) -> dict[str, Any]:
    """The Table Schema of the dataset's long CSV (its columns as :mod:`opendata.columns`)."""
    units = sorted(neutralize(u) for u in info.units if u)
    unit_words = ", ".join(units) or "none stated"
    fields: list[dict[str, Any]] = [
        {"name": "dataset", "type": "string", "constraints": {"required": True}},
        {
            "name": "region_code",
            "type": "string",
            "title": "Region code",
            "description": "BPS code of the region (0000 Indonesia, 6300 Kalimantan Selatan).",
            "constraints": {"required": True},
        },
        {"name": "region_name", "type": "string", "title": "Region"},
        {
            "name": "period",
            "type": "string",
            "title": "Period",
            "description": "2024 (a year), 2024-S1 (a half-year), 2024-Q3, 2024-08.",
            "constraints": {"required": True, "pattern": PERIOD_PATTERN},
        },
    ]
    key = ["region_code", "period"]
    for dim in info.dimensions:
        code, label = columns.columns_of(dim.slug)
        codes = [neutralize(c) for c, _l, _t in dim.values]
        fields.append(
            {
                "name": code,
                "type": "string",
                "title": f"{dim.label} (code)",
                "constraints": {"required": True, "enum": codes},
            }
        )
        fields.append({"name": label, "type": "string", "title": dim.label})
        key.append(code)
    value = {
        "name": "value",
        "type": "number",
        "title": "Value",
        "description": "The figure with the source's digits, in the row's unit "
        f"({unit_words}); empty when missing (see flag).",
        "unit": units[0] if len(units) == 1 else None,
    }
    if value["unit"] is None:
        del value["unit"]
    fields.append(value)
    if ranges:
        fields.append(
            {
                "name": columns.VALUE_TO,
                "type": "number",
                "description": "A range's second end (a target 6,0-6,9: 6.9); else empty.",
            }
        )
    unit_field: dict[str, Any] = {"name": "unit", "type": "string", "title": "Unit"}
    if units:
        unit_field["constraints"] = {"enum": units}
    fields += [
        unit_field,
        {
            "name": "flag",
            "type": "string",
            "description": "Why value is empty, or the source's mark on it: M missing, "
            "L not available, C confidential, or the source's own mark.",
        },
        {"name": "note", "type": "string", "description": "The source's note."},
    ]
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if len(info.indicators) <= 1:
        schema["primaryKey"] = key
    return schema


def data_package(
    info: DatasetInfo,
    ranges: bool,
    csv_url: str,
    dataset_url: str,
    text: Callable[[dict[str, str]], str],
    checksum: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """The descriptor: ``csv_url`` the CSV's absolute URL, ``dataset_url`` the dataset's;
    ``text`` picks the title and description in the language asked for; ``checksum``, the
    CSV's SHA-256 (hex) and size when it is the whole dataset's (Frictionless checks them)."""
    name = package_name(info.id)
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": name,
        "id": dataset_url,
        "title": text(info.title),
        "description": text(info.description),
        "homepage": dataset_url,
    }
    if info.tags:
        package["keywords"] = list(info.tags)
    if info.license:
        # free text, no Open Definition or SPDX id: the API's dataset page states it
        package["licenses"] = [{"title": info.license, "path": dataset_url}]
    source: dict[str, Any] = {"title": info.attribution or info.source.title}
    if info.source.url:
        source["path"] = info.source.url
    package["sources"] = [source]
    if info.data_changed_at is not None:
        package["created"] = info.data_changed_at.isoformat().replace("+00:00", "Z")
    resource: dict[str, Any] = {
        "profile": "tabular-data-resource",
        "name": name,
        "path": csv_url,
        "title": text(info.title),
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
        "schema": table_schema(info, ranges),
    }
    if checksum is not None:
        resource["hash"] = f"sha256:{checksum[0]}"
        resource["bytes"] = checksum[1]
    package["resources"] = [resource]
    return package
