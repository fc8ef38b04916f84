"""What a 3D upload may cost: faces, vertices, a face's corners, node nesting and texture pixels, and
the checks that refuse a file over them, shared by every format's reader."""

from __future__ import annotations

from core.errors import InputError

MAX_FACES = 1_000_000
MAX_VERTICES = 3 * MAX_FACES  # an unindexed triangle soup has 3 per face
MAX_CORNERS = 256  # a garment's n-gons (openings, caps) stay far below; fan-triangulated beyond is junk
MAX_DEPTH = 64  # glTF node nesting
# Imported garments are decimated to 40k faces and photo garments carry 1024 px textures: the stored
# GLB, the Draco GLB and the thumbnail gain nothing from more than 2048 px.
TEXTURE_SIDE = 2048
BOUND_SIDE = 8192
MAX_TEXTURE_PIXELS = BOUND_SIDE**2  # refused above: even its decode would cost 256 MB
MAX_TEXTURE_TOTAL = 8 * TEXTURE_SIDE**2  # all textures together, after downscaling


def check_counts(faces: int, vertices: int) -> None:
    """Refuse a mesh of more faces or vertices than the limits."""
    if faces > MAX_FACES:
        raise InputError(f"The mesh has {faces:,} faces; at most {MAX_FACES:,} are accepted.")
    if vertices > MAX_VERTICES:
        raise InputError(f"The mesh has {vertices:,} vertices; at most {MAX_VERTICES:,} are accepted.")


def check_corners(corners: int, fmt: str) -> None:
    """Refuse an n-gon past MAX_CORNERS: trimesh would fan it into that many triangles."""
    if corners > MAX_CORNERS:
        raise InputError(f"A face of the {fmt.upper()} file has {corners:,} corners; at most {MAX_CORNERS} "
                         "are accepted.")
