"""The garment's back: a back photo lands on the back, registered and the right way round; without
one, the back is the garment's own fabric, never the front's print mirrored. And the seam where
front and back meet: one cloth, with smooth normals, in validator-clean GLBs."""

from __future__ import annotations

import io

import numpy as np
import pygltflib
import pytest
import trimesh
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from core.ai.fabric import fabric
from core.ai.reconstructors import REGISTRY
from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.mesh.cleanup import clean, opening_count, weld_groups
from core.mesh.export import _read_accessor, decode_draco_glb
from core.pipeline import finish_garment, photo_to_garment
from core.samples import draw_garment
from tests.gltf import validate

RED, BLUE, GREEN, WHITE, BLACK = (200, 40, 40), (40, 60, 200), (40, 170, 60), (236, 236, 240), (15, 15, 15)
PALE = (200, 215, 235)  # a pale shirt the classical cut-out finds on a white backdrop


def drawn(colour: tuple[int, int, int], left: tuple[int, int, int] | None = None, print_l: bool = False,
          category: str = "top") -> tuple[Image.Image, np.ndarray]:
    """A plain garment photo and its mask; `left` paints the picture's left half, `print_l` puts a
    black "L" (which reads backwards when mirrored) on the chest's right, as the picture shows it."""
    photo, mask = draw_garment(category, colour=colour, stripes=False)
    d = ImageDraw.Draw(photo)
    if left is not None:
        rgb = np.asarray(photo).copy()
        rgb[:, : rgb.shape[1] // 2][mask[:, : rgb.shape[1] // 2]] = left
        photo = Image.fromarray(rgb)
        d = ImageDraw.Draw(photo)
    if print_l:
        d.rectangle([420, 300, 445, 420], fill=BLACK)  # the stem
        d.rectangle([420, 395, 500, 420], fill=BLACK)  # the foot, to the right
    return photo, mask


def photo_bytes_of(image: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


def side_texels(mesh: trimesh.Trimesh, side: str) -> tuple[np.ndarray, np.ndarray]:
    """The texel under each face of the front (+Z) or back (-Z) sheet, at the face's centre, and the
    centres' x (metres). Works on a reconstruction and on a GLB loaded back (UVs as trimesh gives them)."""
    visual = mesh.visual
    image = np.asarray(visual.material.baseColorTexture.convert("RGB"))
    z = mesh.triangles_center[:, 2]
    faces = np.flatnonzero(z > 0.01 if side == "front" else z < -0.01)
    uv = visual.uv[mesh.faces[faces]].mean(axis=1)
    h, w = image.shape[:2]
    x = np.clip((uv[:, 0] * (w - 1)).round().astype(int), 0, w - 1)
    y = np.clip(((1 - uv[:, 1]) * (h - 1)).round().astype(int), 0, h - 1)
    return image[y, x].astype(float), mesh.triangles_center[faces, 0]


def near(texels: np.ndarray, colour: tuple[int, int, int], tol: float = 40.0) -> np.ndarray:
    return np.abs(texels - np.asarray(colour, float)).max(axis=1) <= tol


def glb_mesh(glb: bytes) -> trimesh.Trimesh:
    return trimesh.load(io.BytesIO(glb), file_type="glb", force="mesh")


# -- a back photo ---------------------------------------------------------------------------------
def test_a_back_photo_textures_the_back_mirrored_into_place() -> None:
    """The back photo seen from behind: its picture's left half is the wearer's left, which the
    front photo shows on its right (+x). Registered to the front's outline, it lands there."""
    front, mask = drawn(RED)
    back, back_mask = drawn(BLUE, left=GREEN)
    garment = reconstruct(Cutout(np.asarray(front), mask, "truth"), "top", "low",
                          back=Cutout(np.asarray(back), back_mask, "truth"))
    assert garment.stats["back"] == {"source": "photo", "outline_iou": 1.0}
    files = finish_garment(garment.mesh, "top")
    for mesh in (garment.mesh, glb_mesh(files.glb)):  # made, and as a viewer reads the GLB
        texels, x = side_texels(mesh, "front")
        assert near(texels, RED).mean() > 0.97
        texels, x = side_texels(mesh, "back")
        assert near(texels[x > 0.03], GREEN).mean() > 0.97  # the wearer's left
        assert near(texels[x < -0.03], BLUE).mean() > 0.97


def test_a_back_photo_of_another_size_and_place_is_registered_to_the_front() -> None:
    """A back photo shot smaller and off-centre still covers the front's outline."""
    front, mask = drawn(RED)
    back, back_mask = drawn(BLUE)
    small = Image.new("RGB", (1200, 1300), "white")
    small.paste(back.resize((384, 512)), (700, 90))
    small_mask = np.zeros((1300, 1200), bool)
    small_mask[90:602, 700:1084] = np.asarray(Image.fromarray(back_mask).resize((384, 512)))
    garment = reconstruct(Cutout(np.asarray(front), mask, "truth"), "top", "low",
                          back=Cutout(np.asarray(small), small_mask, "truth"))
    assert garment.stats["back"]["outline_iou"] > 0.9
    texels, _ = side_texels(garment.mesh, "back")
    assert near(texels, BLUE).mean() > 0.97


def test_the_pipeline_cuts_out_the_back_photo_and_says_when_it_does_not_match(tmp_path) -> None:
    front, _ = drawn(RED)
    back, _ = drawn(BLUE)
    files = photo_to_garment(front, None, "low", REGISTRY["silhouette"], back_image=back)
    assert files.stats["back"]["source"] == "photo" and files.stats["back"]["outline_iou"] > 0.9
    texels, _ = side_texels(glb_mesh(files.glb), "back")
    assert near(texels, BLUE).mean() > 0.97
    assert files.log is None or "back photo" not in files.log
    dress, _ = drawn(BLUE, category="bottom")  # trousers as the back of a T-shirt
    odd = photo_to_garment(front, "top", "low", REGISTRY["silhouette"], back_image=dress)
    assert "back photo's outline matches the front's only" in odd.log
    blank = Image.new("RGB", (768, 1024), "white")
    with pytest.raises(Exception, match="The back photo: No garment found"):
        photo_to_garment(front, None, "low", REGISTRY["silhouette"], back_image=blank)


def test_a_fitted_garment_keeps_its_back_on_its_back() -> None:
    """Fitted (sleeves rebuilt as tubes round the arms, the body wrapped), the cloth facing back is
    still the back photo's, the cloth facing front the front's, and no face stretches across from
    the texture's front half to its back half (it would show a streak of everything between)."""
    from core.fitting.fit import FitLayer, fit
    from core.garment.parse import GarmentParse
    from tests.test_fitting import preset_body

    front, back = drawn(RED)[0], drawn(BLUE)[0]
    files = photo_to_garment(front, None, "low", REGISTRY["silhouette"], back_image=back)
    parse = GarmentParse.from_json(files.stats["parse"])
    (fitted,) = fit([FitLayer(files.mesh, "top", "top", parse)], preset_body("average-man-175").prepared()).garments
    u = fitted.visual.uv[fitted.faces, 0]
    assert not ((u.min(axis=1) < 0.49) & (u.max(axis=1) > 0.51)).any()
    image = np.asarray(fitted.visual.material.baseColorTexture.convert("RGB")).astype(float)
    uv = fitted.visual.uv[fitted.faces].mean(axis=1)
    h, w = image.shape[:2]
    texels = image[((1 - uv[:, 1]) * (h - 1)).round().astype(int), (uv[:, 0] * (w - 1)).round().astype(int)]
    normals = fitted.face_normals  # (the rest: the cut-out's rim, paler, and cloth folded at the neck)
    assert near(texels[normals[:, 2] < -0.7], BLUE).mean() > 0.9
    assert near(texels[normals[:, 2] > 0.7], RED).mean() > 0.9


# -- no back photo: the garment's own fabric ------------------------------------------------------
def test_without_a_back_photo_the_front_print_is_not_mirrored_onto_the_back() -> None:
    photo, mask = drawn(WHITE, print_l=True)
    garment = reconstruct(Cutout(np.asarray(photo), mask, "truth"), "top", "low")
    assert garment.stats["back"]["source"] == "fabric" and garment.stats["back"]["fabric"] == "plain"
    front, _ = side_texels(garment.mesh, "front")
    assert near(front, BLACK).sum() > 20  # the print is on the front
    back, _ = side_texels(garment.mesh, "back")
    assert not near(back, BLACK, 120).any()  # and nothing of it on the back, mirrored or not
    assert near(back, WHITE, 25).mean() > 0.99


def test_through_the_pipeline_the_back_of_a_printed_shirt_is_its_fabric() -> None:
    photo, _ = drawn(PALE, print_l=True)
    files = photo_to_garment(photo, None, "low", REGISTRY["silhouette"])
    mesh = glb_mesh(files.glb)
    assert near(side_texels(mesh, "front")[0], BLACK).sum() > 20
    back, _ = side_texels(mesh, "back")
    assert not near(back, BLACK, 100).any() and near(back, PALE, 30).mean() > 0.98


@settings(max_examples=30, deadline=None)
@given(fabric_rgb=st.tuples(*[st.integers(30, 225)] * 3), contrast=st.integers(60, 120),
       box=st.tuples(st.floats(0.25, 0.6), st.floats(0.15, 0.6), st.floats(0.08, 0.3), st.floats(0.05, 0.25)),
       shade=st.floats(0.0, 0.12))
def test_any_print_on_a_plain_fabric_is_gone_from_the_back(fabric_rgb, contrast, box, shade) -> None:
    """A rectangle of print anywhere inside the outline, of any size up to a third of the width, on
    any plain colour with some shading: the back is the fabric's colour, the print nowhere. (A print
    running over the outline is not told from a block of another colour, a sleeve's: it stays.)"""
    side = 256
    yy, xx = np.mgrid[:side, :side]
    mask = ((yy - 128) / 120) ** 2 + ((xx - 128) / 100) ** 2 <= 1
    x0, y0, bw, bh = (int(v * side) for v in box)
    x1, y1 = x0 + bw, y0 + bh
    assume((((yy[y0:y1, x0:x1] - 128) / 110) ** 2 + ((xx[y0:y1, x0:x1] - 128) / 90) ** 2 <= 1).all())
    base = np.asarray(fabric_rgb, float)
    rgb = base * (1 - shade * xx[..., None] / side)  # light from the left
    ink = np.where(base > 128, base - contrast, base + contrast)
    rgb[y0:y1, x0:x1] = ink
    back, stats = fabric(rgb.clip(0, 255).astype(np.uint8), mask)
    texels = back[mask].astype(float)
    assert stats["fabric"] == "plain"
    assert (np.abs(texels - base).max(axis=1) <= 25 + 255 * shade).mean() > 0.99
    assert (np.abs(texels - ink).max(axis=1) <= 20).mean() < 0.002


def test_a_patterned_fabric_stays_a_pattern_on_the_back() -> None:
    """Stripes everywhere are the fabric, not a print: the back is striped too (not flattened to a
    mean colour), the stripes' own colours, not a copy of the front."""
    photo, mask = draw_garment("top", stripes=True)
    garment = reconstruct(Cutout(np.asarray(photo), mask, "truth"), "top", "low")
    assert garment.stats["back"]["fabric"] == "pattern"
    back, _ = side_texels(garment.mesh, "back")
    dark, light = np.array([196, 52, 60]), np.array([255, 112, 120])
    share_dark = (np.abs(back - dark * 0.96).max(axis=1) < 30).mean()
    share_light = (np.abs(back - light * 0.96).max(axis=1) < 40).mean()
    assert share_dark > 0.3 and share_light > 0.1


def test_the_back_costs_little() -> None:
    photo, mask = drawn(WHITE, print_l=True)
    garment = reconstruct(Cutout(np.asarray(photo), mask, "truth"), "top", "low")
    assert garment.timings["back"] < 0.1


# -- the seam: one cloth, smooth normals, clean files -------------------------------------------
def test_front_and_back_meet_as_one_cloth_with_smooth_normals(tmp_path) -> None:
    """Along the outline each point is a front and a back vertex (their texture coordinates
    differ); welded, the shell keeps its four openings, and the GLB's normals are one per point
    there, pointing out of the outline, in the plain and the Draco file alike."""
    photo, mask = drawn(RED, print_l=True)
    mesh = clean(reconstruct(Cutout(np.asarray(photo), mask, "truth"), "top", "low").mesh)
    u = mesh.visual.uv[mesh.faces, 0]
    front = mesh.triangles_center[:, 2] > 0
    assert u[front].max() <= 0.5 + 1e-9 and u[~front].min() >= 0.5 - 1e-9  # the texture's two halves
    assert opening_count(mesh) == 4
    files = finish_garment(mesh, "top")
    assert files.stats["openings"] == 4
    gltf = pygltflib.GLTF2.load_from_bytes(files.glb)
    attrs = gltf.meshes[0].primitives[0].attributes
    blob = gltf.binary_blob()
    normals, points = _read_accessor(gltf, blob, attrs.NORMAL), _read_accessor(gltf, blob, attrs.POSITION)
    group, counts = weld_groups(points)
    seam = counts[group] > 1
    assert seam.sum() > 100
    first = np.zeros((len(counts), 3))
    first[group[seam]] = normals[seam]
    assert np.abs(normals[seam] - first[group[seam]]).max() < 1e-5  # one normal per point on the seam
    assert np.abs(normals[seam, 2]).mean() < 0.3  # and it points out of the outline, not to either side
    (draco,) = decode_draco_glb(files.draco_glb)
    assert draco.normals is not None and len(draco.normals) == len(draco.points)
    (tmp_path / "g.glb").write_bytes(files.glb)
    (tmp_path / "g.draco.glb").write_bytes(files.draco_glb)
    assert [r["errors"] for r in validate(tmp_path / "g.glb", tmp_path / "g.draco.glb")] == [0, 0]
