"""Clearance: no garment vertex inside the body or nearer than the offset; smoothing that keeps it so."""

from __future__ import annotations

import numpy as np
import trimesh

from core.fitting.body import BodyModel
from core.fitting.cloth import Cloth
from core.fitting.surface import SurfaceSamples

# The sampled-surface distance can read up to about a millimetre long in concave places (armpits,
# crotch); aiming half a millimetre further out keeps the true clearance at the asked offset.
QUERY_MARGIN = 0.0005


def push_out(vertices: np.ndarray, body: BodyModel, offset: float, rounds: int = 24,
             exact: bool = True, only: np.ndarray | None = None) -> np.ndarray:
    """Move every vertex inside the body, or nearer than `offset`, to `offset` outside along the
    nearest surface normal.

    Repeated, because a moved vertex can land near another body part. In a crease (between the
    buttocks, under an arm) the nearest surface alternates between the two sides; there the
    vertex moves along the sum of the last two normals, which leaves the crease instead of
    zig-zagging across it. `exact=False` skips the final exact check, for intermediate passes;
    `only` limits the work to the vertices that moved since the garment was last cleared.
    """
    offset += QUERY_MARGIN
    v = vertices.copy()
    previous = np.zeros_like(v)
    active = np.arange(len(v)) if only is None else only  # only moved vertices can become too near again
    for _ in range(rounds):
        signed, closest, normals = body.surface_query(v[active])
        bad_local = np.flatnonzero(signed < offset - 1e-6)
        if len(bad_local) == 0:
            break
        bad = active[bad_local]
        s, c, n = signed[bad_local], closest[bad_local], normals[bad_local]
        direction = n + previous[bad]
        direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-12)
        along = np.maximum((direction * n).sum(axis=1), 0.3)
        step = (offset - s) / along
        # Inside points go to the surface first (the nearest surface point plus the offset).
        v[bad] = np.where((s < 0)[:, None], c + n * offset, v[bad] + direction * step[:, None])
        previous[:] = 0.0
        previous[bad] = n
        active = bad
    return _guarantee_outside(v, body, offset) if exact else v


def _guarantee_outside(v: np.ndarray, body: BodyModel, offset: float, rounds: int = 8) -> np.ndarray:
    """The fast queries can be fooled in deep creases (between the legs, under the arms): check
    with exact ray parity, and move what is still inside with exact closest points; a point
    caught in a crease leaves it along the sum of the normals it met, further each round."""
    met = np.zeros_like(v)
    for k in range(rounds):
        inside = np.flatnonzero(body.contains(v))
        if len(inside) == 0:
            break
        closest, _, tri = trimesh.proximity.closest_point(body.mesh, v[inside])
        met[inside] += body.mesh.face_normals[tri]
        direction = met[inside] / np.maximum(np.linalg.norm(met[inside], axis=1, keepdims=True), 1e-12)
        v[inside] = closest + direction * offset * (1 + k)
    return v


def hug(vertices: np.ndarray, body: BodyModel, offset: float, weights: np.ndarray) -> np.ndarray:
    """Bring the garment onto the body where it rests (weights 1), to `offset` above the skin."""
    v = vertices.copy()
    band = np.flatnonzero(weights > 0)
    signed, closest, normals = body.surface_query(v[band], near=0.25)
    ok = np.isfinite(signed) & (signed > offset)
    idx = band[ok]
    v[idx] += weights[idx, None] * (closest[ok] + normals[ok] * offset - v[idx])
    return v


def push_out_of_layer(vertices: np.ndarray, inner: SurfaceSamples, gap: float, rounds: int = 6) -> np.ndarray:
    """Keep an outer garment `gap` outside the garment under it (an open shell, so 'outside' is
    the side its normals face), wherever the two come within a few centimetres. A vertex pushed
    off one face of a crease (the shoulder, where the sleeve turns) may land behind the next:
    it takes a few rounds, and the loop ends as soon as none is left behind."""
    v = vertices.copy()
    for _ in range(rounds):
        signed, closest, normals = inner.query(v, near=0.03)
        bad = np.isfinite(signed) & (signed < gap)
        if not bad.any():
            break
        v[bad] = closest[bad] + normals[bad] * gap
    return v


