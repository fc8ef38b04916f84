"""A glTF's cost read from its JSON before trimesh parses it: the container split by hand, triangles
and vertices per mesh from the accessors, and the flattened scene's totals through the node graph."""

from __future__ import annotations

import json
import struct

from core.errors import InputError
from core.mesh.precheck.limits import MAX_DEPTH

_TRIANGLES, _STRIP, _FAN = 4, 5, 6


def read_gltf(data: bytes, fmt: str) -> tuple[dict, memoryview | bytes]:
    """The JSON document, and for a GLB the chunks after it (the BIN chunk), kept byte for byte.
    Read by hand: the container is two length-prefixed chunks, and the JSON as a plain dict keeps
    every key and extension as written when the document is written back."""
    if fmt == "gltf":
        doc, rest = json.loads(data), b""
    else:
        (length,) = struct.unpack("<I", data[12:16])
        doc, rest = json.loads(data[20:20 + length]), memoryview(data)[20 + length:]  # a view: no copy
    if not isinstance(doc, dict):
        raise TypeError("the JSON is not an object")
    return doc, rest


def item(seq: object, index: object) -> dict:
    """seq[index], refusing what Python would accept and a glTF must not hold (negative, bool, str)."""
    if not isinstance(seq, list) or type(index) is not int or not 0 <= index < len(seq):
        raise IndexError(f"reference {index!r} out of range")
    if not isinstance(seq[index], dict):
        raise TypeError("an entry is not an object")
    return seq[index]


def _count(accessors: list, index: object) -> int:
    count = item(accessors, index).get("count")
    if type(count) is not int or count < 0:
        raise ValueError(f"accessor count {count!r}")
    return count


def mesh_counts(doc: dict) -> list[tuple[int, int]]:
    """(triangles, vertices) of each mesh, its primitives summed: indices or positions / 3 for
    triangles, n - 2 for strips and fans, none for points and lines."""
    accessors = doc.get("accessors", [])
    out = []
    for mesh in doc.get("meshes", []):
        faces = vertices = 0
        for prim in mesh.get("primitives", []):
            attributes = prim.get("attributes", {})
            n_pos = _count(accessors, attributes["POSITION"]) if "POSITION" in attributes else 0
            n = _count(accessors, prim["indices"]) if "indices" in prim else n_pos
            mode = prim.get("mode", _TRIANGLES)
            faces += n // 3 if mode == _TRIANGLES else max(n - 2, 0) if mode in (_STRIP, _FAN) else 0
            vertices += n_pos
        out.append((faces, vertices))
    return out


def gltf_counts(doc: dict, per_mesh: list[tuple[int, int]] | None = None) -> tuple[int, int]:
    """(triangles, vertices) of the flattened scene: each mesh once per node path from the scene's
    roots that reaches it; of several scenes, the largest. A cycle in the node graph, or nesting
    past MAX_DEPTH, is refused."""
    per_mesh = mesh_counts(doc) if per_mesh is None else per_mesh
    nodes = doc.get("nodes", [])
    if not isinstance(nodes, list):
        raise TypeError("nodes is not a list")
    subtree: dict[int, tuple[int, int, int]] = {}  # node: (triangles, vertices, height)
    most = [0, 0]
    for scene in doc.get("scenes", []):
        totals = [_subtree(nodes, root, per_mesh, subtree)[:2] for root in scene.get("nodes", [])]
        most = [max(most[0], sum(f for f, _ in totals)), max(most[1], sum(v for _, v in totals))]
    return most[0], most[1]


def _subtree(nodes: list, root: object, per_mesh: list[tuple[int, int]],
             done: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    """(triangles, vertices, height) below `root`, its own mesh included; iterative, so that a deep
    chain is refused rather than overflowing the stack. Shared subtrees are counted once per parent."""
    item(nodes, root)
    stack: list[tuple[int, int]] = [(root, 0)]  # (node, next child to visit)
    on_path = {root}
    while stack:
        node, k = stack[-1]
        children = nodes[node].get("children", [])
        if not isinstance(children, list):
            raise TypeError("children is not a list")
        if k < len(children):
            stack[-1] = (node, k + 1)
            child = children[k]
            item(nodes, child)
            if child in on_path:
                raise InputError(f"The node graph of the file has a cycle (node {child} is its own ancestor).")
            if child not in done:
                if len(stack) >= MAX_DEPTH:
                    raise InputError(f"The node graph of the file is nested more than {MAX_DEPTH} deep.")
                on_path.add(child)
                stack.append((child, 0))
            continue
        stack.pop()
        on_path.discard(node)
        mesh = nodes[node].get("mesh")
        if mesh is not None and (type(mesh) is not int or not 0 <= mesh < len(per_mesh)):
            raise IndexError(f"mesh {mesh!r} out of range")
        faces, vertices = (0, 0) if mesh is None else per_mesh[mesh]
        height = 1
        for child in children:
            c_faces, c_vertices, c_height = done[child]
            faces, vertices, height = faces + c_faces, vertices + c_vertices, max(height, c_height + 1)
        if height > MAX_DEPTH:
            raise InputError(f"The node graph of the file is nested more than {MAX_DEPTH} deep.")
        done[node] = (faces, vertices, height)
    return done[root]
