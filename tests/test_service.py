"""The service layer with its real job runner (worker processes), database and storage."""

from __future__ import annotations

import io
import time

import pytest
import trimesh
from sqlmodel import select

from core.context import context_for
from core.db import session_scope
from core.errors import InputError, NotFound, PayloadTooLarge, Unavailable, UnsupportedMedia
from core.jobs import JobRunner
from core.mesh.export import decode_draco_glb
from core.models import Cloth
from core.service import FitroomService
from tests.conftest import AsCaller, new_caller, photo_bytes
from tests.test_back import BLUE, GREEN, RED, drawn, near, photo_bytes_of, side_texels
from tests.test_uploads import png_bomb

pytestmark = pytest.mark.both_dbs

def make_service(settings) -> AsCaller:
    """The real service with its own worker pool, as one new anonymous user calls it."""
    runner = JobRunner(settings)
    service = FitroomService(context_for(settings), runner)
    service.start()
    return AsCaller(service, new_caller(service))


@pytest.fixture
def service(settings):
    svc = make_service(settings)
    yield svc
    svc.runner.close()


def wait(service, job_id: str, timeout: float = 60, **caller) -> dict:
    deadline = time.monotonic() + timeout
    while (job := service.get_result(job_id, **caller))["status"] == "processing":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


def stored_objects(service) -> list:
    return sorted(p for p in service.ctx.settings.objects_dir.rglob("*") if p.is_file()
                  and "presets" not in p.parts)


def test_photo_to_fitted_avatar(service) -> None:
    cloth = service.upload_image(io.BytesIO(photo_bytes("top")), "tee.jpg")
    assert cloth["status"] == "uploaded" and cloth["width"] == 768
    job = service.generate_3d(cloth["id"], "auto", "low")
    assert job["status"] == "processing"
    job = wait(service, job["id"])
    assert job["status"] == "done", job["log"]
    assert job["model_used"] == "silhouette" and "fell back to silhouette" in job["log"]
    assert job["category"] == "top" and set(job["timings"]) >= {"cut-out", "reconstruction", "export"}
    files = service.local_files(job["id"])
    mesh = trimesh.load(files["glb"], force="mesh")
    assert job["stats"]["openings"] == 4  # neck, hem, two sleeves
    assert len(decode_draco_glb(files["gltf"].read_bytes())[0].faces) == len(mesh.faces)

    deadline = time.monotonic() + 30  # the OBJ zip and turntable follow the finished garment
    while not (extras := service.get_result(job["id"]))["turntable_url"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert extras["obj_url"].split("?")[0].endswith("garment.obj.zip") and "turntable" in extras["timings"]
    gif = service.local_files(job["id"])["turntable"].read_bytes()
    assert gif[:6] == b"GIF89a"

    presets = service.list_presets()
    assert [p["slug"] for p in presets] == ["slim-woman-160", "average-man-175", "tall-man-185"]
    session = wait(service, service.fit(job["id"], presets[1]["id"])["id"])
    assert session["status"] == "done", session["log"]
    assert session["metrics"]["inside_share"] == 0.0
    fitted = trimesh.load(service.local_files(session["id"])["fitted_glb"], force="scene")
    assert set(fitted.graph.nodes_geometry) == {"avatar", "garment_top"}
    result = service.get_result(session["id"])
    assert result["fitted_draco_glb_url"].split("?")[0].endswith("fitted.draco.glb")
    assert result["fitted_gltf_url"] == result["fitted_draco_glb_url"]  # the design notes' name for it


def test_bad_upload_leaves_nothing(service) -> None:
    for data, error in ((b"", InputError), (b"<svg/>", InputError), (photo_bytes()[:2000], InputError)):
        with pytest.raises(error):
            service.upload_image(io.BytesIO(data), "x.png")
    with pytest.raises(PayloadTooLarge):
        service.upload_image(io.BytesIO(b"\xff\xd8\xff" + b"\0" * (11 * 2**20)), "big.jpg")
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth)).all() == []
    assert stored_objects(service) == []


