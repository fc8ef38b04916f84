"""The pipeline as a library: meshes and plain reports first, the files a job stores are their
export, and examples/quickstart.py runs as a researcher would, outside the repository."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import pytest
import trimesh
from PIL import Image

from core.ai.reconstructors import REGISTRY
from core.errors import UnsupportedMedia
from core.mesh.export import decode_draco_glb
from core.pipeline import (
    FittedOutfit,
    Garment,
    cutout_png,
    draco_compress_glb,
    dress,
    fit_outfit,
    garment_from_file,
    garment_from_photo,
    garment_glb,
    garment_obj_zip,
    garment_thumbnail,
    garment_turntable,
    open_photo,
    outfit_glb,
    photo_to_garment,
    preset_body,
)
from core.pipeline.outfits import as_layer
from tests.conftest import ROOT, photo_bytes


@pytest.mark.slow
def test_the_quickstart_dresses_a_preset_from_a_photo(tmp_path) -> None:
    """No server, database or storage: run from elsewhere, it leaves only the GLB it was asked for."""
    photo, out = tmp_path / "shirt.jpg", tmp_path / "dressed.glb"
    photo.write_bytes(photo_bytes("top"))
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py"), str(photo), str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "top (" in run.stdout and "inside the body" in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dressed.glb", "shirt.jpg"]
    scene = trimesh.load(out)
    assert set(scene.geometry) == {"avatar", "garment_top"}


README_BLOCK = "<!-- tests/test_pipeline_library.py runs this block -->\n```python\n"


def test_the_readme_library_block_runs_as_written(tmp_path, monkeypatch) -> None:
    """The README's "As a library" code, as it is written there: three calls, a dressed GLB."""
    text = (ROOT / "README.md").read_text()
    start = text.index(README_BLOCK) + len(README_BLOCK)
    code = text[start:text.index("```", start)]
    (tmp_path / "shirt.jpg").write_bytes(photo_bytes("top"))
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["garment"].category == "top" and len(scope["outfit"].garments) == 1
    assert set(trimesh.load(tmp_path / "dressed.glb").geometry) == {"avatar", "garment_top"}


def test_a_job_stores_the_export_of_the_library_garment_and_outfit() -> None:
    """photo_to_garment and dress (what core/tasks.py calls) are the library call and its export."""
    image = open_photo(photo_bytes("top"))
    garment = garment_from_photo(image)
    files = photo_to_garment(image, None, "low", REGISTRY["silhouette"])
    assert isinstance(garment, Garment) and garment.category == files.category == "top"
    assert garment_glb(garment) == files.glb
    assert files.stats["parse"] == garment.parse.to_json() == garment.report.source["parse"]
    assert files.stats["faces"] == garment.report.shape["faces"] == len(garment.mesh.faces)
    assert list(files.timings)[-2:] == ["export", "preview"] and "export" not in garment.report.timings

    body = preset_body("slim-woman-160")
    outfit = fit_outfit([garment], body)
    fitted = dress([as_layer(garment)], body, offset_mm=4.0)
    assert isinstance(outfit, FittedOutfit) and outfit.meshes[0] is body.mesh and len(outfit.garments) == 1
    assert outfit_glb(outfit) == fitted.glb
    assert outfit.metrics["inside_share"] == fitted.metrics["inside_share"] and list(outfit.timings) == ["fitting"]


def test_the_export_step_makes_each_file_of_a_garment() -> None:
    """GLB, Draco GLB, OBJ zip and pictures from a photo's garment; an imported GLB is a garment again."""
    garment = garment_from_photo(open_photo(photo_bytes("bottom")), category="bottom")
    glb = garment_glb(garment)
    assert list(trimesh.load(io.BytesIO(glb), file_type="glb").geometry) == ["garment_bottom"]
    assert len(decode_draco_glb(draco_compress_glb(glb))) == 1
    with zipfile.ZipFile(io.BytesIO(garment_obj_zip(garment))) as z:
        assert any(name.endswith(".obj") for name in z.namelist())
    assert garment_thumbnail(garment).startswith(b"\x89PNG") and cutout_png(garment).startswith(b"\x89PNG")
    assert garment_turntable(garment).startswith(b"GIF8")
    imported = garment_from_file(glb, "bottom.glb", category="bottom")
    assert imported.cutout is None and cutout_png(imported) == b""
    assert imported.report.notes[0] == "imported from GLB" and imported.report.source["format"] == "glb"


def test_open_photo_reads_a_photo_as_an_upload_is_read() -> None:
    """A real alpha channel is the cut-out; a file that is no photo is refused with the upload's message."""
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    rgba.paste((200, 30, 30, 255), (16, 16, 48, 48))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    assert open_photo(buf.getvalue()).mode == "RGBA"
    with pytest.raises(UnsupportedMedia, match="not a PNG, JPEG or WebP"):
        open_photo(b"GIF89a not a photo")


def test_an_unknown_preset_names_the_presets() -> None:
    with pytest.raises(ValueError, match="average-man-175"):
        preset_body("giant-300")
