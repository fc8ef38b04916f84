"""Every kind of GLB the app serves (garment, fitted avatar, preset; plain and Draco) loaded by
three.js itself (GLTFLoader + DRACOLoader from npm `three`, the decoder served locally) in headless
Chromium: the names a three.js app looks objects up by, one mesh per part, unit vertex normals
(no flat shading), the garment's texture, and no loader warning."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pygltflib
import pytest
import trimesh
from PIL import Image

from core.mesh.export import DRACO_EXT, draco_compress_glb, mesh_to_glb
from tests.conftest import ROOT, authed_session, photo_bytes
from tests.test_browser import CHROMIUM, FLAGS
from tests.test_integration import get, poll

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)"),
              pytest.mark.skipif(not (ROOT / "node_modules/three").is_dir(), reason="npm ci has not run")]


class _Files(SimpleHTTPRequestHandler):
    """/node_modules/... from the repository, /glb/<name> from the test's folder, the page at /."""

    extensions_map = SimpleHTTPRequestHandler.extensions_map | {".wasm": "application/wasm", ".js": "text/javascript"}

    def __init__(self, *args, glb_dir: Path, **kwargs) -> None:
        self.glb_dir = glb_dir
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path.startswith("/glb/"):
            return str(self.glb_dir / Path(path).name)
        if path == "/":
            return str(ROOT / "tests/viewers/threejs.html")
        if not path.startswith("/node_modules/three/"):
            return str(ROOT / "does-not-exist")
        return super().translate_path(path)

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, glb_dir=tmp_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()


def _served_glbs(base: str) -> dict[str, bytes]:
    """A garment made from a drawn photo, fitted on a preset, and the preset: each GLB the app
    serves, plain and Draco."""
    http = authed_session(base)
    cloth = http.post(base + "/clothes/upload-image", timeout=30,
                      files={"file": ("top.png", photo_bytes("top", fmt="PNG"), "image/png")}).json()
    r = http.post(f"{base}/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette", "quality": "low"},
                  timeout=30)
    job = poll(http, base, f"/clothes3d/{r.json()['id']}")
    assert job["status"] == "done", job["log"]
    preset = http.get(base + "/avatar-presets", timeout=10).json()[0]
    r = http.post(base + "/fit", json={"cloth3d_id": job["id"], "avatar_preset_id": preset["id"]}, timeout=30)
    session = poll(http, base, f"/session/{r.json()['id']}/result")
    assert session["status"] == "done", session["log"]
    urls = {"garment": job["glb_url"], "garment-draco": job["gltf_url"],
            "fitted": session["fitted_glb_url"], "fitted-draco": session["fitted_gltf_url"],
            "preset": preset["glb_url"], "preset-draco": preset["gltf_url"]}
    return {kind: get(base, url) for kind, url in urls.items()}


def test_every_served_glb_reads_the_same_in_threejs(live_app: str, static_server) -> None:
    from playwright.sync_api import sync_playwright

    base, folder = static_server
    for kind, data in _served_glbs(live_app).items():
        (folder / f"{kind}.glb").write_bytes(data)
    files = sorted(p.name for p in folder.glob("*.glb"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/?files={json.dumps(files)}")
        page.wait_for_function("window.RESULTS !== undefined", timeout=60_000)
        out = page.evaluate("window.RESULTS")
        browser.close()
    assert not errors, errors
    results = out["results"]
    assert not [f for f, r in results.items() if "error" in r], results
    for file, result in results.items():
        meshes = {m["name"]: m for m in result["meshes"]}
        assert all(result["byName"]), (file, result["names"])  # getObjectByName finds every name
        expected = {"garment": {"garment_top"}, "fitted": {"avatar", "garment_top"}, "preset": {"avatar"}}
        assert set(meshes) == expected[file.split("-")[0].removesuffix(".glb")], (file, result["names"])
        for mesh in meshes.values():
            assert mesh["normals"] == mesh["vertices"] == mesh["unitNormals"], (file, mesh)
            assert not mesh["flatShading"], (file, mesh)
        if "garment_top" in meshes:
            top = meshes["garment_top"]
            assert top["uv"] and top["texture"] and min(top["texture"]) >= 256, (file, top)
            assert top["userData"].get("category") == "top", (file, top)
    assert out["warnings"] == [], out["warnings"]


def test_draco_attributes_are_flagged_as_their_accessors(tmp_path: Path) -> None:
    """Babylon warns when a Draco attribute's `normalized` flag differs from its accessor's: read
    by Draco's own decoder, every attribute of a textured, coloured mesh agrees with the GLB."""
    mesh = trimesh.creation.icosphere(3)
    mesh.visual = trimesh.visual.TextureVisuals(uv=np.random.default_rng(0).random((len(mesh.vertices), 2)),
                                                image=Image.new("RGB", (64, 64), (200, 40, 40)))
    gltf = pygltflib.GLTF2.load_from_bytes(draco_compress_glb(mesh_to_glb(mesh)))
    blob = gltf.binary_blob()
    prim = gltf.meshes[0].primitives[0]
    ext = prim.extensions[DRACO_EXT]
    view = gltf.bufferViews[ext["bufferView"]]
    stream = tmp_path / "mesh.drc"
    stream.write_bytes(blob[view.byteOffset or 0:(view.byteOffset or 0) + view.byteLength])
    decoder = tmp_path / "draco_decoder.cjs"
    shutil.copy(ROOT / "node_modules/three/examples/jsm/libs/draco/draco_decoder.js", decoder)
    out = subprocess.run(["node", str(ROOT / "tests/viewers/draco_flags.cjs"), str(decoder), str(stream)],
                         capture_output=True, text=True, timeout=60, check=True)
    (read,) = json.loads(out.stdout)
    flags = {a["id"]: a["normalized"] for a in read["attributes"]}
    accessors = {name: gltf.accessors[getattr(prim.attributes, name)] for name in ext["attributes"]}
    assert set(ext["attributes"]) >= {"POSITION", "NORMAL", "TEXCOORD_0"}
    for name, uid in ext["attributes"].items():
        assert flags[uid] == bool(accessors[name].normalized), (name, flags[uid], accessors[name].normalized)
