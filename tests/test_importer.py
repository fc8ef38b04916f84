"""3D garment import: formats, units, up axis, anchor; hostile files refused with a clear message."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import numpy as np
import pytest
import trimesh
from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.ai.segment import Cutout
from core.ai.silhouette import reconstruct
from core.errors import InputError, PayloadTooLarge, UnsupportedMedia
from core.garment.parse import parse_mask
from core.mesh.importer import MAX_FACES, front_mask, load_mesh, orient, scale_and_anchor, sniff_mesh_format
from core.mesh.precheck import TEXTURE_SIDE, gltf_counts, limits, precheck
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
    assert parse_mask(front_mask(garment(category))).category == category


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


# --- costs counted before trimesh parses: textures, instancing, polygons ------------------------------

def textured_quad(texture: Image.Image) -> trimesh.Trimesh:
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    quad = trimesh.Trimesh([[0, 0, 0], [0.5, 0, 0], [0.5, 0.7, 0], [0, 0.7, 0]], [[0, 1, 2], [0, 2, 3]],
                           process=False)
    quad.visual = trimesh.visual.TextureVisuals(
        uv=uv, material=trimesh.visual.material.PBRMaterial(baseColorTexture=texture))
    return quad


def encoded(image: Image.Image, fmt: str) -> Image.Image:
    """`image` as it comes out of a file (trimesh writes such an image into a GLB in its format)."""
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    buf.seek(0)
    return Image.open(buf)


def textured_file(texture: Image.Image, fmt: str) -> bytes:
    """A textured quad as GLB, or as a glTF with its buffer and image embedded as data URIs."""
    quad = textured_quad(texture)
    if fmt == "glb":
        return quad.export(file_type="glb")
    return trimesh.exchange.gltf.export_gltf(trimesh.Scene(quad), embed_buffers=True)["model.gltf"]


def forged_png(width: int, height: int) -> bytes:
    """A PNG whose header says width × height over a few bytes of pixels: only a header read is cheap."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def with_image(blob: bytes, fmt: str) -> bytes:
    """A textured quad whose texture is `blob` as it is (trimesh's export would decode and re-encode it)."""
    data = textured_file(Image.new("RGB", (8, 8)), fmt)
    if fmt == "gltf":
        doc = json.loads(data)
        doc["images"][0] = {"uri": "data:image/png;base64," + base64.b64encode(blob).decode()}
        return json.dumps(doc).encode()
    (length,) = struct.unpack("<I", data[12:16])
    doc, binary = json.loads(data[20:20 + length]), data[28 + length:]
    binary += b"\0" * (-len(binary) % 4)
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(blob)})
    doc["images"][0] = {"bufferView": len(doc["bufferViews"]) - 1, "mimeType": "image/png"}
    doc["buffers"][0]["byteLength"] = len(binary) + len(blob)
    return glb_with(doc, binary + blob + b"\0" * (-len(blob) % 4))


def no_trimesh(monkeypatch) -> list:
    """trimesh.load replaced by a recorder: the test asserts the refusal came before any parse."""
    calls: list = []
    monkeypatch.setattr(trimesh, "load", lambda *a, **k: calls.append(a) or pytest.fail("trimesh.load was called"))
    return calls


@pytest.mark.parametrize("fmt", ["glb", "gltf"])
@pytest.mark.parametrize("image", ["PNG", "JPEG", "RGBA PNG"])
def test_large_texture_downscaled_before_trimesh(fmt, image) -> None:
    mode, kind = ("RGBA", "PNG") if image == "RGBA PNG" else ("RGB", image)
    texture = encoded(Image.new(mode, (5000, 600), (200, 30, 30, 128)[:len(mode)]), kind)
    source = textured_quad(texture)
    mesh, _ = load_mesh(textured_file(texture, fmt), f"t.{fmt}", LIMIT)
    got = mesh.visual.material.baseColorTexture
    assert max(got.size) <= min(TEXTURE_SIDE, 4096) and got.size == (TEXTURE_SIDE, round(600 * TEXTURE_SIDE / 5000))
    assert ("A" in got.mode) == (mode == "RGBA")
    assert np.allclose(mesh.visual.uv, source.visual.uv)  # UVs are relative: they hold
    assert np.allclose(np.asarray(got.convert("RGB"))[10, 10], [200, 30, 30], atol=3)