def settle(placed: trimesh.Trimesh, cleared: np.ndarray, clear, cloth: Cloth, iterations: int = 40) -> trimesh.Trimesh:
    """Spread the clearance moves over the cloth (`spread`), then `clear` again whatever the
    spreading moved too near."""
    out = placed.copy()
    out.vertices = clear(spread(placed.vertices, cleared, cloth, iterations))
    return out


def spread(before: np.ndarray, after: np.ndarray, cloth: Cloth, iterations: int) -> np.ndarray:
    """The displacement field (after - before) diffused along the mesh, so neighbours of a pushed
    vertex follow it instead of stretching the edges between them; a vertex never ends with less
    than the move it needed itself.

    The diffusion runs on the mesh welded by position: imported garments are often split along
    their UV seams, and the pieces must still move as one cloth."""
    group, counts = cloth.group, cloth.counts
    moved = np.zeros((len(counts), 3))
    np.add.at(moved, group, after - before)
    moved /= counts[:, None]
    # Only vertices that moved can fall short of their move, so only they are checked (squared
    # lengths: compared, never rooted).
    pinned = np.flatnonzero(moved.any(axis=1))
    need, held = np.einsum("ij,ij->i", moved[pinned], moved[pinned]), moved[pinned]
    field = moved.copy()
    for _ in range(iterations):
        field = cloth.laplacian @ field
        now = field[pinned]
        keep = need > np.einsum("ij,ij->i", now, now)
        field[pinned[keep]] = held[keep]
    return before + field[group]


SURFACE_SPACING = 0.006  # metres between the surface samples the cloth is cleared over
SURFACE_ROUNDS = 6
SURFACE_SAMPLES = (20_000, 40_000)  # the fewest and most samples a round takes
SURFACE_STEP = 0.006  # the most a corner moves in one round
SURFACE_SPREAD = 6  # diffusion steps spreading a round's moves
SURFACE_NEAR = 0.03  # samples this near the skin are measured; farther ones only tested for inside
SHALLOW = 0.0005  # cloth this little inside between clear corners is a face's chord over a curve: left
RETRIES = 2  # times the last look may send what it finds back to be lifted
THIN_DEPTH = 0.001  # a face still this deep in after the rounds, its corners clear, spans a part thinner than itself


