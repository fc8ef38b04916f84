"""The page's own 3D viewer (demo/ui/viewer3d.py, demo/static/viewer/): the copy of three.js it
loads is whole and is the version package.json pins, its modules import only files beside them,
the server serves them and nothing beside them, and the component turns a GLB's path into a URL
of a copy Gradio serves. The browser test (test_browser.py) watches it draw."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from core.config import Settings
from demo.ui.viewer3d import VIEWER_DIR, VIEWER_ROUTE, GlbView

ROOT = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"]*?\bfrom\s*'([^']+)'|import\(\s*'([^']+)'\s*\)""", re.M)


def test_the_vendored_three_is_the_version_package_json_pins() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["three"]
    assert (VIEWER_DIR / "three" / "VERSION").read_text().strip() == pinned
    assert (VIEWER_DIR / "three" / "LICENSE").read_text().startswith("The MIT License")


def test_every_viewer_module_imports_only_files_beside_it() -> None:
    """No bare `three` specifier (no import map on the page) and no file missing from the copy."""
    modules = sorted(VIEWER_DIR.rglob("*.js"))
    assert {"view3d.js", "three.module.js", "GLTFLoader.js", "DRACOLoader.js", "OrbitControls.js"} <= {
        m.name for m in modules}
    seen = 0
    for module in modules:
        for match in IMPORT.finditer(module.read_text()):
            spec = match.group(1) or match.group(2)
            assert spec.startswith("./"), f"{module.name} imports {spec!r}"
            assert (module.parent / spec).is_file(), f"{module.name} imports a missing {spec}"
            seen += 1
    assert seen >= 10  # the check read the imports at all
    assert (VIEWER_DIR / "three" / "draco" / "draco_decoder.wasm").read_bytes()[:4] == b"\0asm"


def test_the_warm_up_model_is_a_garment_of_one_triangle_as_the_script_writes_it() -> None:
    """What the viewer loads at mount to take a garment's path before the first garment (a
    textured, two-sided mesh with normals, its texture a JPEG), kept as scripts/ writes it."""
    import io
    import sys

    import pygltflib
    from PIL import Image

    sys.path.insert(0, str(ROOT / "scripts"))
    from build_viewer_warmup import OUT, warmup_glb

    assert OUT == VIEWER_DIR / "warm.glb" and "'warm.glb'" in (VIEWER_DIR / "view3d.js").read_text()
    for glb in (OUT.read_bytes(), warmup_glb()):
        gltf = pygltflib.GLTF2.load_from_bytes(glb)
        (mesh,) = gltf.meshes
        (prim,) = mesh.primitives
        assert prim.attributes.NORMAL is not None and prim.attributes.TEXCOORD_0 is not None
        material = gltf.materials[prim.material]
        assert material.doubleSided and material.pbrMetallicRoughness.baseColorTexture is not None
        (image,) = gltf.images
        view = gltf.bufferViews[image.bufferView]
        data = gltf.binary_blob()[view.byteOffset: view.byteOffset + view.byteLength]
        assert image.mimeType == "image/jpeg" and Image.open(io.BytesIO(data)).format == "JPEG"
        assert len(glb) < 4096


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from demo.server import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("viewer") / "data", job_workers=1)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.slow
def test_the_server_serves_the_viewer_and_nothing_beside_it(client) -> None:
    js = client.get(f"{VIEWER_ROUTE}/view3d.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "export function mount" in js.text
    assert client.get(f"{VIEWER_ROUTE}/three/three.module.js").status_code == 200
    wasm = client.get(f"{VIEWER_ROUTE}/three/draco/draco_decoder.wasm")
    assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
    for path in ("/../app.py", "/%2e%2e/app.py", "/..%2fapp.py", "/nope.js", "/"):
        assert client.get(VIEWER_ROUTE + path).status_code == 404, path


def test_a_glb_path_becomes_the_url_of_a_copy_gradio_serves(tmp_path) -> None:
    glb = tmp_path / "a garment.glb"
    glb.write_bytes(b"glTF" + bytes(range(60)))
    with gr.Blocks():
        view = GlbView(title="3D garment", elem_id="garment-view")
    url = view.postprocess(str(glb))
    assert url.startswith("gradio_api/file=") and " " not in url
    copy = Path(unquote(url.removeprefix("gradio_api/file=")))
    assert copy != glb and copy.read_bytes() == glb.read_bytes()
    assert copy.as_posix() in {Path(p).as_posix() for p in view.temp_files}  # Gradio's file route allows it
    assert view.postprocess(None) == ""


def test_the_viewer_survives_gradio_rebuilding_it_from_its_config() -> None:
    """A prop update makes Gradio call the class again with its constructor's arguments and
    render=False (the first version had a narrow signature and every such update failed)."""
    with gr.Blocks():
        view = GlbView(title="Dressed avatar", elem_id="fitted-view", height=300)
    args = view.constructor_args | {"render": False}
    args.pop("value", None)
    again = GlbView(**args)
    assert again.props["title"] == "Dressed avatar" and again.props["height"] == 300
    assert again.js_on_load == view.js_on_load and again.elem_id == "fitted-view"
