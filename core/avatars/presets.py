"""The three avatar presets: their definition (used by scripts/build_presets.py) and their files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.avatars.builder import Phenotype

PRESETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "presets"


@dataclass(frozen=True)
class PresetSpec:
    slug: str
    name: str
    notes: str
    phenotype: Phenotype


PRESET_SPECS = (
    PresetSpec("slim-woman-160", "Slim woman, 160 cm", "slim build, A-pose",
               Phenotype(gender=1.0, height_cm=160, weight=0.35, muscle=0.4)),
    PresetSpec("average-man-175", "Average man, 175 cm", "average build, A-pose",
               Phenotype(gender=0.0, height_cm=175, weight=0.5, muscle=0.5)),
    PresetSpec("tall-man-185", "Tall, heavier man, 185 cm", "heavier build, A-pose",
               Phenotype(gender=0.0, height_cm=185, weight=0.75, muscle=0.55)),
)


@dataclass(frozen=True)
class PresetFiles:
    slug: str
    meta: dict  # name, notes, gender, height_cm, phenotype, landmarks, measurements
    glb: Path
    thumbnail: Path


def load_presets(directory: Path = PRESETS_DIR) -> list[PresetFiles]:
    """The committed preset files, in the order of PRESET_SPECS; a missing file is an error."""
    out = []
    for spec in PRESET_SPECS:
        meta_path = directory / f"{spec.slug}.json"
        glb, thumb = directory / f"{spec.slug}.glb", directory / f"{spec.slug}.png"
        for path in (meta_path, glb, thumb):
            if not path.is_file():
                raise FileNotFoundError(f"preset file missing: {path.name} (run scripts/build_presets.py)")
        out.append(PresetFiles(spec.slug, json.loads(meta_path.read_text()), glb, thumb))
    return out