def clear_surface(vertices: np.ndarray, faces: np.ndarray, body: BodyModel, offset: float, clear, cloth: Cloth,
                  rounds: int = SURFACE_ROUNDS) -> tuple[np.ndarray, np.ndarray]:
    """Long because its rounds share one state (the faces still live, the look, the retries left).
    Clear the cloth between the vertices, not only at them: a face bridging two clear vertices
    can cut through an arm or into the armpit's concavity. Each round samples the faces (area-
    weighted, SURFACE_SPACING apart, fresh samples each round: the whole cloth, then the faces the
    round before moved), finds the samples nearer the skin
    than half the offset, and moves each such face's corners out along the skin's normal by the
    least that brings the sample out (the move split by the sample's barycentric weights); a corner
    takes the largest move asked of it; the moves are spread over the cloth round them (as in
    settle: a lone corner moved would stand out as a spike), and what moved is cleared again
    (`clear`: a corner lifted off one finger may land in the next). A face still reaching THIN_DEPTH
    in after the rounds with its corners clear spans a part thinner than itself (a cuff's long face
    across the fingers), which no move of its corners lifts it off: it is cut. Returns the vertices
    and which faces to keep."""
    v = vertices.copy()
    keep = np.ones(len(faces), bool)
    if not len(faces):
        return v, keep
    rng = np.random.default_rng(1)
    near = SURFACE_NEAR
    live, k = np.arange(len(faces)), 0  # the whole cloth first; then only the faces the last round moved
    retries = RETRIES
    while True:
        last = k >= rounds
        if last and retries == RETRIES:  # the last look is at the whole cloth again; after a retry,
            live = np.flatnonzero(keep)  # at what the retry moved (the rest it saw clear)
        if not len(live):  # the last round moved nothing: what it saw is as it was
            if last:
                return v, keep
            k = rounds
            continue
        whole = len(live) == int(keep.sum())
        area = float(trimesh.triangles.area(v[faces[live]]).sum())
        count = int(np.clip(area / SURFACE_SPACING**2, SURFACE_SAMPLES[0] if whole else 2_000, SURFACE_SAMPLES[1]))
        count *= 2 if last else 1  # the last look is the closest: what it misses stays
        pick, bary, points = _sample_faces(v[faces[live]], count, rng)
        if whole or last:  # a sliver (a long thin face across a crease) may take no random sample at all
            pick, bary, points = _with_long_faces(v[faces[live]], pick, bary, points)
        sampled = len(points)  # the samples after these are the dips'
        if last or k == 0:  # and a long face's dip over a rounded part may lie between all its samples
            clear_v, _, _ = body.surface_query(v, near=near)  # each corner's clearance (the thin test's too)
            pick, bary, points = _with_dipping_faces(v[faces[live]], clear_v[faces[live]].min(axis=1),
                                                     pick, bary, points)
        signed, _, normals = body.surface_query(points, near=near)
        if last:  # inside a part thinner than the samples' reach (a finger) the nearest sample can
            # be on its far side and read "outside", and in a crease the fast reading of a sample
            # just under the skin can read just outside: the exact test settles the points near it
            unsure = np.flatnonzero((signed < 0.01) & (signed >= -SHALLOW))
            unsure = unsure[body.contains(points[unsure])]
            if len(unsure):  # inside: how deep, exactly (a few points), decides between lifting and cutting
                _, depth, _ = trimesh.proximity.closest_point(body.mesh, points[unsure])
                signed[unsure] = np.where(signed[unsure] >= offset / 2, -np.maximum(depth, 2 * THIN_DEPTH),
                                          -np.maximum(depth, 2 * SHALLOW))
        bad = np.flatnonzero(signed < -SHALLOW)
        if last:  # in creases the fast reading can be wrong: the last look settles it exactly
            bad = bad[body.contains(points[bad])]
        if not len(bad):
            if last or k == 0:
                return v, keep
            k = rounds  # clear where it moved: the last look
            continue
        face = live[pick[bad]]
        if last:  # what the moves could not lift: faces across a part thinner than themselves
            thin = (clear_v[faces[face]] > offset / 2).all(axis=1) & (signed[bad] < -THIN_DEPTH)
            thin &= (bad < sampled) | (retries == 0)  # a chord's dip over a round lifts with its corners: tried first
            keep[face[thin]] = False
            alive = keep[face]  # a face's other samples go with it
            bad, face = bad[alive], face[alive]
            retries -= 1
            if not len(bad) or retries < 0:
                return v, keep
            k = rounds - 1  # the rest is lifted once more, and looked at again
        # the sample's move, a step at a time: a deep sample's nearest skin may be the wrong side
        # of a crease, and one long move along its normal would throw the corner out as a spike
        need = np.minimum(offset - signed[bad], SURFACE_STEP)[:, None] * normals[bad]
        b = bary[bad]
        moves = ((b / np.einsum("ij,ij->i", b, b)[:, None])[:, :, None] * need[:, None, :]).reshape(-1, 3)
        corner = faces[face].ravel()
        order = np.lexsort((np.einsum("ij,ij->i", moves, moves), corner))  # per corner, its largest move last
        largest = np.r_[corner[order][1:] != corner[order][:-1], True]
        lifted = v.copy()
        lifted[corner[order][largest]] += moves[order][largest]
        after = spread(v, lifted, cloth, SURFACE_SPREAD)
        moved = (after != v).any(axis=1)
        v = clear(after, exact=False, only=np.flatnonzero(moved))
        live, k = np.flatnonzero(keep & moved[faces].any(axis=1)), k + 1


