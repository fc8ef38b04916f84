"""The GPU path end to end on the CPU, with tiny random models saved in the official layouts and
loaded through the real loading code (the real weights cannot be downloaded here). The output is
noise: the tests check shapes, types, statuses, and that the weights really drive the output."""

from __future__ import annotations

import io
import shutil
import threading
import time

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image, ImageDraw

from benchmarks.ml_models import build_all
from core.ai import reconstructors
from core.ai.ml import gpu, weights
from core.ai.ml.multiview import load_multiview, square_on_white
from core.ai.ml.reconstruct import Stages, models, reconstruct, run_models
from core.ai.segment import cut_out
from core.config import Settings
from core.errors import InputError, PipelineError, Unavailable
from core.mesh.export import decode_draco_glb
from tests.conftest import photo_bytes
from tests.gltf import validate
from tests.test_service import make_service, wait

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    return build_all(tmp_path_factory.mktemp("models"))


def ml_settings(tmp_path, root, **kw) -> Settings:
    return Settings(**{"data_dir": tmp_path / "data", "job_workers": 1, "model_path": root, "ml_device": "cpu",
                       "ml_steps_low": 2, "ml_steps_med": 3} | kw)


def garment_image() -> Image.Image:
    img = Image.new("RGBA", (240, 320), (0, 0, 0, 0))
    ImageDraw.Draw(img).polygon([(60, 20), (180, 20), (230, 120), (190, 300), (50, 300), (10, 120)],
                                fill=(30, 90, 200, 255))
    return img


def test_generate_job_runs_the_ml_path_to_a_valid_glb(tmp_path, tiny_root) -> None:
    service = make_service(ml_settings(tmp_path, tiny_root))
    try:
        cloth = service.upload_image(io.BytesIO(photo_bytes("top")), "tee.jpg")
        job = wait(service, service.generate_3d(cloth["id"], "zero123+instantmesh", "low")["id"], timeout=300)
        assert job["status"] == "done", job["log"]
        # The GPU lane's process loaded the models as it started (the weights were on disk).
        assert job["model_used"] == "zero123+instantmesh"
        assert "weights in MODEL_PATH, loaded at start-up, on cpu" in job["log"]
        stages = {"reconstruction/weights", "reconstruction/loading models", "reconstruction/multi-view",
                  "reconstruction/triplanes", "reconstruction/surface", "reconstruction/decimate",
                  "reconstruction/colour", "cleanup",
                  "export", "preview"}  # the thumbnail is one of the extras, made after `done`
        assert stages <= set(job["timings"])
        files = service.local_files(job["id"])
        reports = validate(files["glb"], files["gltf"])
        assert [r["errors"] for r in reports] == [0, 0], reports
        mesh = trimesh.load(files["glb"], force="mesh")
        assert isinstance(mesh.visual, trimesh.visual.ColorVisuals) and mesh.visual.vertex_colors.shape[1] == 4
        assert len(mesh.faces) <= 20_000 and mesh.bounds[1][1] == pytest.approx(0.0, abs=1e-3)  # anchor: top
        assert 0.1 < mesh.extents[1] <= 0.70 + 1e-3  # the category's real height (pieces may be dropped)
        draco = decode_draco_glb(files["gltf"].read_bytes())
        assert len(draco) == 1 and len(draco[0].faces) == len(mesh.faces)
        # auto takes the ML path where it can run, and says why.
        job = wait(service, service.generate_3d(cloth["id"], "auto", "low")["id"], timeout=300)
        assert job["status"] == "done" and job["model_used"] == "zero123+instantmesh"
        assert job["log"].startswith("auto: weights in MODEL_PATH")
    finally:
        service.runner.close()


def test_the_weights_drive_the_output(tmp_path, tiny_root) -> None:
    root = tmp_path / "models"
    shutil.copytree(tiny_root, root)
    files = weights.expected(Settings(model_path=root))
    image = square_on_white(garment_image())

    def run() -> tuple[np.ndarray, torch.Tensor, np.ndarray]:
        gpu.cached.cache_clear()
        mv, im = models(files, "large", "cpu")
        grid, planes, v, _ = run_models(mv, im, image, 2, 42, "flexicubes", Stages())
        return grid, planes, v

    grid, planes, v = run()
    assert grid.shape == (960, 640, 3) and grid.dtype == np.float32 and 0 <= grid.min() <= grid.max() <= 1
    assert planes.shape == (1, 3, 4, 16, 16) and v.dtype == np.float32 and len(v) > 100
    again = run()
    assert np.array_equal(grid, again[0]) and torch.equal(planes, again[1])  # same seed, same output

    unet = torch.load(files.white_unet, weights_only=True)
    unet["conv_out.bias"] = unet["conv_out.bias"] + 0.5
    torch.save(unet, files.white_unet)
    grid2, planes2, _ = run()
    assert not np.allclose(grid, grid2)  # the white-background UNet is the one used
    ckpt = torch.load(files.instantmesh, weights_only=True)
    ckpt["state_dict"]["lrm_generator.transformer.deconv.bias"] += 1.0
    torch.save(ckpt, files.instantmesh)
    _, planes3, _ = run()
    assert not torch.allclose(planes2, planes3)
    gpu.cached.cache_clear()


