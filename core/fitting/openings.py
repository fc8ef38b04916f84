"""Openings in a closed garment: where the body leaves it (the neck, the hands, the legs below a
hem, the torso above a waistband) a watertight garment (InstantMesh makes them, and many imported
meshes are) has a cap across the limb; fitted as it is, a head, a hand or a foot would end up in a
bag. Each limb's bone chain is followed out of the body; where it crosses the garment, the cap it
crosses (the faces round the crossing that face along the bone, connected to the face it hits) is
cut away."""

from __future__ import annotations

import itertools

import numpy as np
import trimesh
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from core.fitting.body import BodyModel
from core.fitting.limbs import limb_radius
from core.mesh.cleanup import opening_count

CAP_FACING = 0.5  # a cap's faces face along the bone: |normal . bone| above this
CAP_SLAB_M = 0.04  # and lie within this of the crossing, along the bone
RAY_APART_M = 0.003  # the rays that follow one bone
HAND_M = 0.2  # the arm's chain goes on past the wrist this far (the hand), the leg's to the soles
# A neck's cap lies in the plane of the shoulders, which face up as it does: it is cut only this far
# out beyond the neck's own radius (limbs.limb_radius), so that the shoulders stay on.
NECK_ROOM_M = 0.03
# A wrapped cuff's or leg end's cap reaches this far out beyond the limb's own radius, not further:
# a filled mesh's sleeve can also have a cap inside its armhole, flush with the torso's side round
# it (which faces along the arm's bone as much), and the side was cut away with it. A cap wider
# than this (a bell sleeve's) keeps a ring round the hole it is cut.
LIMB_ROOM_M = 0.05

# Where the body leaves a garment: chains of landmarks, from inside the body outwards.
EXITS = (("pelvis", "chest", "neck", "head"),
         ("shoulder_l", "elbow_l", "wrist_l"), ("shoulder_r", "elbow_r", "wrist_r"),
         ("hip_l", "knee_l", "ankle_l"), ("hip_r", "knee_r", "ankle_r"))
# The exits whose caps a garment hung straight, before its sleeves and legs are wrapped round the
# limbs, already lies across: its neck, its hem or waist (crossed by the legs going down). Wrapped,
# a hem's cap is drawn up into the torso, where the legs no longer cross it. Once wrapped, the
# cuffs' and leg ends' caps are looked for: the limbs' exits. (The neck's is not looked for again:
# the cloth wrapped round the neck's base would be taken for one, and the shoulders cut with it.)
TRUNK_EXITS = (EXITS[0], *EXITS[3:])
LIMB_EXITS = EXITS[1:]


def _segments(body: BodyModel, exits: tuple[tuple[str, ...], ...] = EXITS
              ) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """The bones (start, end) the body leaves a garment along, each chain carried on past its last
    joint: the head to its crown, the hands to their finger tips, the feet to the soles; and each
    with whether it is the neck's (its chain goes out through the head)."""
    top = float(body.mesh.bounds[1, 1])
    out = []
    for chain in exits:
        if not all(name in body.landmarks for name in chain):
            continue
        points = [body.point(name) for name in chain]
        last = points[-1] - points[-2]
        if chain[-1] == "head":
            points.append(np.array([points[-1][0], top + 0.02, points[-1][2]]))
        elif chain[-1].startswith("wrist"):
            points.append(points[-1] + HAND_M * last / max(np.linalg.norm(last), 1e-9))
        else:  # down to below the soles
            points.append(np.array([points[-1][0], body.mesh.bounds[0, 1] - 0.02, points[-1][2]]))
        out += [(a, b, chain[-1] == "head") for a, b in itertools.pairwise(points)]
    return out


def is_closed(mesh: trimesh.Trimesh) -> bool:
    """No opening a hand could pass through (cleanup.opening_count), once welded by position:
    imported meshes are split along their UV seams, and a filled mesh can keep a few pinholes or
    non-manifold edges round its caps. Asked of the garment before it is placed: placing can bring
    apart vertices together."""
    return mesh.is_watertight or opening_count(mesh) == 0


def cut_openings(garment: trimesh.Trimesh, body: BodyModel) -> tuple[trimesh.Trimesh, int]:
    """The placed garment (closed: see is_closed) with the caps across the body's exits cut away,
    and how many were cut."""
    caps, count = cap_faces(garment, body)
    if not count:
        return garment, 0
    out = garment.copy()
    out.update_faces(~caps)
    out.remove_unreferenced_vertices()
    return out, count


def cap_faces(garment: trimesh.Trimesh, body: BodyModel, exits: tuple[tuple[str, ...], ...] = EXITS,
              found: np.ndarray | None = None, room: float | None = None) -> tuple[np.ndarray, int]:
    """Which faces of the garment are caps across the body's `exits` (a face mask, with `found`'s
    caps already in it), and how many caps were found besides those. A cap reaches `room` beyond
    the limb's own radius from its bone (None: as far as it is connected, as a hem's round the
    legs; the neck's always NECK_ROOM_M)."""
    cut = np.zeros(len(garment.faces), bool) if found is None else found.copy()
    segments = _segments(body, exits)
    if not segments or not len(garment.faces):
        return cut, 0
    starts = np.array([s for s, _, _ in segments])
    ends = np.array([e for _, e, _ in segments])
    neck = np.tile([n for _, _, n in segments], 3)
    axes = ends - starts
    lengths = np.linalg.norm(axes, axis=1)
    dirs = axes / np.maximum(lengths, 1e-9)[:, None]
    # Each bone as three rays a few millimetres apart: a ray through a vertex or along an edge
    # (the centre of a cap filled as a fan, on a symmetric garment's centre line) can miss.
    sideways = np.cross(dirs, np.where(np.abs(dirs[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
    sideways /= np.linalg.norm(sideways, axis=1, keepdims=True)
    other = np.cross(dirs, sideways)
    starts = np.concatenate([starts, starts + RAY_APART_M * sideways, starts + RAY_APART_M * other])
    dirs, lengths = np.tile(dirs, (3, 1)), np.tile(lengths, 3)
    locations, ray, tri = garment.ray.intersects_location(starts, dirs, multiple_hits=True)
    along = np.einsum("ij,ij->i", locations - starts[ray], dirs[ray])
    hit = along <= lengths[ray]
    if not hit.any():
        return cut, 0
    normals, centres = garment.face_normals, garment.triangles_center
    adjacency = garment.face_adjacency
    count = 0
    for point, k, face in zip(locations[hit], ray[hit], tri[hit], strict=True):  # a few crossings at most
        d = dirs[k]
        offsets = centres - point
        along = offsets @ d
        cap = (np.abs(along) < CAP_SLAB_M) & (np.abs(normals @ d) > CAP_FACING)
        if neck[k] or room is not None:
            reach = float(limb_radius(body, point[None])[0]) + (NECK_ROOM_M if neck[k] else room)
            cap &= np.linalg.norm(offsets - along[:, None] * d, axis=1) < reach
        if not cap[face]:
            continue
        both = cap[adjacency].all(axis=1)
        pairs = adjacency[both]
        graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(cap), len(cap)))
        _, labels = connected_components(graph, directed=False)
        piece = cap & (labels == labels[face])
        if not (piece & ~cut).any():
            continue
        cut |= piece
        count += 1
    return cut, count
