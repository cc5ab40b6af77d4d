"""Source adapters and their registry. Harvesters never import the web app."""

from __future__ import annotations

from importlib import import_module

from harvesters.base import Harvester

#: harvester id -> "module:Class"; a harvester's id is its module's name
HARVESTERS: dict[str, str] = {
    "bps": "harvesters.bps:BPSHarvester",
    "ckan": "harvesters.ckan:CKANHarvester",
    "sdmx": "harvesters.sdmx:SDMXHarvester",
    "spreadsheet": "harvesters.spreadsheet:SpreadsheetHarvester",
}


def list_harvesters() -> list[str]:
    """The ids of the registered harvesters, sorted."""
    return sorted(HARVESTERS)


def get_harvester(harvester_id: str) -> type[Harvester]:
    """The harvester class registered under ``harvester_id``."""
    try:
        target = HARVESTERS[harvester_id]
    except KeyError:
        known = ", ".join(list_harvesters())
        raise KeyError(f"no harvester {harvester_id!r} (known: {known})") from None
    module_name, _, class_name = target.partition(":")
    return getattr(import_module(module_name), class_name)
