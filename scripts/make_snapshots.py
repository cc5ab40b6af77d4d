"""Write the demo catalog's snapshots from recorded live BPS responses (run by hand).

Each snapshot is a BPS ``list?model=data`` body cut down to the rows of Kalimantan Selatan
(63xx) and the national aggregate (9999), with the cells of those rows copied exactly and an
``_opendata`` key saying it is reconstructed and where the figures come from. The recorded
responses live in ``../shared/sources/bps/responses`` beside the checkout; they are not part of
the project and nothing reads them at run time.

    python scripts/make_snapshots.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from harvesters.transport import dumps_exact, load_exact, snapshot_filename

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "datasets" / "snapshots"

#: dataset id -> (recorded file, its public origin, years in the file as a BPS th parameter)
DEMO = {
    "garis-kemiskinan-kabkota": (
        "cekkemiskinan_0000_var624_garis_kemiskinan_2025.json",
        "Rasyidarfan/CekKemiskinanByPengeluaran : Garis Kemiskinan.json",
        "125",
    ),
    "penduduk-miskin-provinsi": (
        "nusaintel_0000_var192_p0_maret_2023-2025.json",
        "LaboNapitupulu/NusaIntel : tests/fixtures/bps/",
        "123:125",
    ),
    "pdrb-per-kapita-provinsi": (
        "nusaintel_0000_var288_pdrb_per_kapita_2023-2025.json",
        "LaboNapitupulu/NusaIntel : tests/fixtures/bps/",
        "123:125",
    ),
    "tpt-provinsi": (
        "nusaintel_0000_var543_tpt_agustus_2023-2025.json",
        "LaboNapitupulu/NusaIntel : tests/fixtures/bps/",
        "123:125",
    ),
}


def _unwrap(document: dict) -> dict:
    for key in ("body", "result"):
        if key in document and isinstance(document[key], dict):
            return document[key]
    return document


def kalsel_rows(body: dict, origin: str) -> dict:
    """The body with only Kalsel's rows and the 9999 aggregate, cells copied key by key."""
    keep = [v for v in body["vervar"] if str(v["val"]).startswith("63") or v["val"] == 9999]
    var = body["var"][0]["val"]
    cells = {}
    for row, turvar, tahun, turtahun in itertools.product(
        keep, body["turvar"], body["tahun"], body["turtahun"]
    ):
        key = f"{row['val']}{var}{turvar['val']}{tahun['val']}{turtahun['val']}"
        if key in body["datacontent"]:
            cells[key] = body["datacontent"][key]
    snapshot = {k: v for k, v in body.items() if k != "datacontent"}
    snapshot["vervar"] = keep
    snapshot["datacontent"] = cells
    snapshot["_opendata"] = {
        "reconstructed": True,
        "source": f"BPS WebAPI list?model=data&domain=0000&var={var}, recorded by {origin}",
        "note": "Rows of Kalimantan Selatan (63xx)"
        + (" and Indonesia (9999)" if any(v["val"] == 9999 for v in keep) else "")
        + " of a recorded live response; other rows removed by scripts/make_snapshots.py. "
        "Figures unchanged.",
    }
    return snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    responses = args.shared / "sources" / "bps" / "responses"
    for dataset_id, (filename, origin, th) in DEMO.items():
        text = (responses / filename).read_text(encoding="utf-8")
        body = _unwrap(load_exact(text))  # every number's digits exactly as recorded
        snapshot = kalsel_rows(body, origin)
        var = str(body["var"][0]["val"])
        name = snapshot_filename({"model": "data", "domain": "0000", "var": var, "th": th})
        out = SNAPSHOTS / dataset_id / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(dumps_exact(snapshot) + "\n", encoding="utf-8")
        print(f"{out.relative_to(ROOT)}: {len(snapshot['datacontent'])} cells")


if __name__ == "__main__":
    main()
