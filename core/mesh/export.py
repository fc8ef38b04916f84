"""GLB export (trimesh) and Draco compression of any GLB (DracoPy + pygltflib, KHR_draco_mesh_compression)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

import DracoPy
import numpy as np
import pygltflib
import trimesh
from PIL import Image

from core.mesh.cleanup import smooth_normals

DRACO_EXT = "KHR_draco_mesh_compression"
# Draco's GeometryAttribute types, as DracoPy reports them, and their glTF attribute names.
_DRACO_TO_GLTF = {0: "POSITION", 1: "NORMAL", 2: "COLOR_0", 3: "TEXCOORD_0"}
_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32,
           5126: np.float32}


def jpeg_texture(image: Image.Image, quality: int = 90) -> Image.Image:
    """A JPEG-backed copy of a photo texture: trimesh writes JPEG-sourced images into the GLB as
    JPEG (several times smaller than the PNG it writes otherwise). Photos have no alpha to lose."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf)


def scene_to_glb(scene: trimesh.Scene) -> bytes:
    """GLB bytes, with vertex normals (without them three.js, Babylon and Blender shade every face
    flat: the garment looks faceted), smooth across texture seams (see smooth_normals). Opaque photo
    textures go in as JPEG whatever their source (copies of PIL images forget that they came from a
    JPEG, and trimesh would then write a PNG)."""
    for geom in scene.geometry.values():
        if isinstance(geom, trimesh.Trimesh) and len(geom.faces):
            geom.vertex_normals = smooth_normals(geom)
        mat = getattr(geom.visual, "material", None)
        for attr in ("baseColorTexture", "image"):  # PBR and simple materials
            tex = getattr(mat, attr, None)
            if tex is not None and tex.format != "JPEG" and tex.mode == "RGB":
                setattr(mat, attr, jpeg_texture(tex))
    return scene.export(file_type="glb", include_normals=True)


def garment_node(name: str) -> str:
    """A garment's node (and mesh) name in every GLB: `garment_<category>`. Letters, digits and
    underscores only: three.js renames nodes with others (`garment:top` became `garmenttop`, and
    `getObjectByName` found nothing)."""
    return "garment_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def mesh_to_glb(mesh: trimesh.Trimesh, name: str = "garment") -> bytes:
    scene = trimesh.Scene()
    scene.add_geometry(mesh, node_name=name, geom_name=name)
    return scene_to_glb(scene)


def mesh_to_obj_zip(mesh: trimesh.Trimesh, name: str = "garment") -> bytes:
    """OBJ + MTL + texture in one zip, for tools that do not read glTF."""
    mesh = mesh.copy()
    mat = getattr(mesh.visual, "material", None)
    image = getattr(mat, "baseColorTexture", None) or getattr(mat, "image", None)
    if image is not None:  # white diffuse, so that viewers show the texture's own colours
        mesh.visual.material = trimesh.visual.material.SimpleMaterial(
            name=name, image=image, diffuse=[255, 255, 255, 255], ambient=[255, 255, 255, 255],
            specular=[20, 20, 20, 255])
    text, files = trimesh.exchange.obj.export_obj(mesh, include_normals=True, return_texture=True,
                                                  mtl_name=f"{name}.mtl", header=None)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}.obj", text)
        for fname, data in files.items():
            zf.writestr(fname, data)
    return buf.getvalue()


