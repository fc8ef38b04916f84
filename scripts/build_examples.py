"""Draw the example garment photos the demo offers (assets/examples/*.png): made here, free to ship.

Run: python scripts/build_examples.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.samples import draw_garment  # noqa: E402

EXAMPLES = {  # name: (category, backdrop, colour, stripes)
    "red-tshirt": ("top", (255, 255, 255), (196, 52, 60), True),
    "navy-trousers": ("bottom", (240, 240, 240), (40, 62, 110), True),
    "green-dress": ("dress", (236, 226, 205), (46, 120, 84), True),
    "charcoal-jacket": ("outer", (250, 250, 250), (72, 76, 86), False),
}


def main() -> None:
    out = ROOT / "assets" / "examples"
    out.mkdir(parents=True, exist_ok=True)
    for name, (category, backdrop, colour, stripes) in EXAMPLES.items():
        photo, _ = draw_garment(category, background=backdrop, colour=colour, stripes=stripes, size=(384, 512))
        photo.save(out / f"{name}.png", optimize=True)
        print(out / f"{name}.png")
    # The page sets each example's category (outerwear cannot be told from a top in a photo).
    categories = {f"{name}.png": category for name, (category, *_rest) in EXAMPLES.items()}
    (out / "categories.json").write_text(json.dumps(categories, indent=1) + "\n")


if __name__ == "__main__":
    main()