def test_a_back_photo_is_stored_with_the_garment_and_textures_its_back(service) -> None:
    front, back = photo_bytes_of(drawn(RED)[0], "JPEG"), photo_bytes_of(drawn(BLUE, left=GREEN)[0])
    cloth = service.upload_image(io.BytesIO(front), "front.jpg", io.BytesIO(back))
    assert cloth["image_url"].split("?")[0].endswith(f"clothes/{cloth['id']}/photo.jpg")
    assert cloth["back_image_url"].split("?")[0].endswith(f"clothes/{cloth['id']}/back.jpg")
    assert cloth["size_bytes"] == len(front) + len(back)  # what the upload quotas count
    job = wait(service, service.generate_3d(cloth["id"], "silhouette", "low")["id"])
    assert job["status"] == "done", job["log"]
    assert job["stats"]["back"]["source"] == "photo"
    mesh = trimesh.load(service.local_files(job["id"])["glb"], force="mesh")
    texels, x = side_texels(mesh, "back")
    assert near(texels[x > 0.03], GREEN).mean() > 0.95 and near(texels[x < -0.03], BLUE).mean() > 0.95
    assert near(side_texels(mesh, "front")[0], RED).mean() > 0.95
    plain = service.upload_image(io.BytesIO(front), "front.jpg")
    assert plain["back_image_url"] is None


def test_a_bad_back_photo_is_refused_as_a_front_would_be_and_leaves_nothing(service) -> None:
    front = photo_bytes()
    for data, error, text in ((b"", InputError, "empty"), (b"<svg/>", UnsupportedMedia, "not a PNG"),
                              (photo_bytes()[:2000], InputError, "damaged or truncated"),
                              (png_bomb(20000), InputError, "too large"),
                              (b"\xff\xd8\xff" + b"\0" * (11 * 2**20), PayloadTooLarge, "limit")):
        with pytest.raises(error, match=f"^The back photo: .*{text}"):
            service.upload_image(io.BytesIO(front), "x.jpg", io.BytesIO(data))
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth)).all() == []
    assert stored_objects(service) == []


def test_storage_failure_leaves_no_row(service, monkeypatch) -> None:
    def broken(*_args, **_kw):
        raise Unavailable("object storage is unreachable")

    monkeypatch.setattr(service.ctx.storage, "put_bytes", broken)
    with pytest.raises(Unavailable):
        service.upload_image(io.BytesIO(photo_bytes()), "tee.jpg")
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth)).all() == []
    monkeypatch.undo()
    put = service.ctx.storage.put_bytes

    def back_fails(key, *args, **kw):  # the front is stored, then the back's write fails
        if "/back." in key:
            raise Unavailable("object storage is unreachable")
        return put(key, *args, **kw)

    monkeypatch.setattr(service.ctx.storage, "put_bytes", back_fails)
    with pytest.raises(Unavailable):
        service.upload_image(io.BytesIO(photo_bytes()), "tee.jpg", io.BytesIO(photo_bytes()))
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth)).all() == []
    assert stored_objects(service) == []


@pytest.mark.parametrize("args,error,text", [
    (("not-a-uuid", "auto", "low"), InputError, "not a valid id"),
    (("00000000-0000-4000-8000-000000000000", "auto", "low"), NotFound, "No garment photo"),
    (("00000000-0000-4000-8000-000000000000", "magic", "low"), InputError, "Unknown model"),
    (("00000000-0000-4000-8000-000000000000", "auto", "ultra"), InputError, "Unknown quality"),
    (("00000000-0000-4000-8000-000000000000", "zero123+instantmesh", "low"), InputError, "cannot run here"),
])
def test_generate_refuses_bad_requests(service, args, error, text) -> None:
    with pytest.raises(error, match=text):
        service.generate_3d(*args)


def test_generate_refuses_unknown_category(service) -> None:
    cloth = service.upload_image(io.BytesIO(photo_bytes()), "t.jpg")
    with pytest.raises(InputError, match="Unknown category"):
        service.generate_3d(cloth["id"], "silhouette", "low", "hat")


