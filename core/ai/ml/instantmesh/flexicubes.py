"""FlexiCubes surface extraction (Shen et al., "Flexible Isosurface Extraction for Gradient-Based
Mesh Optimization", SIGGRAPH 2023), written here from the paper.

The reference code carries NVIDIA's non-commercial licence, so nothing of it is used. The method:
Dual Marching Cubes places one vertex per surface patch inside each cube that the surface crosses;
FlexiCubes moves it with learned weights: α scales each corner's SDF when the edge crossing is
interpolated, β weighs the crossings that make up the dual vertex, γ picks each quad's diagonal.
Each grid edge where the SDF changes sign joins the dual vertices of its four cubes into a quad.

The patch tables are derived at import from the cube's topology rather than copied: on each face
the crossing edges pair up, and on an ambiguous face (two diagonal corners inside) the two edges
around each inside corner pair up, so inside regions stay apart on that face, a rule both cubes
sharing the face agree on. The cube-interior ambiguity is then resolved as the reference does
(the paper's supplement, 1.3): a cube whose case has exactly one ambiguous face and five or six
corners inside (36 cases) is ambiguous inside; where the cube across that face is one of them
too, both take the patches of the inverse case 255 − c, which joins the inside regions on the
face they share. Two quads may still share an edge, as in Dual Marching Cubes; the surface
stays closed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

# Corner c sits at (c & 1, c >> 1 & 1, c >> 2 & 1): x fastest. The 12 edges as corner pairs.
CORNERS = np.array([[c & 1, c >> 1 & 1, c >> 2 & 1] for c in range(8)])
EDGES = np.array([(0, 1), (1, 5), (4, 5), (0, 4), (2, 3), (3, 7), (6, 7), (2, 6), (2, 0), (3, 1), (7, 5), (6, 4)])
FACES = [[c for c in range(8) if CORNERS[c, axis] == side] for axis in range(3) for side in (0, 1)]


def _case_patches(case: int) -> list[int]:
    """Patch of each of the 12 edges for one sign case (-1: not crossed)."""
    edge_of = {frozenset(e): i for i, e in enumerate(EDGES.tolist())}
    inside = [(case >> c) & 1 for c in range(8)]
    parent = list(range(12))

    def find(e: int) -> int:
        while parent[e] != e:
            e = parent[e]
        return e

    crossed = [i for i, (a, b) in enumerate(EDGES) if inside[a] != inside[b]]
    for face in FACES:
        face_edges = [edge_of[frozenset((a, b))] for a in face for b in face
                      if a < b and (CORNERS[a] != CORNERS[b]).sum() == 1]
        cut = [e for e in face_edges if e in crossed]
        pairs = [cut] if len(cut) == 2 else []
        if len(cut) == 4:  # ambiguous face: keep each inside corner's region apart
            pairs = [[e for e in cut if c in EDGES[e]] for c in face if inside[c]]
        for a, b in pairs:
            parent[find(a)] = find(b)
    roots: dict[int, int] = {}
    return [roots.setdefault(find(e), len(roots)) if e in crossed else -1 for e in range(12)]


@lru_cache(maxsize=1)
def patch_tables() -> tuple[np.ndarray, np.ndarray]:
    """For each of the 256 sign cases: the patch (dual vertex) each edge belongs to, -1 where the
    edge is not crossed ([256, 12]), and the number of patches ([256])."""
    edge_patch = np.array([_case_patches(case) for case in range(256)], np.int64)
    return edge_patch, edge_patch.max(axis=1) + 1


def _ambiguous_faces(case: int) -> list[int]:
    """The faces (index into FACES: axis·2 + side) on which two diagonal corners are inside."""
    inside = [(case >> c) & 1 for c in range(8)]
    out = []
    for i, face in enumerate(FACES):
        ins = [c for c in face if inside[c]]
        if len(ins) == 2 and (CORNERS[ins[0]] != CORNERS[ins[1]]).sum() == 2:
            out.append(i)
    return out


@lru_cache(maxsize=1)
def ambiguity_table() -> np.ndarray:
    """[256, 3]: for the 36 cases ambiguous inside the cube (one ambiguous face, five or six corners
    inside), the step (dx, dy, dz) to the cube across that face; zeros for every other case."""
    table = np.zeros((256, 3), np.int64)
    for case in range(256):
        faces = _ambiguous_faces(case)
        if len(faces) == 1 and bin(case).count("1") >= 5:
            axis, side = divmod(faces[0], 2)
            table[case, axis] = 1 if side else -1
    return table


def resolve_ambiguity(case_grid: torch.Tensor, cubes: torch.Tensor, res: int) -> torch.Tensor:
    """The surface cubes' cases, where two interior-ambiguous cubes face each other across their
    ambiguous face each replaced by 255 − case."""
    step = torch.as_tensor(ambiguity_table(), device=case_grid.device)
    flat = case_grid.flatten()
    case = flat[cubes]
    d = step[case]
    check = d.abs().sum(1) > 0
    ijk = torch.stack([cubes // (res * res), cubes // res % res, cubes % res], 1) + d
    inside_grid = ((ijk >= 0) & (ijk < res)).all(1)
    check &= inside_grid
    if not bool(check.any()):
        return case
    n = ijk.clamp(0, res - 1)
    neighbour = flat[(n[:, 0] * res + n[:, 1]) * res + n[:, 2]]
    invert = check & (step[neighbour].abs().sum(1) > 0)
    return torch.where(invert, 255 - case, case)


def _cube_offsets(res: int) -> torch.Tensor:
    """Linear-index offset of each corner from the cube's first corner, for a (res+1)³ grid."""
    v = res + 1
    return torch.as_tensor(CORNERS @ np.array([v * v, v, 1]))


