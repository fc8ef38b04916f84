"""3D garment import: formats, units, up axis, anchor; hostile files refused with a clear message."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import trimesh
from hypothesis import event, given, settings
from hypothesis import strategies as st

from core.ai.category import guess_category
from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.errors import InputError, PayloadTooLarge, UnsupportedMedia
from core.mesh.importer import MAX_FACES, front_mask, load_mesh, orient, scale_and_anchor, sniff_mesh_format
from core.samples import draw_garment
from tests.damage import damaged

LIMIT = 50 * 2**20


def garment(category: str = "top") -> trimesh.Trimesh:
    photo, mask = draw_garment(category)
    return reconstruct(Cutout(np.asarray(photo), mask, "t"), category, "low").mesh


def exported(mesh: trimesh.Trimesh, fmt: str) -> bytes:
    out = mesh.export(file_type=fmt)
    return out.encode() if isinstance(out, str) else out


def imported(data: bytes, name: str, units: str = "auto", up: str = "auto", height: float = 0.7):
    mesh, fmt = load_mesh(data, name, LIMIT)
    item = orient(mesh, fmt in ("glb", "gltf"), up)
    return scale_and_anchor(item, units, height), fmt


@pytest.mark.parametrize("fmt,scale,units", [("glb", 1.0, "m"), ("obj", 100.0, "cm"), ("ply", 1000.0, "mm")])
def test_units_guessed_and_anchor_set(fmt, scale, units) -> None:
    source = garment()
    scaled = source.copy()
    scaled.apply_scale(scale)
    item, sniffed = imported(exported(scaled, fmt), f"g.{fmt}")
    assert sniffed == fmt
    assert f"units guessed as {units}" in item.notes
    assert np.allclose(item.mesh.extents, source.extents, rtol=1e-3)
    assert item.mesh.bounds[1, 1] == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(item.mesh.bounds[:, [0, 2]].mean(axis=0), 0.0, atol=1e-6)


def test_z_up_file_is_turned_upright() -> None:
    source = garment()
    z_up = source.copy()
    z_up.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))  # Y up → Z up
    item, _ = imported(exported(z_up, "ply"), "g.ply")
    assert "up axis guessed as +z" in item.notes
    assert np.allclose(item.mesh.extents, source.extents, rtol=1e-3)
    front = item.mesh.vertices[np.argmax(item.mesh.vertices[:, 2])]
    assert front[1] < -0.1  # the chest print side faces +Z, below the anchor


def test_units_and_up_overridable() -> None:
    item, _ = imported(exported(garment(), "obj"), "g.obj", units="m", up="+y")
    assert item.notes == []
    with pytest.raises(InputError, match="Unknown units"):
        imported(exported(garment(), "obj"), "g.obj", units="furlong")
    with pytest.raises(InputError, match="Unknown up axis"):
        imported(exported(garment(), "obj"), "g.obj", up="sideways")


def test_unknown_units_scaled_to_category_height() -> None:
    odd = garment()
    odd.apply_scale(13.0)  # 9 m tall: no unit makes it a garment
    item, _ = imported(exported(odd, "glb"), "g.glb", height=1.05)
    assert item.mesh.extents[1] == pytest.approx(1.05)
    assert any("units unknown" in n for n in item.notes)


@pytest.mark.parametrize("category", ["top", "bottom", "dress"])
def test_category_from_front_silhouette(category) -> None:
    assert guess_category(front_mask(garment(category))) == category


def ply_header_only(faces: int) -> bytes:
    return (f"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
            f"property float z\nelement face {faces}\nproperty list uchar int vertex_indices\nend_header\n"
            ).encode() + b"\0" * 64


def glb_with(doc: dict, binary: bytes = b"") -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    body = struct.pack("<I4s", len(js), b"JSON") + js
    if binary:
        body += struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


HOSTILE = {
    "empty": (b"", InputError, "empty"),
    "text": (b"hello, this is not a mesh\n" * 10, UnsupportedMedia, "not a GLB"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, UnsupportedMedia, "not a GLB"),
    "malformed glb": (b"glTF" + b"\xff" * 40, InputError, "malformed"),
    "huge ply": (ply_header_only(10**7), InputError, "10,000,000 faces"),
    "huge glb": (glb_with({"asset": {"version": "2.0"}, "accessors": [{"count": 3 * 10**7}],
                           "meshes": [{"primitives": [{"indices": 0, "attributes": {}}]}]}), InputError, "faces"),
    "nan obj": (b"v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", InputError, "not numbers"),
    "no faces obj": (b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", InputError, "no triangle mesh"),
    "point cloud ply": (trimesh.PointCloud(np.random.rand(50, 3)).export(file_type="ply"), InputError,
                        "no triangle mesh"),
    "flat point": (b"v 0 0 0\nv 0 0 0\nv 0 0 0\nf 1 2 3\n", InputError, "no size"),
    "external gltf": (json.dumps({"asset": {"version": "2.0"}, "buffers": [{"uri": "mesh.bin", "byteLength": 36}],
                                  "meshes": []}).encode(), InputError, "one GLB"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_refused(name) -> None:
    data, error, text = HOSTILE[name]
    with pytest.raises(error, match=text):
        load_mesh(data, f"{name}.bin", LIMIT)


def test_size_limit() -> None:
    with pytest.raises(PayloadTooLarge, match="limit is 1 MB"):
        load_mesh(b"v 0 0 0\n" * 200_000, "big.obj", 2**20)


def test_sniffing_ignores_the_name() -> None:
    assert sniff_mesh_format(exported(garment(), "glb"), "photo.jpg") == "glb"
    assert sniff_mesh_format(b"# comment\nv 0 0 0\nv 1 0 0\nf 1 2 3\n", "x.png") == "obj"
    assert MAX_FACES >= 40_000


def test_scene_of_several_meshes_is_merged() -> None:
    a, b = trimesh.creation.box(extents=[0.4, 0.3, 0.1]), trimesh.creation.box(extents=[0.2, 0.3, 0.1])
    scene = trimesh.Scene()
    scene.add_geometry(a, node_name="a")
    scene.add_geometry(b, node_name="b", transform=trimesh.transformations.translation_matrix([0, -0.4, 0]))
    mesh, _ = load_mesh(scene.export(file_type="glb"), "s.glb", LIMIT)
    assert len(mesh.faces) == 24 and mesh.extents[1] == pytest.approx(0.7)


def glb_bad_indices() -> bytes:
    """A GLB whose index accessor reads float bytes: faces that point far past the 3 vertices."""
    pos = np.eye(3, dtype=np.float32).tobytes()
    view = {"buffer": 0, "byteLength": len(pos)}
    return glb_with({"asset": {"version": "2.0"}, "buffers": [{"byteLength": len(pos)}], "bufferViews": [view],
                     "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                                    "min": [0, 0, 0], "max": [1, 1, 1]},
                                   {"bufferView": 0, "componentType": 5125, "count": 9, "type": "SCALAR"}],
                     "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
                     "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0}, pos)


def test_faces_past_the_vertices_refused() -> None:
    with pytest.raises(InputError, match="faces point at vertices it does not have"):
        load_mesh(glb_bad_indices(), "g.glb", LIMIT)


@st.composite
def damaged_meshes(draw) -> tuple[bytes, str]:
    """A small real mesh as GLB, OBJ or PLY, then cut short, bytes flipped or junk spliced in."""
    fmt = draw(st.sampled_from(["glb", "obj", "ply"]))
    mesh = trimesh.creation.icosphere(subdivisions=draw(st.integers(0, 2)))
    mesh.apply_scale(draw(st.sampled_from([0.5, 50.0, 500.0, 1e-6, 1e9])))
    return damaged(draw, exported(mesh, fmt), max_junk=32), fmt


@settings(max_examples=200, deadline=None)
@given(damaged_meshes(), st.sampled_from(["auto", "cm"]), st.sampled_from(["auto", "+z"]))
def test_fuzz_damaged_meshes(case, units, up) -> None:
    """A damaged 3D file is refused with InputError, or becomes a finite, well-indexed garment mesh:
    never another exception (which would be a 500 on the synchronous import route)."""
    data, fmt = case
    try:
        mesh, _ = load_mesh(data, f"g.{fmt}", LIMIT)
        item = scale_and_anchor(orient(mesh, fmt == "glb", up), units, 0.7)
    except InputError as exc:
        assert str(exc)
        event(f"refused ({fmt})")
        return
    event(f"accepted ({fmt})")
    assert np.isfinite(item.mesh.vertices).all()
    assert item.mesh.faces.min() >= 0 and item.mesh.faces.max() < len(item.mesh.vertices)
