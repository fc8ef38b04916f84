"""Benchmark: hostile 3D imports (texture, instancing and polygon bombs) next to a normal garment.

Usage: python benchmarks/import_bombs.py [--timeout S]
Each file goes through the app's import path (load_mesh, orient, scale_and_anchor, decimate,
finish_garment: what upload_garment_3d does before storing) in a fresh process, so that one
import's peak memory is not hidden by another's. Per file it prints the size, the wall time, the
peak RSS above the process's RSS just before the import, and the outcome. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh
from common import table
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def one(path: Path) -> None:
    """The child: import one file and print its figures as one JSON line."""
    sys.path.insert(0, str(ROOT))
    from core.errors import InputError
    from core.garment.registry import REGISTRY
    from core.mesh.cleanup import decimate
    from core.mesh.importer import load_mesh, orient, scale_and_anchor
    from core.pipeline import finish_garment

    data = path.read_bytes()
    with contextlib.suppress(OSError):  # the peak so far (module imports) reset, where the kernel allows
        Path("/proc/self/clear_refs").write_text("5")
    idle_kb = _status_kb("VmRSS")
    t0 = time.perf_counter()
    try:
        mesh, fmt = load_mesh(data, path.name, 200 * 2**20)
        item = scale_and_anchor(orient(mesh, fmt in ("glb", "gltf")), "auto", REGISTRY["top"].length_m)
        files = finish_garment(decimate(item.mesh, 40_000), "top")
        outcome = f"accepted: {len(mesh.faces):,} faces"
        tex = getattr(getattr(mesh.visual, "material", None), "baseColorTexture", None)
        if tex is not None:
            outcome += f", texture {tex.size[0]}×{tex.size[1]}"
        outcome += f", GLB {len(files.glb) / 2**20:.1f} MB"
    except InputError as exc:
        outcome = f"refused: {exc}"
    wall = time.perf_counter() - t0
    peak_kb = _status_kb("VmHWM")
    print(json.dumps({"wall_s": wall, "peak_mb": max(peak_kb - idle_kb, 0) / 1024, "outcome": outcome}))


def _glb(doc: dict, binary: bytes) -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\0" * (-len(binary) % 4)
    body = struct.pack("<I4s", len(js), b"JSON") + js + struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def texture_bomb(side: int, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    """A textured quad whose texture is side × side pixels of one colour (a PNG packs to ~100 KB)."""
    buf = io.BytesIO()
    Image.new(mode, (side, side), (180, 40, 40, 128)[:len(mode)]).save(buf, format=fmt)
    buf.seek(0)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    quad = trimesh.Trimesh([[0, 0, 0], [0.5, 0, 0], [0.5, 0.7, 0], [0, 0.7, 0]], [[0, 1, 2], [0, 2, 3]],
                           process=False)
    quad.visual = trimesh.visual.TextureVisuals(uv=uv, material=trimesh.visual.material.PBRMaterial(
        baseColorTexture=Image.open(buf)))  # trimesh writes it in its own format
    return quad.export(file_type="glb")


def instancing_bomb(nodes: int = 100) -> bytes:
    """One 82k-face mesh written once and instanced by `nodes` nodes."""
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=0.3)
    pos = sphere.vertices.astype(np.float32)
    idx = sphere.faces.astype(np.uint32).ravel()
    binary = pos.tobytes() + idx.tobytes()
    doc = {"asset": {"version": "2.0"}, "buffers": [{"byteLength": len(binary)}],
           "bufferViews": [{"buffer": 0, "byteLength": pos.nbytes},
                           {"buffer": 0, "byteOffset": pos.nbytes, "byteLength": idx.nbytes}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": len(pos), "type": "VEC3",
                          "min": pos.min(axis=0).tolist(), "max": pos.max(axis=0).tolist()},
                         {"bufferView": 1, "componentType": 5125, "count": len(idx), "type": "SCALAR"}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
           "nodes": [{"mesh": 0, "translation": [0.01 * i, 0, 0]} for i in range(nodes)],
           "scenes": [{"nodes": list(range(nodes))}], "scene": 0}
    return _glb(doc, binary)


def _ring(corners: int) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, corners, endpoint=False)
    return np.stack([0.3 * np.cos(angle), 0.3 * np.sin(angle), np.zeros(corners)], axis=1)


def polygon_obj(corners: int = 5000, faces: int = 1000) -> bytes:
    """`faces` polygons of `corners` corners each: a few MB that triangulate to corners-2 each."""
    verts = "".join(f"v {x:.4f} {y:.4f} {z:.1f}\n" for x, y, z in _ring(corners))
    face = "f " + " ".join(map(str, range(1, corners + 1))) + "\n"
    return (verts + face * faces).encode()


def polygon_ply(corners: int = 5000, faces: int = 1000, binary: bool = True) -> bytes:
    """The same polygons as a PLY, binary (fixed layout) or ASCII."""
    fmt = "binary_little_endian" if binary else "ascii"
    header = (f"ply\nformat {fmt} 1.0\nelement vertex {corners}\nproperty float x\nproperty float y\n"
              f"property float z\nelement face {faces}\nproperty list ushort int vertex_indices\nend_header\n")
    verts = _ring(corners).astype("<f4")
    if binary:
        row = struct.pack("<H", corners) + np.arange(corners, dtype="<i4").tobytes()
        return header.encode() + verts.tobytes() + row * faces
    rows = "".join(f"{x:.4f} {y:.4f} {z:.1f}\n" for x, y, z in verts)
    face = f"{corners} " + " ".join(map(str, range(corners))) + "\n"
    return (header + rows + face * faces).encode()


def normal_garment() -> bytes:
    sys.path.insert(0, str(ROOT))
    from core.ai.segment import Cutout
    from core.ai.silhouette import reconstruct
    from core.samples import draw_garment

    photo, mask = draw_garment("top")
    buf = io.BytesIO(reconstruct(Cutout(np.asarray(photo), mask, "t"), "top", "med").mesh.export(file_type="glb"))
    return buf.getvalue()


CASES = {
    "garment.glb (reference)": normal_garment,
    "texture-6000.glb": lambda: texture_bomb(6000),
    "texture-9000.glb": lambda: texture_bomb(9000),
    "texture-8192-rgba.glb (at the bound)": lambda: texture_bomb(8192, "RGBA"),
    "texture-8192-jpeg.glb (at the bound)": lambda: texture_bomb(8192, fmt="JPEG"),
    "instanced-100.glb": instancing_bomb,
    "polygons-5000.obj": polygon_obj,
    "polygons-5000.ply (binary)": polygon_ply,
    "polygons-5000.ply (ascii)": lambda: polygon_ply(binary=False),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per import")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args.one)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in CASES.items():
            path = Path(tmp) / name.split(" ")[0]
            path.write_bytes(build())
            row = {"file": name, "size_mb": path.stat().st_size / 2**20}
            try:
                out = subprocess.run([sys.executable, __file__, "--one", str(path)], capture_output=True,
                                     text=True, timeout=args.timeout)
                lines = out.stdout.strip().splitlines()
                row |= json.loads(lines[-1]) if out.returncode == 0 and lines else \
                    {"outcome": f"crashed (exit {out.returncode}): {out.stderr.strip()[-200:]}"}
            except subprocess.TimeoutExpired:
                row |= {"wall_s": args.timeout, "outcome": f"killed after {args.timeout:g} s"}
            rows.append(row)
            print(f"{name}: done", file=sys.stderr)
    print(table(rows, ["file", "size_mb", "wall_s", "peak_mb", "outcome"]))
    print("\npeak_mb: the import's peak RSS above the process's RSS just before the call")


if __name__ == "__main__":
    main()
