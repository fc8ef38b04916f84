"""Cameras, view grid and surface extraction of the GPU path (no weights needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ai.ml.cameras import input_cameras, split_grid
from core.ai.ml.instantmesh import flexicubes
from core.ai.ml.instantmesh.surface import grid_vertices, marching_cubes
from core.ai.ml.instantmesh.synthesizer import sample_planes
from core.ai.ml.reconstruct import to_garment_frame


def test_input_cameras_match_the_published_vectors() -> None:
    cams = input_cameras()
    assert cams.shape == (6, 16) and cams.dtype == np.float32
    view0 = [-0.5, -0.2962, 0.8138, 3.2552, 0.866, -0.171, 0.4698, 1.8794, 0, 0.9397, 0.342, 1.3681,
             1.866, 1.866, 0.5, 0.5]
    view1 = [-1, 0, 0, 0, 0, 0.1736, 0.9848, 3.9392, 0, 0.9848, -0.1736, -0.6946, 1.866, 1.866, 0.5, 0.5]
    np.testing.assert_allclose(cams[0], view0, atol=1e-4)
    np.testing.assert_allclose(cams[1], view1, atol=1e-4)
    # Every camera sits at radius 4 and looks at the origin (its +z axis points away from it).
    pos = cams[:, [3, 7, 11]]
    np.testing.assert_allclose(np.linalg.norm(pos, axis=1), 4.0, atol=1e-5)
    np.testing.assert_allclose(cams[:, [2, 6, 10]], pos / 4.0, atol=1e-5)


def test_split_grid_is_row_major() -> None:
    grid = np.zeros((960, 640, 3), np.float32)
    for view in range(6):
        r, c = divmod(view, 2)
        grid[r * 320:(r + 1) * 320, c * 320:(c + 1) * 320] = view
    tiles = split_grid(grid)
    assert tiles.shape == (6, 3, 320, 320)
    assert [float(t.mean()) for t in tiles] == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError):
        split_grid(np.zeros((900, 640, 3)))


def test_plane_sampling_reads_the_documented_axes() -> None:
    planes = torch.zeros(1, 3, 1, 2, 2)
    planes[0, 0, 0, 0, 1] = 1.0  # plane 0, row (y) low, column (x) high
    f = sample_planes(planes, torch.tensor([[[0.5, -0.5, 0.9]]]))  # x high, y low: pixel centre
    assert f.shape == (1, 1, 3) and f[0, 0, 0] == pytest.approx(1.0) and f[0, 0, 1:].abs().sum() == 0
    assert sample_planes(planes, torch.tensor([[[1.5, -0.5, 0.0]]]))[0, 0, 0] == 0  # beyond the box


def _extract(sdf: torch.Tensor, res: int, weights: torch.Tensor | None = None) -> trimesh.Trimesh:
    x = grid_vertices(res, 2.1)
    cubes, case = flexicubes.surface_cubes(sdf, res)
    w = torch.zeros(len(cubes), 21) if weights is None else weights[: len(cubes)]
    v, f = flexicubes.extract(x, sdf, res, cubes, case, w)
    return trimesh.Trimesh(v.numpy(), f.numpy())


def test_flexicubes_and_marching_cubes_agree_on_a_sphere() -> None:
    res, centre, r = 48, torch.tensor([0.05, -0.1, 0.02]), 0.6
    sdf = (grid_vertices(res, 2.1) - centre).norm(dim=1) - r
    fc = _extract(sdf, res)
    mc = trimesh.Trimesh(*marching_cubes(sdf.numpy(), res, 2.1))
    exact = 4 / 3 * np.pi * r ** 3
    for mesh in (fc, mc):
        assert mesh.is_watertight and mesh.is_winding_consistent
        assert mesh.volume == pytest.approx(exact, rel=0.02)  # positive: normals point outwards
        assert np.abs(np.linalg.norm(mesh.vertices - centre.numpy(), axis=1) - r).max() < 2.1 / res
    # The same planes, two methods: every vertex of one lies within a cell of the other.
    from scipy.spatial import cKDTree

    assert cKDTree(mc.vertices).query(fc.vertices)[0].max() < 2.1 / res


def test_flexicubes_follows_a_box() -> None:
    res = 64
    sdf = (grid_vertices(res, 2.1).abs() - 0.5).max(dim=1).values
    box = _extract(sdf, res)
    assert box.is_watertight and box.volume == pytest.approx(1.0, rel=0.005)
    assert np.abs(box.vertices).max() == pytest.approx(0.5, abs=2.1 / res)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), res=st.integers(6, 20))
def test_flexicubes_gives_a_closed_oriented_surface_for_any_field(seed: int, res: int) -> None:
    """Closed (no boundary edge) with positive volume. Like Dual Marching Cubes, two quads may
    share an edge (used 4 times): allowed here, as an even count still encloses a volume."""
    g = torch.Generator().manual_seed(seed)
    field = torch.nn.functional.interpolate(torch.randn(1, 1, 5, 5, 5, generator=g), size=(res + 1,) * 3,
                                            mode="trilinear").view(res + 1, res + 1, res + 1)
    field[0], field[-1], field[:, 0], field[:, -1], field[:, :, 0], field[:, :, -1] = [1.0] * 6
    sdf = field.flatten()
    if bool((sdf >= 0).all()):
        return
    weights = torch.randn(res ** 3, 21, generator=g)
    mesh = _extract(sdf, res, weights)
    _, uses = np.unique(np.sort(mesh.edges, axis=1), axis=0, return_counts=True)
    assert (uses % 2 == 0).all() and mesh.volume > 0


def test_patch_tables_cover_every_case() -> None:
    edge_patch, count = flexicubes.patch_tables()
    assert count[0] == count[255] == 0 and count[1] == 1 and count.max() == 4
    for case in range(256):
        inside = [(case >> c) & 1 for c in range(8)]
        crossed = [inside[a] != inside[b] for a, b in flexicubes.EDGES]
        assert ((edge_patch[case] >= 0) == np.array(crossed)).all()
        assert count[case] == count[255 - case] or 0 < count[case] <= 4


def test_garment_frame_is_metres_y_up_front_z() -> None:
    # A 2 × 1 × 0.5 box in InstantMesh's world: tall along z, deep along x (the input view's axis).
    box = trimesh.creation.box(extents=(0.5, 1.0, 2.0))
    out = to_garment_frame(box.copy(), "top")
    assert out.extents == pytest.approx([1.0 * 0.35, 0.70, 0.5 * 0.35])
    assert out.bounds[1][1] == pytest.approx(0.0) and out.bounds[0][1] == pytest.approx(-0.70)
    assert out.volume > 0  # a rotation: the winding still points outwards


def test_the_ambiguity_table_holds_the_36_interior_cases() -> None:
    """One ambiguous face (two diagonal corners inside) and five or six corners inside; the step
    leads to the cube across that face."""
    table = flexicubes.ambiguity_table()
    flagged = [c for c in range(256) if table[c].any()]
    assert len(flagged) == 36 and {bin(c).count("1") for c in flagged} == {5, 6}
    for c in flagged:
        (face,) = flexicubes._ambiguous_faces(c)
        axis, side = divmod(face, 2)
        assert table[c].tolist() == [(1 if side else -1) if a == axis else 0 for a in range(3)]
        assert not table[255 - c].any()  # the inverse case, whose patches it takes, is not flagged


def _two_cubes(b_far_inside: bool) -> torch.Tensor:
    """A res-4 grid whose cubes a = (1,1,1) and b = (2,1,1) share an ambiguous face: its corners
    (2,1,1) and (2,2,2) inside, (2,2,1) and (2,1,2) outside; the rest of a inside, and of b too
    when `b_far_inside`. Everything else outside, the grid's border included."""
    sdf = torch.ones(5, 5, 5)
    inside = [(0, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (1, 0, 0), (1, 1, 1)]
    inside += [(2, 0, 0), (2, 1, 0), (2, 0, 1), (2, 1, 1)] if b_far_inside else []
    for i, j, k in inside:
        sdf[i + 1, j + 1, k + 1] = -1.0
    return sdf.flatten()


@pytest.mark.parametrize("both", [True, False])
def test_two_interior_ambiguous_cubes_facing_each_other_take_the_inverse_cases(both: bool) -> None:
    sdf = _two_cubes(both)
    cubes, case = flexicubes.surface_cubes(sdf, 4)
    got = dict(zip(cubes.tolist(), case.tolist(), strict=True))
    a, b = 1 * 16 + 1 * 4 + 1, 2 * 16 + 1 * 4 + 1  # linear ids of cubes (1,1,1) and (2,1,1)
    table = flexicubes.ambiguity_table()
    assert table[215].tolist() == [1, 0, 0]  # cube a: corners 0,1,2,4,6,7 inside, ambiguous at +x
    if both:
        assert table[235].tolist() == [-1, 0, 0]  # cube b: corners 0,1,3,5,6,7, ambiguous at -x
        assert (got[a], got[b]) == (255 - 215, 255 - 235)
    else:
        assert got[a] == 215  # its neighbour is not ambiguous inside: nothing to resolve
    mesh = _extract(sdf, 4)
    _, uses = np.unique(np.sort(mesh.edges, axis=1), axis=0, return_counts=True)
    assert (uses % 2 == 0).all() and mesh.volume > 0
