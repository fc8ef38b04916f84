"""Contact sheets to look at: every photo's garment (input | cut-out | 3D front | 3D side), or every
photo's garment fitted on each preset (front and side).

Usage:
  python scripts/contact_sheet.py garments [PHOTOS_DIR] [--out sheet.png] [--quality low|med]
  python scripts/contact_sheet.py fitting [PHOTOS_DIR] [--out fit.png] [--limit N]
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


def garments(folder: Path | None, quality: str, limit: int | None) -> Image.Image:
    rows = []
    for name, image, label in photos(folder, limit):
        g = photo_to_garment(image, None, quality, REGISTRY["silhouette"])
        rows.append([tile(image, f"{name} ({label})"), tile(cut_out(image).preview(), g.category),
                     tile(render([g.mesh], size=TILE, yaw_deg=0), f"{g.stats['faces']} faces"),
                     tile(render([g.mesh], size=TILE, yaw_deg=90), f"{g.stats['openings']} openings")])
    return sheet(rows)


def fitting(folder: Path | None, limit: int | None) -> Image.Image:
    bodies = [(p.slug, BodyModel(trimesh.load(p.glb, force="mesh"), p.meta["landmarks"], p.meta["measurements"]))
              for p in load_presets()]
    rows = []
    for name, image, label in photos(folder, limit):
        g = photo_to_garment(image, label, "low", REGISTRY["silhouette"])
        row = [tile(image, name)]
        for slug, body in bodies:
            result = fit([FitLayer(g.mesh, g.category, g.category)], body)
            row += [tile(render([body.mesh, *result.garments], size=TILE, yaw_deg=0), slug),
                    tile(render([body.mesh, *result.garments], size=TILE, yaw_deg=90), "side")]
        rows.append(row)
    return sheet(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["garments", "fitting"])
    ap.add_argument("photos", type=Path, nargs="?")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--quality", choices=["low", "med"], default="low")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    out = args.out or Path(f"{args.kind}-sheet.png")
    if args.kind == "garments":
        image = garments(args.photos, args.quality, args.limit)
    else:
        image = fitting(args.photos, args.limit)
    image.save(out)
    print(f"wrote {out} ({image.width}×{image.height})")


if __name__ == "__main__":
    main()
