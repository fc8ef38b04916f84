"""The one table behind the `quality` a job asks for. Each reconstructor counts its faces in its own
way, so each has its own number, named for what it bounds; the texture side is shared."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    shell_faces: int  # silhouette: the face budget its grid of cells is sized to (core/ai/silhouette.py)
    # zero123+instantmesh: the faces kept when the surface the model extracts is decimated
    # (core/ai/ml/reconstruct.py) - another count than a grid's, so another number
    decimated_faces: int
    texture_px: int  # the texture's side, for both (the SPEC's 512 px / 768+ px)


QUALITY = {"low": Level(shell_faces=10_000, decimated_faces=20_000, texture_px=512),
           "med": Level(shell_faces=40_000, decimated_faces=60_000, texture_px=1024)}
IMPORT_FACES = QUALITY["med"].shell_faces  # an imported 3D garment is decimated to at most this
