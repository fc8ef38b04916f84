"""The silhouette shell: closed, in the glTF frame, at garment size, within the face budget."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.errors import InputError
from core.garment.registry import REGISTRY
from core.mesh.cleanup import clean, drop_small_pieces, welded
from core.quality import QUALITY
from core.samples import draw_garment


def cutout_of(category: str) -> Cutout:
    photo, mask = draw_garment(category)
    return Cutout(rgb=np.asarray(photo), mask=mask, method="truth")


def openings(mesh: trimesh.Trimesh) -> list[np.ndarray]:
    """The border loops of an open shell (front and back welded along the outline), as vertex arrays."""
    outline = welded(mesh).outline()
    return [outline.vertices[e.points] for e in outline.entities]


@pytest.mark.parametrize("category,n_open", [("top", 4), ("bottom", 3), ("dress", 4), ("outer", 4)])
@pytest.mark.parametrize("quality", ["low", "med"])
def test_shell_is_open_where_worn_sized_and_oriented(category, n_open, quality) -> None:
    mesh = clean(reconstruct(cutout_of(category), category, quality).mesh)
    height, half_depth = REGISTRY[category].length_m, REGISTRY[category].half_depth_m
    assert mesh.is_winding_consistent
    loops = openings(mesh)
    assert len(loops) == n_open  # neck, hem, two sleeves; or waist and two legs
    for loop in loops:  # each opening keeps the garment's depth: a body can pass through it
        assert np.ptp(loop[:, 2]) > 0.08
    assert len(mesh.faces) <= QUALITY[quality].shell_faces
    assert mesh.extents[1] == pytest.approx(height, rel=0.02)
    assert mesh.extents[2] == pytest.approx(2 * half_depth, rel=0.05)
    assert mesh.bounds[1, 1] == pytest.approx(0.0, abs=1e-9)  # anchor: the top centre
    assert abs(mesh.bounds[:, 0].mean()) < 0.03
    # The front (+Z) carries the photo: the front-most vertex's normal points to +Z.
    assert mesh.vertex_normals[np.argmax(mesh.vertices[:, 2])][2] > 0.9


def test_texture_maps_photo_colours_to_front() -> None:
    mesh = reconstruct(cutout_of("top"), "top", "low").mesh
    uv = mesh.visual.uv
    assert uv.min() >= 0 and uv.max() <= 1
    assert mesh.visual.material.baseColorTexture.size == (1024, 512)  # the front's half, the back's half


@settings(max_examples=25, deadline=None)
@given(w=st.integers(20, 300), h=st.integers(20, 300), holes=st.booleans(),
       category=st.sampled_from(["top", "bottom", "dress"]))
@example(w=20, h=227, holes=False, category="top")  # a thin shape once left front and back faces shared
def test_any_blob_gives_a_clean_shell(w, h, holes, category) -> None:
    mask = np.zeros((320, 320), bool)
    yy, xx = np.mgrid[:320, :320]
    mask[((yy - 160) / (h / 2)) ** 2 + ((xx - 160) / (w / 2)) ** 2 <= 1] = True
    if holes:
        r = min(w, h) // 8
        mask[160 - r:160 + r, 160 - r:160 + r] = False
    rgb = np.full((320, 320, 3), 128, np.uint8)
    raw = reconstruct(Cutout(rgb, mask, "t"), category, "low").mesh
    mesh = clean(raw.copy())
    assert len(mesh.faces) == len(raw.faces)  # nothing degenerate, duplicated or floating
    assert mesh.is_winding_consistent
    assert len(mesh.faces) <= QUALITY["low"].shell_faces
    edges = np.sort(mesh.edges, axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert counts.max() <= 2  # manifold edges: every edge has one or two faces


def test_degenerate_outline_refused() -> None:
    mask = np.zeros((200, 200), bool)
    mask[100, 20:180] = True  # a one-pixel line: nothing to inflate
    with pytest.raises(InputError, match="too thin"):
        reconstruct(Cutout(np.zeros((200, 200, 3), np.uint8), mask, "t"), "top", "low")


def test_drop_small_pieces() -> None:
    big = trimesh.creation.icosphere(3)
    small = trimesh.creation.box(extents=[0.1] * 3)
    small.apply_translation([5, 0, 0])
    out = drop_small_pieces(trimesh.util.concatenate([big, small]))
    assert len(out.faces) == len(big.faces)


def _tank(half: int, armhole: int, strap: float) -> np.ndarray:
    """A sleeveless boxy top's mask: straight sides from its armpits to its hem (its widest, the
    upper half's too), armholes curving in to straps `strap` of its half-width."""
    top, bottom, cx = 60, 60 + 4 * half, 400
    curve = [(cx + half - (half - strap * half) * np.cos(t) ** 2, top + 10 + armhole * np.sin(t))
             for t in np.linspace(0, np.pi / 2, 12)]
    right = [(cx + 0.35 * half, top), *curve, (cx + half, bottom)]
    left = [(2 * cx - x, y) for x, y in reversed(right)]
    outline = [(cx, top + 0.4 * armhole), *right, *left]
    image = Image.new("L", (800, bottom + 60), 0)
    ImageDraw.Draw(image).polygon([(float(x), float(y)) for x, y in outline], fill=255)
    return np.asarray(image) > 127


