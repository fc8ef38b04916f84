"""The garment's connectivity, worked out once per fit: its edges (stretch is measured on them)
and the Laplacian of the cloth welded by position (settle spreads moves with it).

trimesh has both (`edges_unique`, `smoothing.laplacian_calculation`), but through row hashing
and Python neighbour lists they take about 15 ms on a 20k-face garment, a sixth of a fit's
budget; integer keys and sparse patterns do the same in a few ms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy import sparse

from core.mesh.cleanup import weld_groups


def _pattern(rows: np.ndarray, cols: np.ndarray, n: int) -> sparse.csr_matrix:
    """The sparsity pattern of the pairs as an n×n matrix of ones: converting to CSR sums the
    duplicates, a counting sort in O(pairs), quicker than sorting keys."""
    m = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    m.data[:] = 1.0
    return m


def unique_edges(faces: np.ndarray) -> np.ndarray:
    """Each undirected edge of the faces once, (E, 2) with the smaller index first."""
    pairs = np.asarray(faces, np.int64)[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    pairs.sort(axis=1)
    m = _pattern(pairs[:, 0], pairs[:, 1], int(pairs.max(initial=0)) + 1)
    return np.column_stack([np.repeat(np.arange(m.shape[0]), np.diff(m.indptr)), m.indices])


@dataclass(frozen=True)
class Cloth:
    edges: np.ndarray  # (E, 2) unique edges of the garment as given
    group: np.ndarray  # welded point of each vertex
    counts: np.ndarray  # vertices per welded point
    laplacian: sparse.csr_matrix  # umbrella operator on the welded points: mean of the neighbours

    @classmethod
    def of(cls, mesh: trimesh.Trimesh) -> Cloth:
        group, counts = weld_groups(mesh.vertices)
        edges = unique_edges(mesh.faces)
        welded = group[edges]
        welded = welded[welded[:, 0] != welded[:, 1]]
        adjacency = _pattern(np.r_[welded[:, 0], welded[:, 1]], np.r_[welded[:, 1], welded[:, 0]], len(counts))
        degree = np.diff(adjacency.indptr)
        adjacency.data /= np.repeat(np.maximum(degree, 1), degree)  # each row: the mean of its neighbours
        return cls(edges, group, counts, adjacency)

    def lengths(self, vertices: np.ndarray) -> np.ndarray:
        v = np.asarray(vertices)
        d = v[self.edges[:, 0]] - v[self.edges[:, 1]]
        return np.sqrt(np.einsum("ij,ij->i", d, d))
