"""Contact sheets to look at: every photo's garment (input | cut-out | 3D front | 3D side | 3D back), or every
photo's garment fitted on two presets (front, side and back, with what the fit report says).

Usage:
  python scripts/contact_sheet.py garments [PHOTOS_DIR] [--out sheet.png] [--quality low|med]
  python scripts/contact_sheet.py fitting [PHOTOS_DIR] [--out fit.png] [--limit N] [--bodies a,b] [--per-page N]
Without PHOTOS_DIR the drawn sample garments are used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import trimesh
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import photos  # noqa: E402

from core.ai.reconstructors import REGISTRY  # noqa: E402
from core.ai.segment import cut_out  # noqa: E402
from core.avatars.presets import load_presets  # noqa: E402
from core.fitting.body import BodyModel  # noqa: E402
from core.fitting.fit import FitLayer, fit  # noqa: E402
from core.garment.parse import GarmentParse  # noqa: E402
from core.mesh.render import render  # noqa: E402
from core.pipeline import photo_to_garment  # noqa: E402

TILE = 200


def tile(image: Image.Image, caption: str = "") -> Image.Image:
    out = Image.new("RGB", (TILE, TILE), (255, 255, 255))
    im = image.convert("RGBA")
    im.thumbnail((TILE, TILE - 14))
    out.paste(im, ((TILE - im.width) // 2, 0), im)
    if caption:
        ImageDraw.Draw(out).text((4, TILE - 13), caption[:34], fill=(40, 40, 40))
    return out


def sheet(rows: list[list[Image.Image]]) -> Image.Image:
    cols = max(len(r) for r in rows)
    out = Image.new("RGB", (cols * TILE, len(rows) * TILE), (255, 255, 255))
    for i, row in enumerate(rows):
        for j, im in enumerate(row):
            out.paste(im, (j * TILE, i * TILE))
    return out


def garments(folder: Path | None, quality: str, limit: int | None) -> list[list[Image.Image]]:
    rows = []
    for name, image, label in photos(folder, limit):
        g = photo_to_garment(image, None, quality, REGISTRY["silhouette"])
        rows.append([tile(image, f"{name} ({label})"), tile(cut_out(image).preview(), g.category),
                     tile(render([g.mesh], size=TILE, yaw_deg=0), f"{g.stats['faces']} faces"),
                     tile(render([g.mesh], size=TILE, yaw_deg=90), f"{g.stats['openings']} openings"),
                     tile(render([g.mesh], size=TILE, yaw_deg=180), f"back: {_back(g.stats)}")])
    return rows


def _back(stats: dict) -> str:
    back = stats.get("back") or {}
    return back.get("fabric") or back.get("source", "?")


def fitting(folder: Path | None, limit: int | None, bodies: list[str]) -> list[list[Image.Image]]:
    """Per photo: the photo, then each body front, side and back, captioned with what the fit report
    says of it (cloth inside, the hem's level, sleeves or legs enclosed)."""
    presets = [p for p in load_presets() if p.slug in bodies] or load_presets()[:2]
    models = [(p.slug, BodyModel(trimesh.load(p.glb, force="mesh"), p.meta["landmarks"], p.meta["measurements"])
               .prepared()) for p in presets]
    rows = []
    for name, image, label in photos(folder, limit):
        g = photo_to_garment(image, label, "low", REGISTRY["silhouette"])
        parse = GarmentParse.from_json(g.stats["parse"])
        row = [tile(image, f"{name} {parse.category}/{parse.kind}")]
        for slug, body in models:
            result = fit([FitLayer(g.mesh, g.category, g.category, parse)], body)
            (layer,) = result.metrics["layers"]
            enc = layer["enclosure"]
            pct = {bone: f"{50 * (enc[f'{bone}_l'] + enc[f'{bone}_r']):.0f}" for bone in ("upper_arm", "forearm",
                                                                                          "thigh", "shin")}
            notes = (f"in {100 * layer['surface_inside_share']:.2f}% hem {layer['hem_at'].replace('between ', '')}",
                     f"arm {pct['upper_arm']}/{pct['forearm']} leg {pct['thigh']}/{pct['shin']}", slug)
            row += [tile(render([body.mesh, *result.garments], size=TILE, yaw_deg=yaw), note)
                    for yaw, note in zip((0, 90, 180), notes, strict=True)]
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["garments", "fitting"])
    ap.add_argument("photos", type=Path, nargs="?")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--quality", choices=["low", "med"], default="low")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--bodies", default="slim-woman-160,average-man-175", help="presets to dress (fitting)")
    ap.add_argument("--per-page", type=int, default=12, help="rows per sheet; more rows make more sheets")
    args = ap.parse_args()
    out = args.out or Path(f"{args.kind}-sheet.png")
    if args.kind == "garments":
        rows = garments(args.photos, args.quality, args.limit)
    else:
        rows = fitting(args.photos, args.limit, args.bodies.split(","))
    pages = [rows[i: i + args.per_page] for i in range(0, len(rows), args.per_page)]
    for k, page in enumerate(pages, 1):
        path = out if len(pages) == 1 else out.with_name(f"{out.stem}-{k}{out.suffix}")
        image = sheet(page)
        image.save(path)
        print(f"wrote {path} ({image.width}×{image.height})")


if __name__ == "__main__":
    main()
