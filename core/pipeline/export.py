"""The export step: a `Garment` or a `FittedOutfit` to the files people download or look at (GLB,
Draco GLB, OBJ zip, PNG thumbnails, a turntable GIF). Kept apart from making them, so a caller
who wants meshes pays for no encoding, and the jobs encode exactly what they store."""

from __future__ import annotations

import io
import logging

import trimesh
from PIL import Image

from core.mesh.export import draco_compress_glb, garment_node, mesh_to_glb, mesh_to_obj_zip, scene_to_glb
from core.mesh.render import render, turntable
from core.pipeline.garments import Garment
from core.pipeline.outfits import FittedOutfit

__all__ = ["cutout_png", "draco_compress_glb", "garment_glb", "garment_obj_zip", "garment_thumbnail",
           "garment_turntable", "outfit_glb", "outfit_thumbnail", "png_bytes", "thumbnail"]
log = logging.getLogger("fitroom.pipeline")


def garment_glb(garment: Garment) -> bytes:
    """The garment as a GLB, one node named `garment_<category>` (the page finds it by that name)."""
    return mesh_to_glb(garment.mesh, name=garment_node(garment.category))


def outfit_glb(outfit: FittedOutfit) -> bytes:
    """The dressed avatar as one GLB: the body and each fitted garment as its own node."""
    return scene_to_glb(outfit.scene)


def garment_obj_zip(garment: Garment) -> bytes:
    """The garment as OBJ + MTL + texture, zipped (for tools without glTF)."""
    return mesh_to_obj_zip(garment.mesh)


def garment_turntable(garment: Garment) -> bytes:
    """An animated GIF of the garment turning round."""
    return turntable([garment.mesh])


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def cutout_png(garment: Garment) -> bytes:
    """A photo's cut-out as the user sees it (the garment on transparency); b"" for an import."""
    return png_bytes(garment.cutout.preview()) if garment.cutout is not None else b""


def thumbnail(meshes: list[trimesh.Trimesh], **view) -> bytes:
    """A PNG preview, or b"" when rendering fails: a missing picture must not fail a finished garment."""
    try:
        return png_bytes(render(meshes, **view))
    except Exception:  # any renderer failure only costs the preview
        log.exception("thumbnail failed; the job goes on without it")
        return b""


def garment_thumbnail(garment: Garment) -> bytes:
    """The garment from the front, a little turned (b"" when it could not be drawn)."""
    return thumbnail([garment.mesh])


def outfit_thumbnail(outfit: FittedOutfit) -> bytes:
    """The dressed avatar, turned a little to show its side (b"" when it could not be drawn)."""
    return thumbnail(outfit.meshes, yaw_deg=20)