def test_fit_refuses_bad_requests(service) -> None:
    preset = service.list_presets()[0]["id"]
    with pytest.raises(InputError, match="at least one"):
        service.fit([], preset)
    with pytest.raises(NotFound, match="No 3D garment"):
        service.fit("00000000-0000-4000-8000-000000000000", preset)
    with pytest.raises(NotFound, match="No avatar preset"):
        service.fit("00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001")
    with pytest.raises(InputError, match="At most 3"):
        service.fit(["00000000-0000-4000-8000-000000000000"] * 4, preset)
    with pytest.raises(NotFound):
        service.get_result("00000000-0000-4000-8000-000000000000")


def test_job_past_its_time_limit_ends_as_error(settings) -> None:
    svc = make_service(settings.model_copy(update={"generate_timeout_s": 0.05}))
    try:
        cloth = svc.upload_image(io.BytesIO(photo_bytes()), "t.jpg")
        job = wait(svc, svc.generate_3d(cloth["id"], "silhouette", "low")["id"])
        assert job["status"] == "error" and "timed out after 0.05 s" in job["log"]
        # The pool replaced the killed worker: a second job is taken too (and also times out).
        second = wait(svc, svc.generate_3d(cloth["id"], "silhouette", "low")["id"])
        assert second["status"] == "error" and "timed out" in second["log"]
    finally:
        svc.runner.close()


def test_closing_the_runner_ends_running_jobs(settings) -> None:
    svc = make_service(settings)
    cloth = svc.upload_image(io.BytesIO(photo_bytes()), "t.jpg")
    job = svc.generate_3d(cloth["id"], "silhouette", "med")
    svc.runner.close()
    ended = svc.get_result(job["id"])  # no waiting: close() has settled every job
    assert ended["status"] in ("done", "error")
    if ended["status"] == "error":
        assert "interrupted" in ended["log"]


def test_health_names_the_failure(service, monkeypatch) -> None:
    # the pool not started (nothing warmed yet): not ready, and said so (tests/test_jobs.py warms one)
    assert service.health() == {"database": "ok", "storage": "ok", "workers": "warming: 0 of 1 workers ready"}
    monkeypatch.setattr(service.ctx.storage, "check", lambda: (_ for _ in ()).throw(Unavailable("disk gone")))
    assert service.health()["storage"] == "failed: disk gone"


def test_import_then_fit(service) -> None:
    from tests.test_importer import exported, garment

    data = exported(garment("bottom").apply_scale(100.0), "obj")  # centimetres
    job = service.upload_garment_3d(io.BytesIO(data), "trousers.obj")
    assert job["status"] == "done" and job["model_used"] == "import" and job["category"] == "bottom"
    assert "units guessed as cm" in job["log"]
    assert job["glb_url"] and job["gltf_url"] == job["draco_glb_url"]  # usable at once; the extras follow
    deadline = time.monotonic() + 30
    while not (extras := service.get_result(job["id"]))["turntable_url"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert extras["obj_url"]
    preset = service.list_presets()[0]["id"]
    session = wait(service, service.fit(job["id"], preset)["id"])
    assert session["status"] == "done" and session["metrics"]["inside_share"] == 0.0


def test_bad_import_leaves_nothing(service) -> None:
    from core.models import Cloth3D

    for data in (b"", b"not a mesh at all", b"v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"):
        with pytest.raises(InputError):
            service.upload_garment_3d(io.BytesIO(data), "x.obj")
    with pytest.raises(InputError, match="Unknown category"):
        service.upload_garment_3d(io.BytesIO(b"v 0 0 0\n"), "x.obj", category="hat")
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth3D)).all() == []
    assert stored_objects(service) == []


