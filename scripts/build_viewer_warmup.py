"""Write the page viewer's warm-up model, demo/static/viewer/warm.glb: one textured, two-sided
triangle with normals, exported as every garment is (core/mesh/export.py), so that the viewer
can take the first garment's path (GLB parse, JPEG texture decode, texture upload) at mount,
before a person's first garment needs it (demo/static/viewer/view3d.js says what it saves).

Usage: python scripts/build_viewer_warmup.py   (re-run when the export changes; the file is ~1 KB)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from core.mesh.export import jpeg_texture, mesh_to_glb

OUT = Path(__file__).resolve().parents[1] / "demo" / "static" / "viewer" / "warm.glb"


def warmup_glb() -> bytes:
    """The GLB: a garment's kind of mesh and material, as small as one can be."""
    texture = jpeg_texture(Image.new("RGB", (8, 8), (200, 200, 205)))
    material = trimesh.visual.material.PBRMaterial(name="garment", baseColorTexture=texture, metallicFactor=0.0,
                                                   roughnessFactor=0.9, doubleSided=True)
    mesh = trimesh.Trimesh(np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.0, 0.1, 0.0]]), np.array([[0, 1, 2]]),
                           visual=trimesh.visual.TextureVisuals(uv=np.array([[0, 0], [1, 0], [0, 1.0]]),
                                                                material=material), process=False)
    return mesh_to_glb(mesh, "warmup")


def main() -> None:
    OUT.write_bytes(warmup_glb())
    print(f"{OUT.name}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
