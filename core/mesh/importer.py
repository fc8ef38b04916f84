"""Import of an existing 3D garment (GLB, glTF, OBJ, PLY): checks, then units, up axis and anchor
normalised into the garment frame (metres, +Y up, facing +Z, origin at the top centre)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import cv2
import numpy as np
import trimesh
from PIL import Image
from scipy import ndimage

from core.errors import InputError, PayloadTooLarge
from core.mesh.frames import frame_rotation
from core.mesh.precheck import MAX_FACES, precheck
from core.uploads import sniff_mesh_format, storable_image

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001}
UPS = ("auto", "+y", "+z", "-y", "-z", "+x", "-x")
PLAUSIBLE_M = (0.25, 2.5)  # a garment's largest extent, in metres
TEXTURE_ATTRS = ("image", "baseColorTexture", "emissiveTexture", "metallicRoughnessTexture", "normalTexture",
                 "occlusionTexture")  # SimpleMaterial's and PBRMaterial's


@dataclass
class ImportedMesh:
    mesh: trimesh.Trimesh
    notes: list[str] = field(default_factory=list)


def load_mesh(data: bytes, filename: str | None, max_bytes: int) -> tuple[trimesh.Trimesh, str]:
    """Parse and check a 3D file: a real triangle mesh, finite, within limits. Returns it and its format."""
    if not data:
        raise InputError("The file is empty.")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:g} MB.")
    fmt = sniff_mesh_format(data, filename)
    data = precheck(data, fmt)  # the cost counted (and large textures downscaled) before trimesh pays it
    try:
        loaded = trimesh.load(io.BytesIO(data), file_type=fmt, process=False, force="scene")
        # transforms applied: a hostile node matrix fails here, not at parse time
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh) and len(g.faces)]
    except Exception as exc:  # noqa: BLE001 - parsers raise anything on hostile input
        raise InputError(f"The {fmt.upper()} file could not be read ({type(exc).__name__}). If it is a glTF "
                         "with separate .bin or texture files, upload it as one GLB.") from None
    if not meshes:
        raise InputError("The file holds no triangle mesh with faces (only points, lines or nothing).")
    for part in meshes:
        _storable_textures(part)
    mesh = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
    if len(mesh.faces) > MAX_FACES:
        raise InputError(f"The mesh has {len(mesh.faces):,} faces; at most {MAX_FACES:,} are accepted.")
    if mesh.vertices.ndim != 2 or mesh.vertices.shape[1] != 3 or mesh.faces.ndim != 2 or mesh.faces.shape[1] != 3:
        raise InputError("The mesh is malformed: its vertices are not 3D points or its faces not triangles.")
    if not np.isfinite(mesh.vertices).all():
        raise InputError("The mesh has vertices that are not numbers (NaN or infinite).")
    if mesh.faces.min() < 0 or mesh.faces.max() >= len(mesh.vertices):  # parsers pass such indices through
        raise InputError("The mesh is malformed: its faces point at vertices it does not have.")
    if np.ptp(mesh.vertices, axis=0).max() <= 0:
        raise InputError("The mesh has no size (all its vertices are at one point).")
    return mesh, fmt


def _storable_textures(mesh: trimesh.Trimesh) -> None:
    """Textures are written again (GLB, OBJ zip, thumbnails): a CMYK JPEG or a float TIFF inside a
    GLB parses, and would only fail there, as a 500."""
    material = getattr(mesh.visual, "material", None)
    for attr in TEXTURE_ATTRS:
        image = getattr(material, attr, None)
        if isinstance(image, Image.Image):
            setattr(material, attr, storable_image(image))


def check_options(units: str, up: str) -> None:
    """The import's options, checked before any work (the service checks them before a job is queued)."""
    if units not in ("auto", *UNITS):
        raise InputError(f"Unknown units {units!r}; choose auto, m, cm or mm.")
    if up not in UPS:
        raise InputError(f"Unknown up axis {up!r}; choose one of: {', '.join(UPS)}.")


def orient(mesh: trimesh.Trimesh, fmt_is_gltf: bool, up: str = "auto") -> ImportedMesh:
    """Rotate into the glTF frame: +Y up, depth along Z. Guesses are written down in `notes`."""
    check_options("auto", up)
    notes: list[str] = []
    mesh = mesh.copy()
    if up == "auto":
        # glTF is +Y up by definition; elsewhere the thinnest axis is the garment's depth, so the
        # up axis is +Y unless Y is the thinnest (a Z-up file).
        up = "+y" if fmt_is_gltf or np.argmin(np.ptp(mesh.vertices, axis=0)) != 1 else "+z"
        notes.append(f"up axis guessed as {up}")
    forward = {"+y": "+z", "-y": "-z", "+z": "-y", "-z": "+y", "+x": "+z", "-x": "+z"}[up]
    rot = np.eye(4)
    rot[:3, :3] = frame_rotation(up, forward)
    mesh.apply_transform(rot)
    extents = np.ptp(mesh.vertices, axis=0)
    if extents[0] < extents[2]:  # turned sideways: the depth must run along Z
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
        notes.append("turned 90° about Y so that the garment faces +Z")
    return ImportedMesh(mesh, notes)


def scale_and_anchor(item: ImportedMesh, units: str, typical_height_m: float) -> ImportedMesh:
    """Metres (units given, or guessed among m/cm/mm from a plausible garment size, else scaled
    to the category's typical height), origin at the top centre."""
    check_options(units, "auto")
    mesh = item.mesh
    size = float(np.ptp(mesh.vertices, axis=0).max())
    if units == "auto":
        plausible = [u for u, k in UNITS.items() if PLAUSIBLE_M[0] <= size * k <= PLAUSIBLE_M[1]]
        if plausible:
            units = plausible[0]
            item.notes.append(f"units guessed as {units}")
            scale = UNITS[units]
        else:
            scale = typical_height_m / float(np.ptp(mesh.vertices[:, 1]))
            item.notes.append(f"units unknown (size {size:.3g}): scaled to a {typical_height_m:.2f} m garment")
    else:
        scale = UNITS[units]
    mesh.apply_scale(scale)
    lo, hi = mesh.bounds
    mesh.apply_translation([-(lo[0] + hi[0]) / 2, -hi[1], -(lo[2] + hi[2]) / 2])  # anchor: top centre
    return item


def front_mask(mesh: trimesh.Trimesh, size: int = 256) -> np.ndarray:
    """The garment's silhouette seen from the front (orthographic), as the photo path would see it."""
    xy = np.asarray(mesh.vertices)[:, :2] * [1.0, -1.0]  # image rows grow downwards
    lo = xy.min(axis=0)
    scale = (size - 4) / max(float(np.ptp(xy, axis=0).max()), 1e-9)
    pts = np.round((xy - lo) * scale + 2).astype(np.int32)
    mask = np.zeros((size, size), np.uint8)
    # The triangles' outlines, then their insides filled: the union of the triangles, with none of
    # fillPoly's specks where triangles overlap, in half its time (its cost is per polygon).
    cv2.polylines(mask, np.ascontiguousarray(pts[np.asarray(mesh.faces)]), True, 1)
    return ndimage.binary_fill_holes(ndimage.binary_closing(mask.astype(bool), iterations=2))
