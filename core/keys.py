"""Where each kind of object is stored: the one layout of storage keys. Functions that name several
files return them under the row's columns that point at them (core/models.py)."""

from __future__ import annotations


def photo_key(cloth_id: str, side: str, ext: str) -> str:
    """An uploaded photo: `side` is "photo" (the front) or "back"."""
    return f"clothes/{cloth_id}/{side}.{ext}"


def import_source_key(job_id: str, fmt: str) -> str:
    """An uploaded 3D file, kept for the job that imports it."""
    return f"clothes3d/{job_id}/source.{fmt}"


def garment_keys(job_id: str, *, cutout: bool = True) -> dict[str, str | None]:
    """A 3D garment's files, as soon as it is usable; a preview that could not be drawn has no key."""
    prefix = f"clothes3d/{job_id}"
    return {"glb_key": f"{prefix}/garment.glb", "gltf_key": f"{prefix}/garment.draco.glb",
            "cutout_key": f"{prefix}/cutout.png" if cutout else None}


def extras_keys(job_id: str) -> dict[str, str]:
    """A 3D garment's files made after it is done: the thumbnail, the OBJ zip and the turntable."""
    prefix = f"clothes3d/{job_id}"
    return {"thumb_key": f"{prefix}/thumb.png", "obj_key": f"{prefix}/garment.obj.zip",
            "turntable_key": f"{prefix}/turntable.gif"}


def fitting_keys(job_id: str) -> dict[str, str]:
    """A fitting session's files, as soon as it is usable."""
    prefix = f"fittings/{job_id}"
    return {"fitted_glb_key": f"{prefix}/fitted.glb", "fitted_gltf_key": f"{prefix}/fitted.draco.glb"}


def fitting_extras_keys(job_id: str) -> dict[str, str]:
    """A fitting session's file made after it is done: its thumbnail."""
    return {"thumb_key": f"fittings/{job_id}/thumb.png"}


def avatar_keys(avatar_id: str) -> dict[str, str]:
    """A custom avatar's files."""
    return _body_keys(f"avatars/{avatar_id}")


def preset_keys(slug: str) -> dict[str, str]:
    """A seeded preset's files, by its slug (the same on every deployment)."""
    return _body_keys(f"presets/{slug}")


def _body_keys(prefix: str) -> dict[str, str]:
    return {"glb_key": f"{prefix}/avatar.glb", "gltf_key": f"{prefix}/avatar.draco.glb",
            "thumb_key": f"{prefix}/thumb.png"}