_MIDDLES = np.array([[2, 2, 2], [3, 3, 0], [0, 3, 3], [3, 0, 3]]) / 6.0  # a face's centre, its edges' middles


def _with_long_faces(triangles: np.ndarray, pick: np.ndarray, bary: np.ndarray, points: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples, and the centre and edge middles of each sliver (a face longer than two sample
    spacings and narrower than half of one, which area-weighted samples all but miss) and of each
    long face (over four spacings: random samples may all miss its middle, where one spanning a
    curve, the neck's round, dips deepest)."""
    longest = np.linalg.norm(triangles - np.roll(triangles, 1, axis=1), axis=2).max(axis=1)
    narrow = 2 * trimesh.triangles.area(triangles) / np.maximum(longest, 1e-12)  # its height across
    long_faces = np.flatnonzero(((longest > 2 * SURFACE_SPACING) & (narrow < SURFACE_SPACING / 2))
                                | (longest > 4 * SURFACE_SPACING))
    more = np.tile(_MIDDLES, (len(long_faces), 1))
    faces = np.repeat(long_faces, len(_MIDDLES))
    return (np.r_[pick, faces], np.r_[bary, more],
            np.r_[points, np.einsum("ij,ijk->ik", more, triangles[faces])])


CONVEX_R = 0.04  # metres: the tightest the body rounds (the neck, a forearm), for a chord's dip
DIP_SPACING = 0.006  # metres between the grid samples of a face that may dip into the body (a 1 mm dip over
# a 4 cm round is 18 mm long)
DIP_GRID = 24  # the most steps such a grid takes along the face's longest edge


def _with_dipping_faces(triangles: np.ndarray, corner_clear: np.ndarray, pick: np.ndarray, bary: np.ndarray,
                        points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples, and a grid of them DIP_SPACING apart on each long face that could dip into
    the body between clear corners: a chord of length L over skin rounded to radius R sinks
    L^2 / 8R below its ends, so a face whose nearest corner is closer than that may reach inside
    (a shoulder's seam face across the neck's round, 14 cm long, went 3 mm in between 38 random
    samples, all clear). Faces farther off cannot, and take none."""
    longest = np.linalg.norm(triangles - np.roll(triangles, 1, axis=1), axis=2).max(axis=1)
    dipping = np.flatnonzero((longest > 4 * SURFACE_SPACING) & (corner_clear < longest**2 / (8 * CONVEX_R)))
    if not len(dipping):
        return pick, bary, points
    steps = np.minimum(np.ceil(longest[dipping] / DIP_SPACING), DIP_GRID).astype(int)
    faces, weights = [], []
    for n in np.unique(steps):  # one barycentric grid per step count
        i, j = np.triu_indices(n + 1)
        grid = np.column_stack([n - j, j - i, i]) / n  # every (a, b, c) >= 0 summing to 1, in steps of 1/n
        chosen = dipping[steps == n]
        faces.append(np.repeat(chosen, len(grid)))
        weights.append(np.tile(grid, (len(chosen), 1)))
    faces, weights = np.concatenate(faces), np.concatenate(weights)
    return (np.r_[pick, faces], np.r_[bary, weights],
            np.r_[points, np.einsum("ij,ijk->ik", weights, triangles[faces])])


def _sample_faces(triangles: np.ndarray, count: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area-weighted uniform samples on the triangles: each sample's triangle, barycentric weights
    and point (trimesh's sampler does not return the weights, which spread a sample's move)."""
    area = trimesh.triangles.area(triangles)
    # sorted: neighbouring faces' samples query the body's tree one after another (cache-friendly)
    pick = np.sort(rng.choice(len(triangles), size=count, p=area / area.sum()))
    r = rng.random((count, 2))
    flip = r.sum(axis=1) > 1
    r[flip] = 1 - r[flip]
    bary = np.column_stack([1 - r.sum(axis=1), r])
    return pick, bary, np.einsum("ij,ijk->ik", bary, triangles[pick])
