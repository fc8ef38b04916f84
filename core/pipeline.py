"""The pipeline stages end to end, free of database and storage: photo → garment files, garments → fitted files.

Each stage is timed; `on_stage` lets a caller publish progress (the job runner writes it to the DB).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import trimesh
from PIL import Image

from core.ai import ml
from core.ai.reconstructors import Reconstructor
from core.ai.segment import CLASSICAL, Cutout, Segmenter, cut_out
from core.errors import InputError
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer, fit
from core.garment.parse import GarmentParse, parse_mask
from core.garment.registry import REGISTRY, SURE
from core.mesh.cleanup import clean, decimate, opening_count
from core.mesh.export import draco_compress_glb, garment_node, mesh_to_glb, mesh_to_obj_zip, scene_to_glb
from core.mesh.importer import front_mask, load_mesh, orient, scale_and_anchor
from core.mesh.render import render, turntable
from core.quality import IMPORT_FACES

StageCallback = Callable[[str], None]
BACK_MATCH = 0.75  # a back photo's outline overlapping the front's less than this is named in the log
log = logging.getLogger("fitroom.pipeline")

# The stages each function publishes through `on_stage`, in order: the page's progress bars read them.
PHOTO_STAGES = ("cut-out", "category", "reconstruction", *ml.STAGES, "cleanup", "export", "preview")
DRESS_STAGES = ("fitting", "export")
# Timed, not published: made once the job is done and shown, nobody waits for them (its extras).
EXTRA_STAGES = ("thumbnail", "obj", "turntable")


def job_seconds(timings: dict[str, float]) -> float:
    """A job's own time, up to `done`: its stages, neither their parts ("reconstruction/…") nor extras."""
    return sum(v for k, v in timings.items() if k not in EXTRA_STAGES and "/" not in k)


@dataclass
class Timer:
    on_stage: StageCallback | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage:
            self.on_stage(name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 4)


@dataclass
class GarmentFiles:
    mesh: trimesh.Trimesh
    category: str
    glb: bytes
    draco_glb: bytes
    cutout_preview: bytes
    timings: dict[str, float]
    stats: dict
    log: str | None = None  # what the job's log says of how it was made


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def thumbnail(meshes: list[trimesh.Trimesh], **view) -> bytes:
    """A PNG preview, or b"" when rendering fails: a missing picture must not fail a finished garment."""
    try:
        return png_bytes(render(meshes, **view))
    except Exception:  # any renderer failure only costs the preview
        log.exception("thumbnail failed; the job goes on without it")
        return b""


def photo_to_garment(image: Image.Image, category: str | None, quality: str,
                     reconstructor: Reconstructor, on_stage: StageCallback | None = None,
                     back_image: Image.Image | None = None, segmenter: Segmenter = CLASSICAL) -> GarmentFiles:
    """A garment photo (and optionally the garment's back) to its finished files; `segmenter`: the
    cut-out of photos without an alpha channel."""
    timer = Timer(on_stage)
    with timer.stage("cut-out"):
        cutout = cut_out(image, segmenter)
        back = _back_cut_out(back_image, segmenter) if back_image is not None else None
    with timer.stage("category"):  # the parse: category, sleeves or legs, landmarks
        parse = parse_mask(cutout.mask, category)
    with timer.stage("reconstruction"):
        garment = reconstructor.reconstruct(cutout, parse.category, quality, on_progress=on_stage, back=back)
    timer.timings.update({f"reconstruction/{k}": v for k, v in garment.timings.items()})
    files = finish_garment(garment.mesh, parse.category, timer)
    with timer.stage("preview"):  # the cut-out, shown beside the garment as soon as it is done
        files.cutout_preview = png_bytes(cutout.preview())
    files.stats |= {"segmentation": cutout.method, "parse": parse.to_json()} | garment.stats
    fallback = f"cut-out: {cutout.method}" if cutout.method.startswith("classical (") else None  # and why
    notes = [fallback, parse_note(parse, asked=category), back_note(garment.stats.get("back") or {})]
    files.log = "; ".join(n for n in notes if n) or None
    return files


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