@pytest.mark.parametrize("fmt", ["glb", "gltf"])
def test_large_webp_texture_downscaled(fmt) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (5000, 300), (20, 90, 200)).save(buf, format="WEBP")
    mesh, _ = load_mesh(with_image(buf.getvalue(), fmt), f"t.{fmt}", LIMIT)
    assert mesh.visual.material.baseColorTexture.size == (TEXTURE_SIDE, round(300 * TEXTURE_SIDE / 5000))


def test_small_texture_kept_as_it_is() -> None:
    data = textured_file(encoded(Image.new("RGB", (600, 400), (10, 200, 30)), "PNG"), "glb")
    assert precheck(data, "glb") is data
    mesh, _ = load_mesh(data, "t.glb", LIMIT)
    assert mesh.visual.material.baseColorTexture.size == (600, 400)


@pytest.mark.parametrize("fmt", ["glb", "gltf"])
def test_texture_over_the_bound_refused_before_decoding(fmt, monkeypatch) -> None:
    data = with_image(forged_png(9000, 9000), fmt)
    no_trimesh(monkeypatch)
    with pytest.raises(InputError, match="Texture 0 of the file is 9000×9000 pixels; at most 67 megapixels"):
        load_mesh(data, f"t.{fmt}", LIMIT)


def test_textures_bounded_in_all() -> None:
    scene = trimesh.Scene()
    for i in range(9):
        quad = textured_quad(encoded(Image.new("RGB", (TEXTURE_SIDE, TEXTURE_SIDE), (i, 0, 0)), "PNG"))
        scene.add_geometry(quad, node_name=f"q{i}", geom_name=f"q{i}")
    with pytest.raises(InputError, match="textures hold 38 megapixels"):
        load_mesh(scene.export(file_type="glb"), "t.glb", LIMIT)


