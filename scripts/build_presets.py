"""Build the three avatar presets with anny into assets/presets/ (GLB, PNG thumbnail, JSON).

Reproducible: the same anny version and specs give the same files. Run: python scripts/build_presets.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.avatars.builder import build_body
from core.avatars.presets import PRESET_SPECS, PRESETS_DIR
from core.mesh.export import mesh_to_glb
from core.mesh.render import render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PRESETS_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in PRESET_SPECS:
        t0 = time.perf_counter()
        body = build_body(spec.phenotype)
        (args.out / f"{spec.slug}.glb").write_bytes(mesh_to_glb(body.mesh, name="avatar"))
        render([body.mesh], size=256, yaw_deg=15).save(args.out / f"{spec.slug}.png")
        meta = {"slug": spec.slug, "name": spec.name, "notes": spec.notes,
                "gender": "female" if spec.phenotype.gender >= 0.5 else "male",
                "height_cm": body.measurements["height_cm"], "phenotype": body.phenotype,
                "landmarks": body.landmarks, "measurements": body.measurements}
        (args.out / f"{spec.slug}.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"{spec.slug}: {time.perf_counter() - t0:.1f} s, {body.measurements}")


if __name__ == "__main__":
    main()