def _read_accessor(gltf: pygltflib.GLTF2, blob: bytes, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    n = _COMPONENTS[acc.type]
    dtype = np.dtype(_DTYPES[acc.componentType])
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    stride = view.byteStride or n * dtype.itemsize
    raw = np.frombuffer(blob, dtype=np.uint8, count=stride * (acc.count - 1) + n * dtype.itemsize,
                        offset=start)
    rows = np.lib.stride_tricks.as_strided(raw, shape=(acc.count, n * dtype.itemsize),
                                           strides=(stride, 1))
    out = np.ascontiguousarray(rows).view(dtype).reshape(acc.count, n)
    if acc.normalized and dtype.kind in "ui":
        out = out.astype(np.float64) / np.iinfo(dtype).max
    return out


def draco_compress_glb(glb: bytes, quantization_bits: int = 14, level: int = 7) -> bytes:
    """Re-pack every triangle primitive of a GLB as a Draco stream; images and nodes are kept.

    Written here because no maintained Python package writes KHR_draco_mesh_compression GLBs.
    """
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    blob = gltf.binary_blob() or b""
    chunks: list[bytes] = []
    views: list[pygltflib.BufferView] = []

    def add_view(data: bytes) -> int:
        offset = sum(len(c) for c in chunks)
        chunks.append(data + b"\0" * (-len(data) % 4))
        views.append(pygltflib.BufferView(buffer=0, byteOffset=offset, byteLength=len(data)))
        return len(views) - 1

    accessors: list[pygltflib.Accessor] = []
    for mesh in gltf.meshes:
        for prim in mesh.primitives:
            if prim.mode not in (None, 4) or prim.indices is None:
                raise ValueError("only indexed triangle primitives can be Draco-compressed")
            _draco_primitive(gltf, blob, prim, accessors, add_view, quantization_bits, level)
    for image in gltf.images:  # images keep their bytes, in a view of their own
        if image.bufferView is not None:
            v = gltf.bufferViews[image.bufferView]
            start = v.byteOffset or 0
            image.bufferView = add_view(blob[start:start + v.byteLength])
    gltf.accessors, gltf.bufferViews = accessors, views
    payload = b"".join(chunks)
    gltf.buffers = [pygltflib.Buffer(byteLength=len(payload))]
    gltf.set_binary_blob(payload)
    gltf.extensionsUsed = sorted(set(gltf.extensionsUsed or []) | {DRACO_EXT})
    gltf.extensionsRequired = sorted(set(gltf.extensionsRequired or []) | {DRACO_EXT})
    return b"".join(gltf.save_to_bytes())


def _draco_primitive(gltf: pygltflib.GLTF2, blob: bytes, prim: pygltflib.Primitive,
                     accessors: list[pygltflib.Accessor], add_view: Callable[[bytes], int],
                     quantization_bits: int, level: int) -> None:
    """One triangle primitive re-packed as a Draco stream in a view of its own (`add_view`), with
    new accessors appended to `accessors` that describe what a decoder will see."""
    attrs = prim.attributes
    pos = _read_accessor(gltf, blob, attrs.POSITION)
    faces = _read_accessor(gltf, blob, prim.indices).reshape(-1, 3)
    extra = {}
    if attrs.NORMAL is not None:
        extra["normals"] = _read_accessor(gltf, blob, attrs.NORMAL).astype(np.float64)
    if attrs.TEXCOORD_0 is not None:
        extra["tex_coord"] = _read_accessor(gltf, blob, attrs.TEXCOORD_0).astype(np.float64)
    if attrs.COLOR_0 is not None:
        col = _read_accessor(gltf, blob, attrs.COLOR_0)
        extra["colors"] = (col * 255).round().astype(np.uint8) if col.dtype.kind == "f" \
            else col.astype(np.uint8)
    data = DracoPy.encode(pos.astype(np.float64), faces.astype(np.uint32),
                          quantization_bits=quantization_bits, compression_level=level,
                          tex_coord_quantization_bits=12, normal_quantization_bits=8,
                          **extra)
    data = _float_attributes_not_normalized(bytes(data))
    decoded = DracoPy.decode(data)  # the accessors must describe what a decoder will see
    ids, new_attrs = {}, {}
    for att in decoded.attributes:
        ids[_DRACO_TO_GLTF[att["attribute_type"]]] = att["unique_id"]
    n_points = len(decoded.points)
    for name, values in (("POSITION", decoded.points), ("NORMAL", decoded.normals),
                         ("TEXCOORD_0", decoded.tex_coord), ("COLOR_0", decoded.colors)):
        if name not in ids:
            continue
        values = np.asarray(values).reshape(n_points, -1)
        acc = pygltflib.Accessor(count=n_points, byteOffset=None, type=f"VEC{values.shape[1]}",
                                 componentType=5126 if name != "COLOR_0" else 5121,
                                 normalized=True if name == "COLOR_0" else None)
        if name == "POSITION":
            acc.min = values.min(axis=0).astype(float).tolist()
            acc.max = values.max(axis=0).astype(float).tolist()
        accessors.append(acc)
        new_attrs[name] = len(accessors) - 1
    accessors.append(pygltflib.Accessor(count=int(decoded.faces.size), type="SCALAR", byteOffset=None,
                                        componentType=5125))
    prim.indices = len(accessors) - 1
    prim.attributes = pygltflib.Attributes(**new_attrs)
    prim.extensions = {DRACO_EXT: {"bufferView": add_view(bytes(data)), "attributes": ids}}


def _float_attributes_not_normalized(data: bytes) -> bytes:
    """The Draco stream with its texture coordinates' `normalized` flag cleared. Draco's encoder
    (through DracoPy, which has no option for it) marks float texture coordinates normalized, which
    glTF forbids a float accessor to be: Babylon warned on every textured file that the two
    disagree. In the attribute header each attribute is described as type, data type, components,
    normalized, unique id (Draco bitstream 2.2): the one byte is found there and the stream is
    decoded again to prove nothing else changed; if the description is not found exactly once,
    the stream is left as it was."""
    before = DracoPy.decode(data)
    out = bytearray(data)
    for att in before.attributes:
        if att["attribute_type"] != 3 or att["data_type"] != 9 or att["unique_id"] > 127:  # TEX_COORD, float32
            continue
        described = bytes([3, 9, att["num_components"], 1, att["unique_id"]])
        at = data.find(described)
        if at < 0 or data.find(described, at + 1) >= 0:
            return data
        out[at + 3] = 0
    if out == data:
        return data
    after = DracoPy.decode(bytes(out))
    same = all(np.array_equal(getattr(before, k), getattr(after, k))
               for k in ("points", "faces", "normals", "tex_coord", "colors"))
    return bytes(out) if same else data


def glb_geometry_bytes(glb: bytes) -> int:
    """Bytes of a GLB's binary chunk that are not images: the geometry (plain or Draco)."""
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    images = sum(gltf.bufferViews[i.bufferView].byteLength for i in gltf.images if i.bufferView is not None)
    return sum(v.byteLength for v in gltf.bufferViews) - images


def decode_draco_glb(glb: bytes) -> list[DracoPy.DracoMesh]:
    """Decode every Draco primitive of a GLB (used by tests and the benchmark to prove the file)."""
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    blob = gltf.binary_blob()
    out = []
    for mesh in gltf.meshes:
        for prim in mesh.primitives:
            view = gltf.bufferViews[prim.extensions[DRACO_EXT]["bufferView"]]
            start = view.byteOffset or 0
            out.append(DracoPy.decode(blob[start:start + view.byteLength]))
    return out
