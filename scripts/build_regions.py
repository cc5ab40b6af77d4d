"""Build the region reference, ``opendata/data/regions.csv`` and ``region_aliases.csv``.

Run by hand from the repository root, then commit the two files it writes::

    python scripts/build_regions.py [path/to/bpslooker_domain_all.json]

The input is BPS's list of its 549 domains (``domain?type=all``: Indonesia, 34 provinces, 514
kabupaten/kota) as recorded in ``../shared/sources/bps/lists/``. Nothing reads that folder at run
time. Three corrections come from ``../shared/sources/regions.md`` and are written out below:

- the four provinces carved out of Papua and Papua Barat in 2022, which have no BPS domain yet;
- the 26 regencies BPS renumbered into them: their current codes are canonical, the codes of the
  domain list become ``bps-legacy`` aliases;
- the Kemendagri codes and official names of Kalimantan Selatan and its 13 kabupaten/kota.

A domain is a kabupaten or a kota by its site (``simeuluekab.bps.go.id``,
``bandaacehkota.bps.go.id``); the domain name itself never says which ("Sukabumi" is both 3202 and
3272). The script stops on any domain it cannot classify, so a new irregular one is handled here
explicitly instead of being guessed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "sources" / "bps" / "lists" / "bpslooker_domain_all.json"
DATA = REPO / "opendata" / "data"

REGION_COLUMNS = ("code", "level", "parent", "name", "bps_name", "kemendagri_code")
ALIAS_COLUMNS = ("alias", "system", "code")

# Display names where BPS's domain name is an artefact rather than a spelling: acronyms title-cased
# by BPS ("Dki Jakarta"), letters spaced out ("S I A K") and abbreviations ("Kep."). ``bps_name``
# keeps BPS's text as is.
NAME_FIXES = {
    "1405": "Siak",
    "1473": "Dumai",
    "1900": "Kepulauan Bangka Belitung",
    "2100": "Kepulauan Riau",
    "2171": "Batam",
    "3100": "DKI Jakarta",
    "3400": "DI Yogyakarta",
}

# Kemendagri code and official name of Kalimantan Selatan and its regencies (Kepmendagri
# 300.2.2-2138/2025), keyed by BPS code; for Kalsel the two systems coincide digit for digit.
KALSEL = {
    "6300": ("63", "Provinsi Kalimantan Selatan"),
    "6301": ("63.01", "Kabupaten Tanah Laut"),
    "6302": ("63.02", "Kabupaten Kotabaru"),
    "6303": ("63.03", "Kabupaten Banjar"),
    "6304": ("63.04", "Kabupaten Barito Kuala"),
    "6305": ("63.05", "Kabupaten Tapin"),
    "6306": ("63.06", "Kabupaten Hulu Sungai Selatan"),
    "6307": ("63.07", "Kabupaten Hulu Sungai Tengah"),
    "6308": ("63.08", "Kabupaten Hulu Sungai Utara"),
    "6309": ("63.09", "Kabupaten Tabalong"),
    "6310": ("63.10", "Kabupaten Tanah Bumbu"),
    "6311": ("63.11", "Kabupaten Balangan"),
    "6371": ("63.71", "Kota Banjarmasin"),
    "6372": ("63.72", "Kota Banjarbaru"),
}

# The 2022 Papua split as BPS tables from 2023 on code it.
NEW_PROVINCES = {
    "9200": "Papua Barat Daya",
    "9500": "Papua Selatan",
    "9600": "Papua Tengah",
    "9700": "Papua Pegunungan",
}

# current code -> (old code in the domain list, name); all kabupaten except Kota Sorong (9271).
RENUMBERED = {
    "9201": ("9108", "Raja Ampat"),
    "9202": ("9107", "Sorong"),
    "9203": ("9106", "Sorong Selatan"),
    "9204": ("9110", "Maybrat"),
    "9205": ("9109", "Tambrauw"),
    "9271": ("9171", "Sorong"),
    "9501": ("9401", "Merauke"),
    "9502": ("9413", "Boven Digoel"),
    "9503": ("9414", "Mappi"),
    "9504": ("9415", "Asmat"),
    "9601": ("9412", "Mimika"),
    "9602": ("9434", "Dogiyai"),
    "9603": ("9436", "Deiyai"),
    "9604": ("9404", "Nabire"),
    "9605": ("9410", "Paniai"),
    "9606": ("9435", "Intan Jaya"),
    "9607": ("9433", "Puncak"),
    "9608": ("9411", "Puncak Jaya"),
    "9701": ("9429", "Nduga"),
    "9702": ("9402", "Jayawijaya"),
    "9703": ("9430", "Lanny Jaya"),
    "9704": ("9418", "Tolikara"),
    "9705": ("9431", "Mamberamo Tengah"),
    "9706": ("9432", "Yalimo"),
    "9707": ("9416", "Yahukimo"),
    "9708": ("9417", "Pegunungan Bintang"),
}

_SITE = re.compile(r"https://[a-z0-9-]+?(kab|kota)\.bps\.go\.id/?")
_PREFIX = {"kab": "Kabupaten", "kota": "Kota"}


class BuildError(Exception):
    """The domain list does not look the way this script expects."""


def load_domains(path: Path = DEFAULT_SOURCE) -> list[dict[str, str]]:
    """Return the domain items of a recorded ``domain?type=all`` response."""
    recorded = json.loads(path.read_text(encoding="utf-8"))
    body = recorded.get("body", recorded)
    page, items = body["data"]
    if page.get("total") != len(items):
        raise BuildError(f"{path}: {len(items)} domains listed, the page says {page.get('total')}")
    return items


def _kind(domain: dict[str, str]) -> str | None:
    """Return ``kab`` or ``kota`` from a regency domain's site, or None if the site is irregular."""
    match = _SITE.fullmatch(domain["domain_url"])
    if match is None:
        return None
    kind = match.group(1)
    # BPS numbers cities 71-99 within their province; a site saying otherwise is irregular.
    is_city_code = int(domain["domain_id"][2:]) >= 71
    return kind if (kind == "kota") == is_city_code else None


