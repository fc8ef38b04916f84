"""Copy the parts of three.js that the page's 3D viewer uses (demo/static/viewer/view3d.js) from
node_modules into demo/static/viewer/three/, so that `python app.py` serves them with no Node and
no CDN (Spaces and Docker images are built from git alone).

The browser loads them as ES modules without an import map (Gradio's page has started loading
modules before any component could add one), so the addons' bare `three` imports are rewritten
to the relative path of the copied build; nothing else in the files is changed.

Usage: npm ci && python scripts/vendor_viewer.py   (re-run after changing three's version in package.json)
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREE = ROOT / "node_modules" / "three"
OUT = ROOT / "demo" / "static" / "viewer" / "three"
BUILD = ["build/three.module.js", "build/three.core.js"]
ADDONS = ["loaders/GLTFLoader.js", "loaders/DRACOLoader.js", "controls/OrbitControls.js",
          "utils/BufferGeometryUtils.js", "utils/SkeletonUtils.js"]
DRACO = ["draco_wasm_wrapper.js", "draco_decoder.wasm"]  # the decoder DRACOLoader fetches, WebAssembly build
BARE = re.compile(r"""from '(three|\.\./(?:utils|loaders|controls)/([\w.]+))';""")


def flat(source: str) -> str:
    """An addon's imports pointing at the flat copy: `three` at the build, siblings beside it."""
    return BARE.sub(lambda m: f"from './{'three.module.js' if m.group(1) == 'three' else m.group(2)}';", source)


def main() -> None:
    version = json.loads((THREE / "package.json").read_text())["version"]
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "draco").mkdir(parents=True)
    for name in BUILD:
        shutil.copyfile(THREE / name, OUT / Path(name).name)
    for name in ADDONS:
        (OUT / Path(name).name).write_text(flat((THREE / "examples/jsm" / name).read_text()))
    for name in DRACO:
        shutil.copyfile(THREE / "examples/jsm/libs/draco/gltf" / name, OUT / "draco" / name)
    shutil.copyfile(THREE / "LICENSE", OUT / "LICENSE")
    (OUT / "VERSION").write_text(version + "\n")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"three.js {version}: {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {size / 2**20:.1f} MB in {OUT}")


if __name__ == "__main__":
    main()
