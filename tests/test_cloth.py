"""The cloth's connectivity: edges and the welded Laplacian that settle spreads moves with."""

from __future__ import annotations

import numpy as np
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fitting.cloth import Cloth, unique_edges


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 30)] * 3), min_size=1, max_size=200))
def test_unique_edges_are_the_faces_edges_once(faces) -> None:
    faces = np.array(faces)
    expected = {tuple(sorted(e)) for f in faces for e in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0]))}
    got = unique_edges(faces)
    assert (got[:, 0] <= got[:, 1]).all()
    assert len(got) == len(expected) and {tuple(e) for e in got.tolist()} == expected


def test_seam_split_cloth_moves_as_one_piece() -> None:
    """A sheet cut in two along a seam (as UV seams leave imported garments) is one cloth: the
    seam's duplicated vertices are welded, and the Laplacian connects across the cut."""
    grid = trimesh.creation.box().subdivide().subdivide()  # any closed surface
    split = trimesh.Trimesh(grid.vertices[grid.faces].reshape(-1, 3), np.arange(3 * len(grid.faces)).reshape(-1, 3),
                            process=False)  # every face its own vertices: all seams
    cloth = Cloth.of(split)
    assert len(cloth.counts) == len(grid.vertices) and cloth.counts.sum() == len(split.vertices)
    lap = cloth.laplacian
    assert np.allclose(lap.sum(axis=1), 1.0)  # each row: the mean of its neighbours
    assert ((lap > 0) != (lap.T > 0)).nnz == 0  # neighbours both ways, boundary edges included
    # The welded neighbours are exactly the closed surface's vertex neighbours.
    for i in range(0, len(grid.vertices), 7):
        welded = cloth.group[np.flatnonzero(np.all(split.vertices == grid.vertices[i], axis=1))[0]]
        neighbours = {tuple(grid.vertices[j]) for j in grid.vertex_neighbors[i]}
        first = {w: k for k, w in enumerate(cloth.group)}
        got = {tuple(split.vertices[first[j]]) for j in lap[welded].indices}
        assert got == neighbours


def test_lengths_measure_every_edge() -> None:
    mesh = trimesh.Trimesh([[0, 0, 0], [3, 0, 0], [0, 4, 0]], [[0, 1, 2]], process=False)
    cloth = Cloth.of(mesh)
    assert sorted(cloth.lengths(mesh.vertices).tolist()) == [3.0, 4.0, 5.0]
