"""Photo (or 3D file) → `Garment`: the cleaned mesh, its parse and a plain report, no bytes.

Encoding it (GLB, Draco, OBJ, pictures) is a separate step (core/pipeline/export.py), so that a
caller who wants the mesh pays for no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trimesh
from PIL import Image

from core.ai.reconstructors import REGISTRY as RECONSTRUCTORS
from core.ai.reconstructors import Reconstructor
from core.ai.segment import CLASSICAL, Cutout, Segmenter, cut_out
from core.config import Settings
from core.errors import InputError
from core.garment.parse import GarmentParse, parse_mask
from core.garment.registry import REGISTRY, SURE
from core.mesh.cleanup import clean, decimate, opening_count
from core.mesh.importer import front_mask, load_mesh, orient, scale_and_anchor
from core.pipeline.stages import StageCallback, Timer
from core.quality import IMPORT_FACES
from core.uploads import validate_image

BACK_MATCH = 0.75  # a back photo's outline overlapping the front's less than this is named in the log
DEFAULTS = Settings.model_construct()  # the server's default limits, the environment not read
MAX_IMPORT_BYTES = int(DEFAULTS.max_import_mb * 2**20)


@dataclass(frozen=True)
class GarmentReport:
    """How a garment was made, in plain values (a job's record stores them as they are)."""

    shape: dict  # faces, vertices, extents_m, openings
    source: dict  # the cut-out's method, the parse, the reconstructor's figures; or the file's format
    timings: dict[str, float]  # seconds per stage
    notes: tuple[str, ...] = ()  # what a job's log says of it: fallbacks, an unsure category, the back

    @property
    def log(self) -> str | None:
        return "; ".join(self.notes) or None


@dataclass(frozen=True)
class Garment:
    """A finished garment: its mesh in the glTF frame (metres, +Y up, facing +Z, origin at its
    anchor), ready to fit or to export."""

    mesh: trimesh.Trimesh
    category: str
    report: GarmentReport
    parse: GarmentParse | None = None  # the fit places the garment by it (parsed again without it)
    cutout: Cutout | None = None  # a photo's cut-out; None for an import


def open_photo(source: str | Path | bytes) -> Image.Image:
    """A photo decoded as an upload is (core/uploads.py): its type read from the bytes, the size
    limits, EXIF orientation, an alpha channel kept only when it is a real cut-out."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    return validate_image(data, max_bytes=DEFAULTS.max_upload_bytes, max_side=DEFAULTS.max_image_side,
                          max_pixels=DEFAULTS.max_image_pixels).image


def garment_from_photo(image: Image.Image, category: str | None = None, quality: str = "low",
                       reconstructor: Reconstructor = RECONSTRUCTORS["silhouette"], *,
                       back_image: Image.Image | None = None, segmenter: Segmenter = CLASSICAL,
                       on_stage: StageCallback | None = None) -> Garment:
    """A garment photo (and optionally the garment's back) to its garment; `category` None parses
    it; `segmenter`: the cut-out of photos without an alpha channel."""
    timer = Timer(on_stage)
    with timer.stage("cut-out"):
        cutout = cut_out(image, segmenter)
        back = _back_cut_out(back_image, segmenter) if back_image is not None else None
    with timer.stage("category"):  # the parse: category, sleeves or legs, landmarks
        parse = parse_mask(cutout.mask, category)
    with timer.stage("reconstruction"):
        made = reconstructor.reconstruct(cutout, parse.category, quality, on_progress=on_stage, back=back,
                                          parse=parse)
    timer.timings.update({f"reconstruction/{k}": v for k, v in made.timings.items()})
    fallback = f"cut-out: {cutout.method}" if cutout.method.startswith("classical (") else None  # and why
    notes = (fallback, parse_note(parse, asked=category), back_note(made.stats.get("back") or {}))
    source = {"segmentation": cutout.method, "parse": parse.to_json()} | made.stats
    return finished(made.mesh, parse.category, timer, source=source, notes=[n for n in notes if n],
                    parse=parse, cutout=cutout)


def garment_from_file(data: bytes, filename: str | None = None, category: str | None = None,
                      units: str = "auto", up: str = "auto", max_bytes: int = MAX_IMPORT_BYTES) -> Garment:
    """A 3D file (GLB, glTF, OBJ, …) to its garment: its cost counted before it is parsed (see
    core/mesh/precheck/), then the garment frame, the category, the units, 40k faces at most."""
    mesh, fmt = load_mesh(data, filename, max_bytes)
    item = orient(mesh, fmt in ("glb", "gltf"), up or "auto")
    parse = parse_mask(front_mask(item.mesh), category)  # the same parse as a photo's, of its front
    item = scale_and_anchor(item, units or "auto", REGISTRY[parse.category].length_m)
    decimated = decimate(item.mesh, IMPORT_FACES)
    notes = ["imported from " + fmt.upper(), *item.notes]
    if len(decimated.faces) < len(item.mesh.faces):
        notes.append(f"decimated from {len(item.mesh.faces):,} to {len(decimated.faces):,} faces")
    if note := parse_note(parse, asked=category):
        notes.append(note)
    source = {"format": fmt, "source_faces": len(mesh.faces), "parse": parse.to_json()}
    return finished(decimated, parse.category, source=source, notes=notes, parse=parse)


def finished(mesh: trimesh.Trimesh, category: str, timer: Timer | None = None, *, source: dict | None = None,
             notes: list[str] | None = None, parse: GarmentParse | None = None,
             cutout: Cutout | None = None) -> Garment:
    """The one path after any reconstruction or import: cleanup, then the mesh's figures."""
    timer = timer or Timer()
    with timer.stage("cleanup"):
        mesh = clean(mesh)
    mesh.metadata["category"] = category  # the mesh's glTF extras (three.js: its userData)
    shape = {"faces": len(mesh.faces), "vertices": len(mesh.vertices),
             "extents_m": [round(float(x), 4) for x in mesh.extents], "openings": opening_count(mesh)}
    report = GarmentReport(shape, source or {}, dict(timer.timings), tuple(notes or ()))
    return Garment(mesh, category, report, parse, cutout)


def _back_cut_out(image: Image.Image, segmenter: Segmenter) -> Cutout:
    """The back photo's cut-out; a refusal names the photo it is about."""
    try:
        return cut_out(image, segmenter)
    except InputError as exc:
        raise InputError(f"The back photo: {exc}") from None


def back_note(back: dict) -> str | None:
    """What the job's log says of the back: a back photo the model did not use, or one whose
    outline does not match the front's (another garment, or laid out differently)."""
    if back.get("photo"):
        return f"back photo {back['photo']}"
    if back.get("outline_iou", 1.0) < BACK_MATCH:
        return (f"the back photo's outline matches the front's only {back['outline_iou']:.0%}: "
                "is it the same garment, laid out the same way?")
    return None


def parse_note(parse: GarmentParse, asked: str | None) -> str | None:
    """What the job's log says of the parse: when `auto` chose the category without being sure,
    which other category came close (the page offers it as one click)."""
    if asked is not None or parse.confidence >= SURE:
        return None
    others = sorted((v, k) for k, v in parse.scores.items() if k != parse.category)
    runner_up = f"; {others[-1][1]} came close" if others else ""
    return f"auto category: {parse.category}, unsure ({parse.confidence:.0%}{runner_up}) - change it if it is wrong"