def test_unreadable_texture_dropped() -> None:
    """Not a PNG, JPEG or WebP (a BMP here): trimesh would have decoded it with whatever Pillow reads."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, format="BMP")
    mesh, _ = load_mesh(with_image(buf.getvalue(), "glb"), "t.glb", LIMIT)
    assert getattr(mesh.visual.material, "baseColorTexture", None) is None


def gltf_doc(mesh_faces: list[tuple[np.ndarray, np.ndarray, int, bool]], nodes: list[dict],
             roots: list[int]) -> tuple[dict, bytes]:
    """A glTF document and its binary: meshes from (vertices, flat indices, mode, indexed), nodes."""
    binary, views, accessors, meshes = b"", [], [], []
    for vertices, indices, mode, indexed in mesh_faces:
        pos = np.asarray(vertices, np.float32)
        views.append({"buffer": 0, "byteOffset": len(binary), "byteLength": pos.nbytes})
        accessors.append({"bufferView": len(views) - 1, "componentType": 5126, "count": len(pos), "type": "VEC3",
                          "min": pos.min(axis=0).tolist(), "max": pos.max(axis=0).tolist()})
        binary += pos.tobytes()
        prim = {"attributes": {"POSITION": len(accessors) - 1}, "mode": mode}
        if indexed:
            idx = np.asarray(indices, np.uint32)
            views.append({"buffer": 0, "byteOffset": len(binary), "byteLength": idx.nbytes})
            accessors.append({"bufferView": len(views) - 1, "componentType": 5125, "count": len(idx),
                              "type": "SCALAR"})
            binary += idx.tobytes()
            prim["indices"] = len(accessors) - 1
        meshes.append({"primitives": [prim]})
    doc = {"asset": {"version": "2.0"}, "buffers": [{"byteLength": len(binary)}], "bufferViews": views,
           "accessors": accessors, "meshes": meshes, "nodes": nodes, "scenes": [{"nodes": roots}], "scene": 0}
    return doc, binary


def sphere_part(subdivisions: int) -> tuple[np.ndarray, np.ndarray, int, bool]:
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    return sphere.vertices, sphere.faces.ravel(), 4, True


def test_instancing_bomb_refused_before_trimesh(monkeypatch) -> None:
    """One 20k-face mesh instanced by 100 nodes: 2 M faces once the scene is flattened."""
    doc, binary = gltf_doc([sphere_part(5)], [{"mesh": 0, "translation": [0.01 * i, 0, 0]} for i in range(100)],
                           list(range(100)))
    no_trimesh(monkeypatch)
    with pytest.raises(InputError, match="The mesh has 2,048,000 faces; at most 1,000,000 are accepted"):
        load_mesh(glb_with(doc, binary), "i.glb", LIMIT)


def test_instances_counted_through_children(monkeypatch) -> None:
    """Ten nodes, each with the same ten children, each instancing the 20k-face mesh: 2 M faces."""
    nodes = [{"children": list(range(10, 20))} for _ in range(10)] + [{"mesh": 0}] * 10
    doc, binary = gltf_doc([sphere_part(5)], nodes, list(range(10)))
    no_trimesh(monkeypatch)
    with pytest.raises(InputError, match="2,048,000 faces"):
        load_mesh(glb_with(doc, binary), "i.glb", LIMIT)


@pytest.mark.parametrize("nodes,words", [
    ([{"children": [1]}, {"mesh": 0, "children": [0]}], "cycle"),
    ([{"mesh": 0, "children": [0]}], "cycle"),
    ([{"children": [i + 1]} for i in range(99)] + [{"mesh": 0}], "nested more than 64 deep"),
])
def test_node_graph_cycles_and_depths_refused(nodes, words, monkeypatch) -> None:
    doc, binary = gltf_doc([sphere_part(0)], nodes, [0])
    no_trimesh(monkeypatch)
    with pytest.raises(InputError, match=words):
        load_mesh(glb_with(doc, binary), "c.glb", LIMIT)


@st.composite
def small_scenes(draw) -> tuple[dict, bytes]:
    """A few meshes (indexed or not, triangles or strips) and a random tree of nodes instancing them."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["sphere", "soup", "strip"]))
        if kind == "sphere":
            parts.append(sphere_part(draw(st.integers(0, 1))))
        else:
            n = draw(st.integers(1, 12)) * (3 if kind == "soup" else 1) + (0 if kind == "soup" else 2)
            vertices = np.random.default_rng(n).random((n, 3))
            indexed = kind == "strip" and draw(st.booleans())
            parts.append((vertices, np.arange(n), 4 if kind == "soup" else 5, indexed))
    n_nodes = draw(st.integers(1, 10))
    parents = [draw(st.integers(-1, i - 1)) for i in range(n_nodes)]  # -1: a root of the scene
    nodes = []
    for i in range(n_nodes):
        node = {}
        mesh = draw(st.one_of(st.none(), st.integers(0, len(parts) - 1)))
        if mesh is not None:
            node["mesh"] = mesh
        children = [j for j in range(n_nodes) if parents[j] == i]
        if children:
            node["children"] = children
        nodes.append(node)
    return gltf_doc(parts, nodes, [i for i in range(n_nodes) if parents[i] == -1])


@settings(max_examples=60, deadline=None)
@given(small_scenes())
def test_pre_parse_count_is_what_trimesh_builds(case) -> None:
    doc, binary = case
    loaded = trimesh.load(io.BytesIO(glb_with(doc, binary)), file_type="glb", process=False, force="scene")
    built = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
    assert gltf_counts(doc) == (sum(len(g.faces) for g in built), sum(len(g.vertices) for g in built))


