"""Draw the example garment photos the demo offers (assets/examples/*.png): made here, free to ship.

Run: python scripts/build_examples.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.samples import draw_garment  # noqa: E402

EXAMPLES = {  # name: (category, backdrop, colour)
    "red-tshirt": ("top", (255, 255, 255), (196, 52, 60)),
    "navy-trousers": ("bottom", (240, 240, 240), (40, 62, 110)),
    "green-dress": ("dress", (236, 226, 205), (46, 120, 84)),
}


def main() -> None:
    out = ROOT / "assets" / "examples"
    out.mkdir(parents=True, exist_ok=True)
    for name, (category, backdrop, colour) in EXAMPLES.items():
        photo, _ = draw_garment(category, background=backdrop, colour=colour, size=(384, 512))
        photo.save(out / f"{name}.png", optimize=True)
        print(out / f"{name}.png")


if __name__ == "__main__":
    main()
