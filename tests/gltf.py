"""The Khronos glTF validator (npm gltf-validator, installed by `npm ci`), called from tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def validate(*paths: Path) -> list[dict]:
    out = subprocess.run(["node", str(ROOT / "tools" / "validate_gltf.mjs"), *map(str, paths)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)