def ring(corners: int) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, corners, endpoint=False)
    return np.stack([0.3 * np.cos(angle), 0.3 * np.sin(angle), np.zeros(corners)], axis=1)


def polygon_obj(corners: int, faces: int = 1, per_line: int | None = None) -> bytes:
    """`faces` polygons of `corners` corners; with `per_line`, each face continued over lines (\\)."""
    verts = "".join(f"v {x:.4f} {y:.4f} {z:.1f}\n" for x, y, z in ring(corners))
    ids = [str(i) for i in range(1, corners + 1)]
    step = per_line or corners
    face = "f " + " \\\n".join(" ".join(ids[i:i + step]) for i in range(0, corners, step)) + "\n"
    return (verts + face * faces).encode()


def polygon_ply(corners: int, faces: int = 1, binary: bool = True) -> bytes:
    fmt = "binary_little_endian" if binary else "ascii"
    header = (f"ply\nformat {fmt} 1.0\nelement vertex {corners}\nproperty float x\nproperty float y\n"
              f"property float z\nelement face {faces}\nproperty list ushort int vertex_indices\nend_header\n")
    verts = ring(corners).astype("<f4")
    if binary:
        return header.encode() + verts.tobytes() + (struct.pack("<H", corners) + np.arange(corners, dtype="<i4")
                                                    .tobytes()) * faces
    rows = "".join(f"{x:.4f} {y:.4f} {z:.1f}\n" for x, y, z in verts)
    return (header + rows + (f"{corners} " + " ".join(map(str, range(corners))) + "\n") * faces).encode()


POLYGONS = {
    "obj": lambda n, faces=1: polygon_obj(n, faces),
    "obj continued": lambda n, faces=1: polygon_obj(n, faces, per_line=7),
    "ply": lambda n, faces=1: polygon_ply(n, faces),
    "ply ascii": lambda n, faces=1: polygon_ply(n, faces, binary=False),
}


@pytest.mark.parametrize("kind", list(POLYGONS))
def test_many_cornered_polygon_refused_before_triangulation(kind, monkeypatch) -> None:
    data = POLYGONS[kind](5000)
    no_trimesh(monkeypatch)
    with pytest.raises(InputError, match="has 5,000 corners; at most 256 are accepted"):
        load_mesh(data, f"p.{kind[:3]}", LIMIT)


@pytest.mark.parametrize("kind", list(POLYGONS))
def test_polygons_counted_as_triangles(kind, monkeypatch) -> None:
    """4100 faces of 250 corners: 1,016,800 triangles, in a file of a few MB."""
    data = POLYGONS[kind](250, 4100)
    calls = no_trimesh(monkeypatch)
    with pytest.raises(InputError, match="The mesh has 1,016,800 faces"):
        load_mesh(data, f"p.{kind[:3]}", LIMIT)
    assert not calls


@pytest.mark.parametrize("kind", list(POLYGONS))
def test_polygons_within_the_limits_still_import(kind) -> None:
    mesh, _ = load_mesh(POLYGONS[kind](200, 3), f"p.{kind[:3]}", LIMIT)
    assert len(mesh.faces) == 3 * 198


@pytest.mark.parametrize("data,fmt", [
    (b"v 0 0 0\n" * 1001 + b"vt 0 0\n" * 2000 + b"f 1 2 3\n", "obj"),
    (ply_header_only(1).replace(b"element vertex 3", b"element vertex 1001"), "ply"),
])
def test_vertex_counts_bounded(data, fmt, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_VERTICES", 1000)
    no_trimesh(monkeypatch)
    with pytest.raises(InputError, match="The mesh has 1,001 vertices; at most 1,000 are accepted"):
        load_mesh(data, f"v.{fmt}", LIMIT)