def import_to_garment(data: bytes, filename: str | None, category: str | None, units: str, up: str,
                      max_bytes: int) -> GarmentFiles:
    """An uploaded 3D file to a finished garment: its cost counted before it is parsed (see
    core/mesh/precheck.py), then the garment frame, the category, the units, 40k faces at most."""
    mesh, fmt = load_mesh(data, filename, max_bytes)
    item = orient(mesh, fmt in ("glb", "gltf"), up or "auto")
    parse = parse_mask(front_mask(item.mesh), category)  # the same parse as a photo's, of its front
    item = scale_and_anchor(item, units or "auto", REGISTRY[parse.category].length_m)
    decimated = decimate(item.mesh, IMPORT_FACES)
    if len(decimated.faces) < len(item.mesh.faces):
        item.notes.append(f"decimated from {len(item.mesh.faces):,} to {len(decimated.faces):,} faces")
    files = finish_garment(decimated, parse.category)
    files.stats |= {"format": fmt, "source_faces": len(mesh.faces), "parse": parse.to_json()}
    note = parse_note(parse, asked=category)
    files.log = "; ".join(["imported from " + fmt.upper(), *item.notes, *([note] if note else [])])
    return files


def finish_garment(mesh: trimesh.Trimesh, category: str, timer: Timer | None = None) -> GarmentFiles:
    """The one path after any reconstruction or import: cleanup, GLB + Draco GLB (its thumbnail is
    one of the extras, made after)."""
    timer = timer or Timer()
    with timer.stage("cleanup"):
        mesh = clean(mesh)
    with timer.stage("export"):
        mesh.metadata["category"] = category  # the mesh's glTF extras (three.js: its userData)
        glb = mesh_to_glb(mesh, name=garment_node(category))
        draco = draco_compress_glb(glb)
    stats = {"faces": len(mesh.faces), "vertices": len(mesh.vertices),
             "extents_m": [round(float(x), 4) for x in mesh.extents],
             "openings": opening_count(mesh),
             "glb_bytes": len(glb), "draco_bytes": len(draco)}
    return GarmentFiles(mesh, category, glb, draco, b"", timer.timings, stats)


@dataclass
class GarmentExtras:
    thumbnail: bytes  # b"" when it could not be drawn
    obj_zip: bytes
    turntable_gif: bytes
    timings: dict[str, float]


def garment_extras(mesh: trimesh.Trimesh) -> GarmentExtras:
    """What is made after the garment is ready (and shown): the thumbnail, the OBJ zip and the turntable."""
    timer = Timer()
    with timer.stage("thumbnail"):
        thumb = thumbnail([mesh])
    with timer.stage("obj"):
        obj_zip = mesh_to_obj_zip(mesh)
    with timer.stage("turntable"):
        gif = turntable([mesh])
    return GarmentExtras(thumb, obj_zip, gif, timer.timings)


@dataclass
class FittedFiles:
    glb: bytes
    draco_glb: bytes
    metrics: dict
    timings: dict[str, float]
    meshes: list[trimesh.Trimesh]  # the body and the fitted garments, for the thumbnail made after


def fitted_thumbnail(files: FittedFiles) -> tuple[bytes, dict[str, float]]:
    """A dressed avatar's thumbnail (b"" when it could not be drawn) and its timing: made after the
    fitting is done and shown."""
    timer = Timer()
    with timer.stage("thumbnail"):
        thumb = thumbnail(files.meshes, yaw_deg=20)
    return thumb, timer.timings


def dress(layers: list[FitLayer], body: BodyModel, offset_mm: float, ease: str = "regular",
          tuck_in: bool = False, on_stage: StageCallback | None = None) -> FittedFiles:
    timer = Timer(on_stage)
    with timer.stage("fitting"):
        result = fit(layers, body, offset_mm=offset_mm, ease=ease, tuck_in=tuck_in)
    with timer.stage("export"):
        glb = scene_to_glb(result.scene)
        draco = draco_compress_glb(glb)
    metrics = result.metrics | {"glb_bytes": len(glb), "draco_bytes": len(draco)}
    return FittedFiles(glb, draco, metrics, timer.timings, [body.mesh, *result.garments])