def _row(code, level, parent, name, bps_name, kemendagri_code=""):
    return {
        "code": code,
        "level": level,
        "parent": parent,
        "name": name,
        "bps_name": bps_name,
        "kemendagri_code": kemendagri_code,
    }


def _domain_rows(domains: list[dict[str, str]]) -> tuple[dict[str, dict], list[dict[str, str]]]:
    """Return the region rows of the domain list by code, and the domains that are irregular."""
    rows: dict[str, dict] = {}
    irregular = []
    for domain in domains:
        code, bps_name = domain["domain_id"], domain["domain_name"]
        if not re.fullmatch(r"[1-9][0-9]{3}", code):
            if code == "0000":
                rows[code] = _row(code, "country", "", "Indonesia", bps_name)
            else:
                irregular.append(domain)
            continue
        if code in rows:
            irregular.append(domain)
        elif code.endswith("00"):
            name = NAME_FIXES.get(code, bps_name)
            rows[code] = _row(code, "province", "0000", name, bps_name)
        elif (kind := _kind(domain)) is not None:
            name = f"{_PREFIX[kind]} {NAME_FIXES.get(code, bps_name)}"
            rows[code] = _row(code, "regency", code[:2] + "00", name, bps_name)
        else:
            irregular.append(domain)
    return rows, irregular


def _apply_papua_split(rows: dict[str, dict]) -> list[dict[str, str]]:
    """Add the new provinces, move the renumbered regencies; return the legacy aliases."""
    for code, name in NEW_PROVINCES.items():
        rows[code] = _row(code, "province", "0000", name, name)
    aliases = []
    for code, (old, name) in RENUMBERED.items():
        old_row = rows.pop(old, None)
        if old_row is None or old_row["bps_name"] != name:
            raise BuildError(f"renumbered {old} -> {code} {name!r}: domain list has {old_row}")
        prefix = "Kota" if int(code[2:]) >= 71 else "Kabupaten"
        if not old_row["name"].startswith(prefix + " "):
            raise BuildError(f"renumbered {old} -> {code}: {old_row['name']!r} is not a {prefix}")
        rows[code] = _row(code, "regency", code[:2] + "00", old_row["name"], name)
        aliases.append({"alias": old, "system": "bps-legacy", "code": code})
    return aliases


def _apply_kalsel(rows: dict[str, dict]) -> list[dict[str, str]]:
    """Give Kalsel's regions their Kemendagri names and codes; return the kemendagri aliases."""
    aliases = []
    for code, (kemendagri_code, official_name) in KALSEL.items():
        rows[code]["name"] = official_name
        rows[code]["kemendagri_code"] = kemendagri_code
        aliases.append({"alias": kemendagri_code, "system": "kemendagri", "code": code})
    return aliases


def build_rows(
    domains: list[dict[str, str]],
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Return the region rows and alias rows, each sorted, that the two CSV files hold."""
    rows, irregular = _domain_rows(domains)
    if irregular:
        listing = "\n".join(f"  {d}" for d in irregular)
        raise BuildError(f"domains this script cannot classify; handle them explicitly:\n{listing}")
    aliases = _apply_papua_split(rows) + _apply_kalsel(rows)
    for row in rows.values():
        if row["parent"] and row["parent"] not in rows:
            raise BuildError(f"{row['code']} {row['name']}: parent {row['parent']} is not a region")
    return (
        [rows[code] for code in sorted(rows)],
        sorted(aliases, key=lambda a: (a["system"], a["alias"])),
    )


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """Return rows as CSV text with a header row and ``\\n`` line ends."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build_files(source: Path = DEFAULT_SOURCE) -> dict[str, str]:
    """Return the text of each reference file by its name in ``opendata/data``."""
    regions, aliases = build_rows(load_domains(source))
    return {
        "regions.csv": to_csv(regions, REGION_COLUMNS),
        "region_aliases.csv": to_csv(aliases, ALIAS_COLUMNS),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the reference files from the domain list given (or the shared recording)."""
    argv = sys.argv[1:] if argv is None else argv
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    try:
        files = build_files(source)
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    DATA.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (DATA / name).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {DATA / name}: {text.count(chr(10)) - 1} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