def test_surface_methods_compare_on_the_same_planes(tiny_root) -> None:
    from core.ai.ml.instantmesh.surface import extract_mesh

    gpu.cached.cache_clear()
    mv, im = models(weights.expected(Settings(model_path=tiny_root)), "large", "cpu")
    _, planes, v, f = run_models(mv, im, square_on_white(garment_image()), 1, 1, "flexicubes", Stages())
    v2, f2 = extract_mesh(im, planes, "marching_cubes")
    fc, mc = trimesh.Trimesh(v, f), trimesh.Trimesh(v2, f2)
    from scipy.spatial import cKDTree

    cell = im.cfg.grid_scale / im.cfg.grid_res
    assert np.median(cKDTree(mc.vertices).query(fc.vertices)[0]) < cell
    assert fc.area == pytest.approx(mc.area, rel=0.25)
    with pytest.raises(PipelineError, match="Unknown surface method"):
        extract_mesh(im, planes, "voxels")


def test_texture_map_and_vertex_colours(tmp_path, tiny_root) -> None:
    s = ml_settings(tmp_path, tiny_root, ml_texture="map")
    gpu.cached.cache_clear()
    cutout = cut_out(garment_image())
    mesh, _, _ = reconstruct(cutout, "dress", "low", s)
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    tex = mesh.visual.material.baseColorTexture
    assert tex.size == (512, 512) and mesh.visual.uv.shape == (len(mesh.vertices), 2)
    assert mesh.visual.uv.min() >= 0 and mesh.visual.uv.max() <= 1
    assert mesh.extents[1] == pytest.approx(1.05)  # a dress's height, metres
    assert np.asarray(tex).std() > 0  # colours sampled from the head, not a flat fill
    mesh_v, _, _ = reconstruct(cutout, "dress", "low", ml_settings(tmp_path, tiny_root))
    colours = mesh_v.visual.vertex_colors
    assert colours.dtype == np.uint8 and colours.shape == (len(mesh_v.vertices), 4)


def test_availability_and_the_auto_fallback(tmp_path, tiny_root) -> None:
    plain = Settings(data_dir=tmp_path / "d")  # this machine: no CUDA, no weights
    chosen, note = reconstructors.resolve("auto", plain)
    assert chosen.name == "silhouette" and note == "auto: fell back to silhouette (no CUDA GPU on this machine)"
    with pytest.raises(InputError, match="cannot run here: no CUDA GPU"):
        reconstructors.resolve("zero123+instantmesh", plain)
    empty = Settings(data_dir=tmp_path / "d", ml_device="cpu", model_path=tmp_path / "nothing")
    chosen, note = reconstructors.resolve("auto", empty)
    assert chosen.name == "silhouette" and "MODEL_PATH lacks zero123plus-v1.2/model_index.json" in note
    offline = Settings(data_dir=tmp_path / "d", ml_device="cpu", model_download=False)
    with pytest.raises(InputError, match="MODEL_DOWNLOAD is off"):
        reconstructors.resolve("zero123+instantmesh", offline)
    ok = ml_settings(tmp_path, tiny_root)
    chosen, note = reconstructors.resolve("zero123+instantmesh", ok)
    assert chosen.settings is ok and note.endswith("weights in MODEL_PATH, on cpu")


def test_licences_are_stated() -> None:
    ml = reconstructors.licence_note("zero123+instantmesh")
    assert "CC BY-NC 4.0" in ml and "Apache-2.0" in ml and "non-commercial" in ml
    assert "CC BY-NC 4.0" in reconstructors.licence_note("auto")
    assert set(reconstructors.LICENCES) == set(reconstructors.MODELS) - {"auto"}


def test_weights_download_lazily_with_progress(tmp_path, tiny_root, monkeypatch) -> None:
    import huggingface_hub

    repos = {weights.ZERO123_REPO: tiny_root / weights.ZERO123_DIR,
             weights.INSTANTMESH_REPO: tiny_root / weights.INSTANTMESH_DIR}
    calls = []

    def list_repo_files(repo):
        return sorted(str(p.relative_to(repos[repo])) for p in repos[repo].rglob("*") if p.is_file())

    def hf_hub_download(repo, name, local_dir):
        calls.append(name)
        (local_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repos[repo] / name, local_dir / name)
        return str(local_dir / name)

    monkeypatch.setattr(huggingface_hub, "list_repo_files", list_repo_files)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hf_hub_download)
    s = Settings(data_dir=tmp_path / "data", ml_device="cpu")
    assert weights.status(s) == (True, "weights will be downloaded from Hugging Face on first use (about 5 GB)")
    lines: list[str] = []
    files = weights.ensure(s, lines.append)
    assert not weights.missing(files) and files.zero123.parent == s.cache_dir / "models"
    assert lines[0].startswith("downloading weights 1/") and any("InstantMesh/instant_mesh_large.ckpt" in x
                                                               for x in lines)
    assert "unet/config.json" in calls and weights.WHITE_UNET in calls
    assert not any(c.startswith("unet/") and c.endswith(".safetensors") for c in calls)
    assert weights.status(s)[1] == "weights in the download cache"
    calls.clear()
    weights.ensure(s)
    assert calls == []  # once only

    def broken(*a, **k):
        raise OSError("network unreachable")

    monkeypatch.setattr(huggingface_hub, "list_repo_files", broken)
    with pytest.raises(Unavailable, match="Downloading the model weights failed: OSError: network unreachable"):
        weights.ensure(Settings(data_dir=tmp_path / "other", ml_device="cpu"))


