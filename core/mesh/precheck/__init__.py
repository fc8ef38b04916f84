"""What a 3D upload will cost, read before any parser pays it: triangles through the glTF node graph,
polygon corners in OBJ and PLY, vertices, and texture sizes from the image headers. Over a limit the
file is refused; a large texture is downscaled before trimesh decodes it."""

from __future__ import annotations

import json
import struct

from core.errors import InputError
from core.mesh.precheck.gltf import gltf_counts, mesh_counts, read_gltf
from core.mesh.precheck.limits import MAX_FACES, TEXTURE_SIDE, check_counts
from core.mesh.precheck.obj_ply import obj_counts, ply_counts
from core.mesh.precheck.textures import downscale_textures

__all__ = ["MAX_FACES", "TEXTURE_SIDE", "gltf_counts", "precheck"]


def precheck(data: bytes, fmt: str) -> bytes:
    """Refuse a file whose parse would cost too much; returns the bytes trimesh may parse (a glTF's
    large textures replaced by downscaled copies)."""
    if fmt == "obj":
        obj_counts(data)
        return data
    if fmt == "ply":
        ply_counts(data)
        return data
    try:
        doc, rest = read_gltf(data, fmt)
        per_mesh = mesh_counts(doc)
        check_counts(sum(f for f, _ in per_mesh), sum(v for _, v in per_mesh))  # trimesh parses every mesh once
        check_counts(*gltf_counts(doc, per_mesh))  # then copies one per instance
        if not downscale_textures(doc, rest):
            return data
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, struct.error) as exc:
        raise InputError(f"The {fmt.upper()} file is malformed ({type(exc).__name__}).") from None
    js = json.dumps(doc, separators=(",", ":")).encode()
    if fmt == "gltf":
        return js
    js += b" " * (-len(js) % 4)
    return b"".join([struct.pack("<4sII", b"glTF", 2, 20 + len(js) + len(rest)),
                     struct.pack("<I4s", len(js), b"JSON"), js, rest])