def surface_cubes(sdf: torch.Tensor, res: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear ids (i·res² + j·res + k) of the cubes the surface crosses, and the cases whose
    patches they take (their sign cases, with the interior ambiguity resolved)."""
    inside = (sdf.view(res + 1, res + 1, res + 1) < 0).to(torch.int64)
    case = torch.zeros((res, res, res), dtype=torch.int64, device=sdf.device)
    for c, (dx, dy, dz) in enumerate(CORNERS):
        case |= inside[dx:dx + res, dy:dy + res, dz:dz + res] << c
    cubes = torch.nonzero(((case > 0) & (case < 255)).flatten())[:, 0]
    return cubes, resolve_ambiguity(case, cubes, res)


def cube_corner_ids(cubes: torch.Tensor, res: int) -> torch.Tensor:
    i, j, k = cubes // (res * res), cubes // res % res, cubes % res
    base = (i * (res + 1) + j) * (res + 1) + k
    return base[:, None] + _cube_offsets(res).to(cubes.device)[None]


def extract(x: torch.Tensor, sdf: torch.Tensor, res: int, cubes: torch.Tensor, case: torch.Tensor,
            weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mesh from grid vertices x [(res+1)³, 3] (deformed), their SDF (negative inside), and the
    surface cubes' ids, cases and raw weights [M, 21] → vertices [V, 3], faces [F, 3] (int64),
    faces wound so that normals point to positive SDF."""
    dev = x.device
    edge_patch_np, count_np = patch_tables()
    edge_patch, n_patch = torch.as_tensor(edge_patch_np, device=dev), torch.as_tensor(count_np, device=dev)
    beta = torch.tanh(weights[:, :12]) * 0.5 + 1
    alpha = torch.tanh(weights[:, 12:20]) * 0.5 + 1
    gamma = torch.sigmoid(weights[:, 20]) * 0.5 + 0.25

    vertices, first, patch = _dual_vertices(x, sdf, res, cubes, case, edge_patch, n_patch, alpha, beta)
    return vertices, _quads(sdf, res, cubes, first, patch, gamma)


def _dual_vertices(x: torch.Tensor, sdf: torch.Tensor, res: int, cubes: torch.Tensor, case: torch.Tensor,
                   edge_patch: torch.Tensor, n_patch: torch.Tensor, alpha: torch.Tensor,
                   beta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The dual vertices [V, 3], each cube's first dual vertex id [M] and its edges' patches [M, 12]."""
    dev = x.device
    # Dual vertices: per cube and crossed edge, the α-weighted crossing; per patch, the β-mean.
    corner_ids = cube_corner_ids(cubes, res)                        # [M, 8]
    patch = edge_patch[case]                                        # [M, 12]
    first = torch.cumsum(n_patch[case], 0) - n_patch[case]          # first dual vertex of each cube
    m_idx, e_idx = torch.nonzero(patch >= 0, as_tuple=True)
    ca, cb = (torch.as_tensor(EDGES[:, 0], device=dev)[e_idx], torch.as_tensor(EDGES[:, 1], device=dev)[e_idx])
    va, vb = corner_ids[m_idx, ca], corner_ids[m_idx, cb]
    sa, sb = sdf[va] * alpha[m_idx, ca], sdf[vb] * alpha[m_idx, cb]
    crossing = (x[va] * sb[:, None] - x[vb] * sa[:, None]) / (sb - sa)[:, None]
    vd = first[m_idx] + patch[m_idx, e_idx]
    n_vd = int(n_patch[case].sum())
    b = beta[m_idx, e_idx]
    num = torch.zeros((n_vd, 3), dtype=x.dtype, device=dev).index_add_(0, vd, crossing * b[:, None])
    den = torch.zeros(n_vd, dtype=x.dtype, device=dev).index_add_(0, vd, b)
    vertices = num / den[:, None]
    return vertices, first, patch


def _quads(sdf: torch.Tensor, res: int, cubes: torch.Tensor, first: torch.Tensor, patch: torch.Tensor,
           gamma: torch.Tensor) -> torch.Tensor:
    """The faces [F, 3] (int64): each crossed edge's quad split into two triangles by γ."""
    dev = sdf.device
    # Quads: every crossed grid edge with four cubes around it.
    row_of = torch.full((res ** 3,), -1, dtype=torch.int64, device=dev)
    row_of[cubes] = torch.arange(len(cubes), device=dev)
    local_edge = {frozenset(e): i for i, e in enumerate(EDGES.tolist())}
    inside = (sdf < 0).view(res + 1, res + 1, res + 1)
    faces = []
    for axis in range(3):
        u, w = [a for a in range(3) if a != axis]
        if axis == 1:
            u, w = w, u  # (z, x) so that (u, w, axis) is right-handed
        lo, hi = [slice(None)] * 3, [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, res), slice(1, res + 1)
        cut = inside[tuple(lo)] != inside[tuple(hi)]               # edges from (i, j, k) along axis
        inner = [slice(None)] * 3
        inner[u] = inner[w] = slice(1, res)                         # four cubes around the edge
        interior = torch.zeros_like(cut)
        interior[tuple(inner)] = True
        start = torch.nonzero(cut & interior)                        # [E, 3]
        if not len(start):
            continue
        quad = []
        # Counter-clockwise around +axis in the (u, w) plane: (-,-), (+,-), (+,+), (-,+).
        for du, dw in ((-1, -1), (0, -1), (0, 0), (-1, 0)):
            cube = start.clone()
            cube[:, u] += du
            cube[:, w] += dw
            lin = (cube[:, 0] * res + cube[:, 1]) * res + cube[:, 2]
            row = row_of[lin]
            corner_lo = np.zeros(3, int)
            corner_lo[u], corner_lo[w] = -du, -dw
            corner_hi = corner_lo.copy()
            corner_hi[axis] = 1
            e = local_edge[frozenset((int(corner_lo @ [1, 2, 4]), int(corner_hi @ [1, 2, 4])))]
            quad.append(first[row] + patch[row, e])
            quad.append(gamma[row])
        q = torch.stack(quad[0::2], 1)                               # [E, 4] dual vertex ids
        g = torch.stack(quad[1::2], 1)
        first_inside = inside[start[:, 0], start[:, 1], start[:, 2]]
        q = torch.where(first_inside[:, None], q, q.flip(1))         # normal towards positive SDF
        g = torch.where(first_inside[:, None], g, g.flip(1))
        split = (g[:, 0] * g[:, 2] > g[:, 1] * g[:, 3])[:, None]
        t1 = torch.where(split, q[:, [0, 1, 2]], q[:, [0, 1, 3]])
        t2 = torch.where(split, q[:, [0, 2, 3]], q[:, [3, 1, 2]])
        faces.append(torch.cat([t1, t2]))
    return torch.cat(faces) if faces else torch.zeros((0, 3), dtype=torch.int64, device=dev)