@settings(max_examples=6, deadline=None)
@given(half=st.integers(110, 170), armhole=st.integers(90, 150), strap=st.floats(0.55, 0.85))
@example(half=130, armhole=130, strap=0.85)  # a shallow armhole whose parse set the armpit 4 % of the height low
@example(half=110, armhole=150, strap=0.85)  # and one it set high: the armhole stays open
def test_sleeveless_sides_are_sewn_below_the_armholes(half, armhole, strap) -> None:
    """A boxy sleeveless top's straight sides are the widest outline of its upper half, where
    sleeves end on other tops: its shell is open at its neck, hem and armholes, and sewn along its
    sides below the armpits (they were left open, and the fitted top showed the skin through
    them)."""
    mask = _tank(half, armhole, strap)
    mesh = clean(reconstruct(Cutout(np.zeros((*mask.shape, 3), np.uint8), mask, "t"), "top", "low").mesh)
    loops = openings(mesh)
    assert len(loops) == 4  # neck, hem, two armholes
    metres = REGISTRY["top"].length_m / (4 * half)  # the mask's rows to the shell's metres
    armpit_y = -(10 + armhole) * metres
    sides = np.concatenate(loops)
    sides = sides[np.abs(sides[:, 0]) > 0.9 * np.abs(mesh.vertices[:, 0]).max()]
    low = sides[:, 1] < armpit_y - 0.04  # open edges at the sides, 4 cm below the armpits
    assert not (low & (sides[:, 1] > mesh.bounds[0, 1] + 0.03)).any()  # but for the hem's corners


def test_hem_is_open_under_sleeves_laid_down_past_it() -> None:
    """A jumper laid flat with its sleeves down its sides, longer than its body: the sleeves' cuffs
    are the lowest outline, and the body's hem must be open all the same (it was sewn shut, and
    the fitted jumper's hem tore into holes at the hips)."""
    cx, top, hem, cuffs = 400, 60, 560, 700
    body = [(cx - 60, top), (cx - 150, top + 30), (cx - 150, hem), (cx + 150, hem), (cx + 150, top + 30),
            (cx + 60, top)]
    image = Image.new("L", (800, 780), 0)
    draw = ImageDraw.Draw(image)
    draw.polygon(body, fill=255)
    for side in (-1, 1):  # each sleeve from the shoulder, down beside the body past its hem
        draw.polygon([(cx + side * 150, top + 30), (cx + side * 235, top + 60), (cx + side * 235, cuffs),
                      (cx + side * 168, cuffs), (cx + side * 165, top + 170), (cx + side * 150, top + 160)],
                     fill=255)
    mask = np.asarray(image) > 127
    mesh = clean(reconstruct(Cutout(np.zeros((*mask.shape, 3), np.uint8), mask, "t"), "top", "low").mesh)
    metres = REGISTRY["top"].length_m / (cuffs - top)
    hem_y = -(hem - top) * metres
    rims = [loop for loop in openings(mesh) if np.abs(loop[:, 1] - hem_y).min() < 0.02
            and np.ptp(loop[:, 0]) > 0.8 * 300 * metres]  # a loop at the hem's height, across the body
    assert rims and np.ptp(rims[0][:, 2]) > 0.08  # open with the garment's depth: a body fits through