def test_an_import_that_cannot_start_in_time_is_a_503_and_leaves_nothing(service, monkeypatch) -> None:
    """Queued behind other work past its time limit, an import is the server's delay, not the file's
    fault: 503, and neither its row nor its stored file is kept."""
    import core.services.garments
    from core.models import Cloth3D
    from tests.test_importer import exported, garment

    monkeypatch.setattr(service.runner, "submit", lambda *a, **kw: None)  # the pool never gets to it
    monkeypatch.setattr(core.services.garments, "IMPORT_GRACE_S", 0.3)
    monkeypatch.setattr(service.ctx.settings, "generate_timeout_s", 0.2)
    with pytest.raises(Unavailable, match="busy"):
        service.upload_garment_3d(io.BytesIO(exported(garment("top"), "glb")), "g.glb")
    with session_scope(service.ctx.engine) as s:
        assert s.exec(select(Cloth3D)).all() == []
    assert stored_objects(service) == []


@pytest.mark.slow
def test_custom_avatar_from_measurements(service) -> None:
    asked = {"height_cm": 170, "chest_cm": 92, "waist_cm": 74, "hips_cm": 100, "gender": "female"}  # curvy
    job = service.create_avatar(**asked)
    assert job["status"] == "processing" and job["kind"] == "avatar"
    again = service.create_avatar(**asked)
    assert again["id"] == job["id"]  # the same measurements are not built twice
    avatar = wait(service, job["id"], timeout=170)
    assert avatar["status"] == "done", avatar["log"]
    got = avatar["measurements"]
    for key in ("height", "chest", "waist", "hips"):
        assert abs(got[f"{key}_cm"] - asked[f"{key}_cm"]) <= 1.0, (key, got)
    assert avatar["id"] in [p["id"] for p in service.list_presets()]
    session = wait(service, service.fit(
        wait(service, service.generate_3d(service.upload_image(io.BytesIO(photo_bytes()), "t.jpg")["id"],
                                          "silhouette", "low")["id"])["id"], avatar["id"])["id"])
    assert session["status"] == "done" and session["metrics"]["inside_share"] == 0.0


@pytest.mark.parametrize("args,text", [
    ((120, 90, 70, 95, "female"), "height must be between"),
    ((170, 90, 70, 95, "robot"), "Unknown gender"),
    ((170, float("nan"), 70, 95, "male"), "chest must be between"),
    ((170, "wide", 70, 95, "male"), "must be numbers"),
])
def test_custom_avatar_refuses_bad_measurements(service, args, text) -> None:
    with pytest.raises(InputError, match=text):
        service.create_avatar(*args)


def test_a_custom_avatar_of_an_older_build_is_built_again(settings) -> None:
    """A custom avatar stored by an older build of the bodies (whose joints were off the limbs)
    is built again, in place, when its measurements are asked for; one of this build is not."""
    from core.avatars.builder import BUILD
    from core.models import AvatarPreset

    class Recorder:
        def __init__(self) -> None:
            self.submitted: list[str] = []

        def submit(self, model, job_id: str, timeout: float, owner: str | None = None) -> None:
            self.submitted.append(job_id)

    runner = Recorder()
    service = FitroomService(context_for(settings), runner)
    service.start()
    service = AsCaller(service, new_caller(service))
    asked = {"height_cm": 168.0, "chest_cm": 90.0, "waist_cm": 72.0, "hips_cm": 98.0, "gender": "female"}
    first = service.create_avatar(**asked)

    def finish(build: int | None) -> None:
        with session_scope(service.ctx.engine) as s:
            row = s.get(AvatarPreset, first["id"])
            marker = {"build": build} if build else {}
            row.status, row.params = "done", {**asked, "phenotype": {"height": 0.5}, **marker}
            s.add(row)
            s.commit()

    finish(None)  # built before builds were marked
    again = service.create_avatar(**asked)
    assert again["id"] == first["id"] and again["status"] == "processing"
    assert runner.submitted == [first["id"], first["id"]]
    with session_scope(service.ctx.engine) as s:
        assert s.get(AvatarPreset, first["id"]).params == asked  # what the job builds from
    finish(BUILD)
    assert service.create_avatar(**asked)["status"] == "done" and len(runner.submitted) == 2
