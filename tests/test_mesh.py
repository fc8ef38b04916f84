"""Frames, export (GLB, Draco GLB, validated by Khronos' validator) and the thumbnail renderer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import trimesh
from PIL import Image

from core.mesh.export import decode_draco_glb, draco_compress_glb, mesh_to_glb
from core.mesh.frames import frame_rotation, to_gltf_frame
from core.mesh.render import render
from tests.gltf import validate

AXES = ["+x", "-x", "+y", "-y", "+z", "-z"]


@pytest.mark.parametrize("up,forward", [(u, f) for u, f in itertools.permutations(AXES, 2)
                                        if u[1] != f[1]])
def test_frame_rotation_is_proper(up, forward) -> None:
    r = frame_rotation(up, forward)
    assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
    axis = {"x": 0, "y": 1, "z": 2}
    u = np.zeros(3)
    u[axis[up[1]]] = 1 if up[0] == "+" else -1
    f = np.zeros(3)
    f[axis[forward[1]]] = 1 if forward[0] == "+" else -1
    assert np.allclose(r @ u, [0, 1, 0]) and np.allclose(r @ f, [0, 0, 1])


def test_frame_rejects_parallel_axes() -> None:
    with pytest.raises(ValueError):
        frame_rotation("+z", "-z")


def test_to_gltf_frame_keeps_outward_normals() -> None:
    box = trimesh.creation.box(extents=[1, 2, 3])
    to_gltf_frame(box, up="+z", forward="-y", scale=0.01)
    assert np.allclose(box.extents, [0.01, 0.03, 0.02]) and box.volume > 0


def textured_sphere() -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(3)
    uv = (m.vertices[:, :2] + 1) / 2
    tex = np.zeros((64, 64, 3), np.uint8)
    tex[:, :32] = (220, 30, 30)
    tex[:, 32:] = (30, 30, 220)
    m.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(tex))
    return m


def test_glb_and_draco_roundtrip_and_validate(tmp_path) -> None:
    mesh = textured_sphere()
    glb = mesh_to_glb(mesh, name="garment_top")
    draco = draco_compress_glb(glb)
    assert len(draco) < len(glb)
    loaded = trimesh.load(trimesh.util.wrap_as_stream(glb), file_type="glb", force="scene")
    assert list(loaded.graph.nodes_geometry) == ["garment_top"]
    (decoded,) = decode_draco_glb(draco)
    assert len(decoded.faces) == len(mesh.faces)
    assert decoded.tex_coord.shape == (len(decoded.points), 2)
    assert np.abs(np.sort(decoded.points, axis=0) - np.sort(mesh.vertices, axis=0)).max() < 1e-3
    (tmp_path / "a.glb").write_bytes(glb)
    (tmp_path / "a.draco.glb").write_bytes(draco)
    reports = validate(tmp_path / "a.glb", tmp_path / "a.draco.glb")
    assert [r["errors"] for r in reports] == [0, 0], reports


def test_validator_catches_a_broken_file(tmp_path) -> None:
    glb = bytearray(mesh_to_glb(textured_sphere()))
    glb[12:20] = b"\0" * 8  # corrupt the JSON chunk header
    (tmp_path / "bad.glb").write_bytes(bytes(glb))
    assert validate(tmp_path / "bad.glb")[0]["errors"] > 0


def test_render_shows_the_texture() -> None:
    img = np.asarray(render([textured_sphere()], size=128, yaw_deg=0, pitch_deg=0))
    assert img.shape == (128, 128, 3)
    assert tuple(img[2, 2]) == (246, 246, 248)  # background corner
    left, right = img[64, 50].astype(int), img[64, 78].astype(int)
    assert left[0] > left[2] + 60 and right[2] > right[0] + 60  # red half, blue half


def test_render_empty_scene() -> None:
    assert render([], size=32).size == (32, 32)


def test_opaque_textures_are_written_as_jpeg() -> None:
    import pygltflib

    glb = mesh_to_glb(textured_sphere().copy())  # a copy forgets where its image came from
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    assert [img.mimeType for img in gltf.images] == ["image/jpeg"]


def test_glbs_carry_smooth_vertex_normals() -> None:
    """Without normals, three.js, Babylon and Blender shade every face flat: the garment looks
    faceted. The plain and the Draco GLB both carry unit normals, smooth across shared vertices."""
    import pygltflib

    sphere = trimesh.creation.icosphere(subdivisions=3)
    glb = mesh_to_glb(sphere)
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    assert gltf.meshes[0].primitives[0].attributes.NORMAL is not None
    from core.mesh.export import _read_accessor

    attrs = gltf.meshes[0].primitives[0].attributes
    normals = _read_accessor(gltf, gltf.binary_blob(), attrs.NORMAL)  # what a viewer reads
    points = _read_accessor(gltf, gltf.binary_blob(), attrs.POSITION)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-3)
    radial = points / np.linalg.norm(points, axis=1, keepdims=True)
    assert np.einsum("ij,ij->i", normals, radial).min() > 0.98  # smooth: along the radius, not the faces'
    (draco,) = decode_draco_glb(draco_compress_glb(glb))
    assert draco.normals is not None and len(draco.normals) == len(draco.points)


def test_normals_are_smooth_across_texture_seams_and_split_at_creases() -> None:
    """A sphere cut along a meridian for its texture (vertices there doubled) still shades smooth
    there; a cube whose faces are split on purpose keeps its hard edges."""
    from core.mesh.cleanup import smooth_normals

    sphere = trimesh.creation.icosphere(subdivisions=1)  # coarse: a split shows
    split = sphere.vertices[:, 0] > 0  # every face on the +x side gets its own copies of its vertices
    on_side = split[sphere.faces].all(axis=1)
    extra = np.unique(sphere.faces[on_side])
    remap = np.arange(len(sphere.vertices))
    remap[extra] = len(sphere.vertices) + np.arange(len(extra))
    faces = np.where(on_side[:, None], remap[sphere.faces], sphere.faces)
    cut = trimesh.Trimesh(np.concatenate([sphere.vertices, sphere.vertices[extra]]), faces, process=False)
    assert not cut.is_watertight  # a seam in the topology, none in the surface
    radial = cut.vertices / np.linalg.norm(cut.vertices, axis=1, keepdims=True)
    used = np.unique(cut.faces)
    assert np.einsum("ij,ij->i", cut.vertex_normals, radial)[used].min() < 0.96  # trimesh's own split there
    assert np.einsum("ij,ij->i", smooth_normals(cut), radial)[used].min() > 0.995
    box = trimesh.creation.box()
    box = trimesh.Trimesh(box.triangles.reshape(-1, 3), np.arange(36).reshape(-1, 3), process=False)
    normals = smooth_normals(box)
    assert np.allclose(normals, np.repeat(box.face_normals, 3, axis=0))  # hard edges stay hard


def test_every_exported_normal_is_a_unit_vector_even_where_cloth_folds_back(tmp_path) -> None:
    """Two faces folded flat onto each other cancel their vertices' normals; glTF wants unit ones
    (the validator's ACCESSOR_VECTOR3_NON_UNIT)."""
    from core.mesh.export import scene_to_glb

    fold = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], [[0, 1, 2], [2, 1, 0], [1, 3, 2]],
                           process=False)
    assert (np.linalg.norm(fold.vertex_normals, axis=1) < 0.5).any()  # trimesh leaves a zero there
    scene = trimesh.Scene()
    scene.add_geometry(fold, node_name="garment_top", geom_name="garment_top")
    path = tmp_path / "fold.glb"
    path.write_bytes(scene_to_glb(scene))
    (report,) = validate(path)
    assert report["errors"] == 0, report["messages"]