def test_out_of_memory_becomes_a_job_error_and_the_process_keeps_serving(tmp_path, tiny_root, monkeypatch) -> None:
    from core.ai.ml import reconstruct as rec

    s = ml_settings(tmp_path, tiny_root)
    cutout = cut_out(garment_image())
    real = rec.run_models

    def oom(*a, **k):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(rec, "run_models", oom)
    with pytest.raises(PipelineError, match="The GPU ran out of memory"):
        reconstruct(cutout, "top", "low", s)
    monkeypatch.setattr(rec, "run_models", real)
    mesh, _, _ = reconstruct(cutout, "top", "low", s)  # the same process, its cached models, serves on
    assert len(mesh.faces) > 0


def test_gpu_jobs_are_queued_one_at_a_time(tmp_path) -> None:
    s = Settings(data_dir=tmp_path / "data", gpu_concurrency=1)
    inside, waits, order = threading.Event(), [], []

    def first():
        with gpu.gpu_slot(s):
            inside.set()
            time.sleep(0.6)
            order.append("first done")

    t = threading.Thread(target=first)
    t.start()
    inside.wait(5)
    with gpu.gpu_slot(s, waits.append):
        order.append("second in")
    t.join()
    assert order == ["first done", "second in"] and waits == ["waiting for the GPU"]
    two = Settings(data_dir=tmp_path / "data", gpu_concurrency=2)
    with gpu.gpu_slot(two), gpu.gpu_slot(two, waits.append):
        pass
    assert waits == ["waiting for the GPU"]  # a second slot: no wait


def test_the_time_limit_stops_an_ml_job(tmp_path, tiny_root) -> None:
    service = make_service(ml_settings(tmp_path, tiny_root, generate_timeout_s=4, ml_steps_low=200))
    try:
        cloth = service.upload_image(io.BytesIO(photo_bytes("top")), "tee.jpg")
        job = wait(service, service.generate_3d(cloth["id"], "zero123+instantmesh", "low")["id"], timeout=120)
        assert job["status"] == "error" and "timed out after 4 s" in job["log"]
    finally:
        service.runner.close()


@pytest.mark.parametrize("damage", ["truncate", "wrong-keys", "no-ramp"])
def test_damaged_multiview_weights_give_a_clear_error(tmp_path, tiny_root, damage) -> None:
    root = tmp_path / "models"
    shutil.copytree(tiny_root, root)
    files = weights.expected(Settings(model_path=root))
    if damage == "truncate":
        files.white_unet.write_bytes(files.white_unet.read_bytes()[:1000])
    elif damage == "wrong-keys":
        torch.save({"conv_in.weight": torch.zeros(1)}, files.white_unet)
    else:
        (files.zero123 / "model_index.json").write_text('{"ramping_coefficients": [1.0, 2.0]}')
    with pytest.raises(PipelineError, match="Zero123\\+\\+"):
        load_multiview(files.zero123, files.white_unet, "cpu", torch.float32)


def test_zero123_gets_a_soft_alpha() -> None:
    """The mask is feathered inwards: no hard rim on white, and nothing of the photo's background."""
    from core.ai.ml.reconstruct import cutout_rgba

    image = garment_image()
    cutout = cut_out(image)
    alpha = np.asarray(cutout_rgba(cutout).getchannel("A"))
    assert (alpha[~cutout.mask] == 0).all()  # the background stays out
    assert alpha.max() == 255 and ((alpha > 0) & (alpha < 255)).sum() > 100  # a soft edge all round
    edge = (alpha > 0) & (alpha < 255)
    assert cutout.mask[edge].all()
    white = np.asarray(square_on_white(cutout_rgba(cutout)))
    blended = (white.min(axis=2) > 40) & (white.min(axis=2) < 215)  # between the blue cloth and white
    assert blended.sum() > 100


def test_every_multiview_part_takes_the_dtype(tiny_root) -> None:
    files = weights.expected(Settings(model_path=tiny_root))
    mv = load_multiview(files.zero123, files.white_unet, "cpu", torch.float16)
    for part in (mv.unet, mv.vae, mv.text_encoder, mv.vision_encoder):
        assert {p.dtype for p in part.parameters()} == {torch.float16}, type(part).__name__
