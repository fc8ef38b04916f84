"""Photo → 3D garment → dressed avatar GLB, with the pipeline as a library: no server, no
database, no storage, no model weights.

    .venv/bin/python examples/quickstart.py shirt.jpg dressed.glb [--avatar slim-woman-160]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout: `core` is not installed

from core.pipeline import fit_outfit, garment_from_photo, open_photo, outfit_glb, preset_body


def dress_photo(photo: Path, out: Path, avatar: str = "average-man-175") -> dict:
    """The whole pipeline: a garment from the photo, fitted on a preset avatar, written as one GLB;
    returns the fit's report."""
    garment = garment_from_photo(open_photo(photo))
    outfit = fit_outfit([garment], preset_body(avatar))
    out.write_bytes(outfit_glb(outfit))
    return {"category": garment.category, "faces": garment.report.shape["faces"]} | outfit.metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path, help="a garment photo (PNG, JPEG or WebP) on a plain backdrop")
    parser.add_argument("out", type=Path, help="the dressed avatar's GLB to write")
    parser.add_argument("--avatar", default="average-man-175", help="a preset in assets/presets")
    args = parser.parse_args()
    report = dress_photo(args.photo, args.out, args.avatar)
    print(f"{report['category']} ({report['faces']:,} faces) on {args.avatar}: "
          f"{report['inside_share']:.1%} inside the body, written to {args.out}")


if __name__ == "__main__":
    main()
