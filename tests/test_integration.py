"""The running app (`python app.py`), driven like its users do: REST with requests, the Gradio API
with gradio_client. Photos are drawn by the test; every output file is opened and checked."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import requests
import trimesh
from gradio_client import Client, handle_file

from core.mesh.cleanup import opening_count
from core.mesh.export import decode_draco_glb
from core.tasks import FIT_STAGES, GENERATE_STAGES
from tests.conftest import ROOT, auth_headers, authed_session, photo_bytes
from tests.gltf import validate
from tests.test_back import BLUE, GREEN, RED, drawn, near, photo_bytes_of, side_texels

pytestmark = pytest.mark.slow


def get(base: str, url: str) -> bytes:
    r = requests.get(url if url.startswith("http") else base + url, timeout=30)
    r.raise_for_status()
    return r.content


def poll(http: requests.Session, base: str, path: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(base + path, timeout=10).json()
        if job["status"] != "processing":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.3)


def extras(http: requests.Session, base: str, path: str, timeout: float = 30) -> dict:
    """A finished job once its extras (made after `done`) are there."""
    deadline = time.monotonic() + timeout
    while (job := http.get(base + path, timeout=10).json())["extras"] == "pending":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["extras"] == "done", job
    return job


def check_valid_gltf(base: str, tmp_path, *urls: str) -> None:
    """Every GLB the app serves passes the Khronos glTF validator with no error."""
    paths = []
    for i, url in enumerate(urls):
        paths.append(tmp_path / f"{i}.glb")
        paths[-1].write_bytes(get(base, url))
    reports = validate(*paths)
    assert [r["errors"] for r in reports] == [0] * len(urls), reports


def check_fitted(base: str, session: dict, garment_node: str) -> None:
    scene = trimesh.load(trimesh.util.wrap_as_stream(get(base, session["fitted_glb_url"])),
                         file_type="glb", force="scene")
    assert set(scene.graph.nodes_geometry) == {"avatar", garment_node}
    avatar = scene.geometry["avatar"]
    garment = scene.geometry[garment_node]
    assert not avatar.contains(garment.vertices).any(), "a garment vertex is inside the avatar"
    decoded = decode_draco_glb(get(base, session["fitted_gltf_url"]))
    assert sorted(len(d.faces) for d in decoded) == sorted([len(avatar.faces), len(garment.faces)])


@pytest.mark.parametrize("category", ["top", "bottom", "dress"])
def test_rest_flow(live_app: str, category: str, tmp_path) -> None:
    base = live_app
    http = authed_session(base)
    r = http.post(base + "/clothes/upload-image",
                  files={"file": (f"{category}.png", photo_bytes(category, fmt="PNG"), "image/png")},
                  timeout=30)
    assert r.status_code == 201, r.text
    cloth = r.json()
    assert cloth["status"] == "uploaded" and get(base, cloth["image_url"])[:3] == b"\xff\xd8\xff"
    r = http.post(f"{base}/clothes/{cloth['id']}/generate-3d", json={"model": "silhouette", "quality": "low"},
                  timeout=30)
    assert r.status_code == 202 and r.json()["status"] == "processing"
    job = poll(http, base, f"/clothes3d/{r.json()['id']}")
    assert job["status"] == "done", job["log"]
    assert job["category"] == category
    mesh = trimesh.load(trimesh.util.wrap_as_stream(get(base, job["glb_url"])), file_type="glb", force="mesh")
    assert len(mesh.faces) <= 10_000
    assert job["stats"]["openings"] == opening_count(mesh) == (3 if category == "bottom" else 4)
    assert len(decode_draco_glb(get(base, job["gltf_url"]))[0].faces) == len(mesh.faces)
    job = extras(http, base, f"/clothes3d/{job['id']}")  # the thumbnail follows `done`, with the OBJ and turntable
    assert get(base, job["thumb_url"])[:8] == b"\x89PNG\r\n\x1a\n"

    presets = http.get(base + "/avatar-presets", timeout=10).json()
    # the three seeded presets come first; this user's custom avatars (none here) would follow them
    assert [p["is_custom"] for p in presets[:3]] == [False] * 3
    assert all(p["thumbnail_url"] and p["gltf_url"] for p in presets)
    assert [p["is_custom"] for p in presets] == [False] * 3  # other tests' custom avatars are theirs alone
    r = http.post(base + "/fit", json={"cloth3d_id": job["id"], "avatar_preset_id": presets[0]["id"]},
                  timeout=30)
    assert r.status_code == 202
    session = poll(http, base, f"/session/{r.json()['id']}/result")
    assert session["status"] == "done", session["log"]
    assert session["metrics"]["inside_share"] == 0.0
    check_fitted(base, session, f"garment_{category}")
    check_valid_gltf(base, tmp_path, job["glb_url"], job["gltf_url"], session["fitted_glb_url"],
                     session["fitted_gltf_url"], presets[0]["glb_url"], presets[0]["gltf_url"])


def test_gradio_client_flow(live_app: str, tmp_path) -> None:
    photo = tmp_path / "dress.webp"
    photo.write_bytes(photo_bytes("dress", fmt="WEBP"))
    client = Client(live_app, verbose=False, headers=auth_headers(live_app))
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(api) == {"/new_token", "/upload_image", "/generate_3d", "/list_presets", "/fit", "/get_result",
                        "/upload_garment_3d", "/create_avatar", "/photo_to_3d", "/dress"}
    params = api["/generate_3d"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["cloth_id", "model", "quality", "category", "user_id"]
    assert [p["parameter_has_default"] for p in params] == [False, True, True, True, True]
    assert [p["parameter_default"] for p in params[1:3]] == ["auto", "low"]
    fit_params = [p["parameter_name"] for p in api["/fit"]["parameters"]]
    assert fit_params == ["cloth3d_id", "avatar_preset_id", "ease", "tuck_in", "user_id"]  # optional ones last
    cloth = client.predict(handle_file(str(photo)), api_name="/upload_image")
    job = client.predict(cloth["id"], "silhouette", "low", api_name="/generate_3d")
    deadline = time.monotonic() + 90
    while job["status"] == "processing" and time.monotonic() < deadline:
        time.sleep(0.3)
        job = client.predict(job["id"], api_name="/get_result")
    assert job["status"] == "done" and job["category"] == "dress"
    assert job["glb_url"].startswith(live_app + "/files/") and job["page_url"] == f"{live_app}/?garment={job['id']}"
    presets = client.predict(api_name="/list_presets")
    assert presets[2]["glb_url"].startswith(live_app + "/files/")
    session = client.predict(job["id"], presets[2]["id"], api_name="/fit")
    while session["status"] == "processing" and time.monotonic() < deadline:
        time.sleep(0.3)
        session = client.predict(session["id"], api_name="/get_result")
    assert session["status"] == "done"
    check_fitted(live_app, session, "garment_dress")
    with pytest.raises(Exception, match="not a valid id"):
        client.predict("../../etc/passwd", "silhouette", "low", api_name="/generate_3d")


def test_a_back_photo_round_trips_through_rest_and_gradio_onto_the_back(live_app: str, tmp_path) -> None:
    """A red front and a back photo, blue with its picture's left half green (the wearer's left):
    uploaded over REST and over the Gradio API, each garment's GLB is red in front, and blue and
    green behind, the green on the wearer's left (+x)."""
    front, back = photo_bytes_of(drawn(RED)[0], "JPEG"), photo_bytes_of(drawn(BLUE, left=GREEN)[0])
    http = authed_session(live_app)
    r = http.post(live_app + "/clothes/upload-image", files={"file": ("front.jpg", front, "image/jpeg"),
                                                             "back": ("back.png", back, "image/png")}, timeout=30)
    assert r.status_code == 201, r.text
    by_rest = r.json()
    (tmp_path / "front.jpg").write_bytes(front)
    (tmp_path / "back.png").write_bytes(back)
    client = Client(live_app, verbose=False, headers=dict(http.headers))
    by_gradio = client.predict(handle_file(str(tmp_path / "front.jpg")), handle_file(str(tmp_path / "back.png")),
                               api_name="/upload_image")
    assert by_gradio["user_id"] == by_rest["user_id"]
    for cloth in (by_rest, by_gradio):
        assert get(live_app, cloth["back_image_url"])[:3] == b"\xff\xd8\xff"  # stored, re-encoded
        job = client.predict(cloth["id"], "silhouette", "low", api_name="/generate_3d")
        job = poll(http, live_app, f"/clothes3d/{job['id']}")
        assert job["status"] == "done", job["log"]
        assert job["stats"]["back"]["source"] == "photo"
        mesh = trimesh.load(trimesh.util.wrap_as_stream(get(live_app, job["glb_url"])), file_type="glb", force="mesh")
        assert near(side_texels(mesh, "front")[0], RED).mean() > 0.95
        texels, x = side_texels(mesh, "back")
        assert near(texels[x > 0.03], GREEN).mean() > 0.95 and near(texels[x < -0.03], BLUE).mean() > 0.95
        check_valid_gltf(live_app, tmp_path, job["glb_url"], job["gltf_url"])
    plain = client.predict(handle_file(str(tmp_path / "front.jpg")), api_name="/upload_image")
    assert plain["back_image_url"] is None


def test_gradio_api_page_documents_every_operation(live_app: str) -> None:
    """The "Use via API" page: each public operation with a description and named parameters
    whose choices are the accepted values."""
    info = requests.get(live_app + "/gradio_api/info", timeout=30).json()["named_endpoints"]
    expected = {"/new_token": [], "/upload_image": ["file", "back", "user_id"],
                "/generate_3d": ["cloth_id", "model", "quality", "category", "user_id"],
                "/list_presets": [], "/fit": ["cloth3d_id", "avatar_preset_id", "ease", "tuck_in", "user_id"],
                "/get_result": ["job_id", "user_id"],
                "/upload_garment_3d": ["file", "category", "units", "up", "user_id"],
                "/create_avatar": ["height_cm", "chest_cm", "waist_cm", "hips_cm", "gender", "user_id"],
                "/photo_to_3d": ["photo", "model", "quality", "category", "back", "user_id"],
                "/dress": ["cloth3d_id", "avatar_preset_id", "ease", "tuck_in", "user_id"]}
    assert set(info) == set(expected)
    for name, params in expected.items():
        assert [p["parameter_name"] for p in info[name]["parameters"]] == params, name
        assert len(info[name]["description"]) > 30, name
    quality = info["/generate_3d"]["parameters"][2]
    assert quality["type"]["enum"] == ["low", "med"] and quality["parameter_default"] == "low"
    for name in ("/photo_to_3d", "/dress"):  # a file, then the record
        assert [r["component"] for r in info[name]["returns"]] == ["File", "Json"], info[name]["returns"]


README_SCRIPT = "<!-- tests/test_integration.py runs this block against a live app -->\n```python\n"


def test_readme_script_makes_a_local_fitted_glb(live_app: str, tmp_path, monkeypatch) -> None:
    """The README's gradio_client script, as it is written there: a photo in, a local fitted GLB out,
    in at most 10 lines, with no polling loop and no URL handling."""
    text = (ROOT / "README.md").read_text()
    start = text.index(README_SCRIPT) + len(README_SCRIPT)
    code = text[start:text.index("```", start)]
    assert len(code.strip().splitlines()) <= 10 and "while" not in code and "url" not in code.replace("URL", "")
    (tmp_path / "tshirt.jpg").write_bytes(photo_bytes("top"))
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code.replace("http://127.0.0.1:7860", live_app), "README.md", "exec"), scope)
    fitted, fitting, glb, garment = (scope[k] for k in ("fitted", "fitting", "glb", "garment"))
    assert garment["status"] == fitting["status"] == "done" and garment["category"] == "top"
    assert Path(glb).suffix == Path(fitted).suffix == ".glb"
    assert Path(glb).read_bytes() == get(live_app, garment["glb_url"])  # the record's URLs are absolute
    assert Path(fitted).read_bytes() == get(live_app, fitting["fitted_glb_url"])
    scene = trimesh.load(fitted, force="scene")
    assert set(scene.graph.nodes_geometry) == {"avatar", "garment_top"}
    assert fitting["metrics"]["inside_share"] == 0.0


def _stages(job) -> tuple[set[str], object]:
    """The stages a submitted call's progress named while it ran, and its result."""
    seen: set[str] = set()
    while not job.done():
        seen |= {u.desc.split(" · ")[0] for u in job.status().progress_data or [] if u.desc}
        time.sleep(0.02)
    return seen, job.result()


def test_one_call_operations_stream_stages_and_refuse_with_messages(live_app: str, tmp_path) -> None:
    photo = tmp_path / "trousers.png"
    photo.write_bytes(photo_bytes("bottom", fmt="PNG"))
    client = Client(live_app, verbose=False, headers=auth_headers(live_app))
    seen, (glb, garment) = _stages(client.submit(handle_file(str(photo)), "silhouette", api_name="/photo_to_3d"))
    assert seen and seen <= set(GENERATE_STAGES), seen
    assert garment["category"] == "bottom" and garment["extras"] in ("pending", "done")
    assert len(trimesh.load(glb, force="mesh").faces) == garment["stats"]["faces"]
    avatar = client.predict(api_name="/list_presets")[0]["id"]
    seen, (fitted, fitting) = _stages(client.submit(garment["id"], avatar, "loose", api_name="/dress"))
    assert seen and seen <= set(FIT_STAGES), seen
    assert fitting["layers"] == [garment["id"]] and fitting["metrics"]["ease"] == "loose"
    assert Path(fitted).read_bytes() == get(live_app, fitting["fitted_glb_url"])
    deadline = time.monotonic() + 15
    while (job := client.predict(garment["id"], api_name="/get_result"))["extras"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["extras"] == "done" and job["obj_url"].startswith(live_app + "/files/")  # get_result has them
    with pytest.raises(Exception, match="Unknown quality 'ultra'"):
        client.predict(handle_file(str(photo)), "auto", "ultra", api_name="/photo_to_3d")
    other = Client(live_app, verbose=False, headers=auth_headers(live_app))
    with pytest.raises(Exception, match="No 3D garment"):  # another user's garment is not there for them
        other.predict(garment["id"], avatar, api_name="/dress")


def test_gradio_client_custom_avatar(live_app: str) -> None:
    client = Client(live_app, verbose=False, headers=auth_headers(live_app))
    job = client.predict(171, 94, 80, 99, "male", api_name="/create_avatar")
    assert job["kind"] == "avatar" and job["status"] in ("processing", "done")
    deadline = time.monotonic() + 240
    while job["status"] == "processing" and time.monotonic() < deadline:
        time.sleep(1)
        job = client.predict(job["id"], api_name="/get_result")
    assert job["status"] == "done", job["log"]
    assert job["id"] in [a["id"] for a in client.predict(api_name="/list_presets")]
    assert client.predict(171, 94, 80, 99, "male", api_name="/create_avatar")["id"] == job["id"]  # cached
    other = Client(live_app, verbose=False, headers=auth_headers(live_app))  # a custom avatar is its owner's
    assert job["id"] not in [a["id"] for a in other.predict(api_name="/list_presets")]
    with pytest.raises(Exception, match="No job"):
        other.predict(job["id"], api_name="/get_result")
    with pytest.raises(Exception, match=r"not in the list of choices|female or male"):
        client.predict(171, 94, 80, 99, "robot", api_name="/create_avatar")


@pytest.mark.parametrize("method,path,body,status", [
    ("post", "/clothes/not-a-uuid/generate-3d", {}, 400),
    ("post", "/clothes/00000000-0000-4000-8000-000000000000/generate-3d", {}, 404),
    ("post", "/clothes/00000000-0000-4000-8000-000000000000/generate-3d", {"quality": "ultra"}, 422),
    ("post", "/fit", {"avatar_preset_id": "x"}, 422),
    ("post", "/fit", {"cloth3d_id": "x", "avatar_preset_id": "y"}, 400),
    ("get", "/session/00000000-0000-4000-8000-000000000000/result", None, 404),
    ("get", "/clothes3d/%2e%2e%2f%2e%2e%2fetc", None, 404),
    ("get", "/clothes3d/1%27%20OR%201=1", None, 400),
    ("get", "/files/../../app.py", None, 404),
    ("get", "/files/presets/..%2f..%2fapp.py", None, 403),  # no signature
    ("post", "/avatars", {"height_cm": 90, "chest_cm": 90, "waist_cm": 70, "hips_cm": 95, "gender": "male"}, 422),
    ("post", "/avatars", {"height_cm": 170, "chest_cm": 90, "waist_cm": 70, "hips_cm": 95, "gender": "x"}, 422),
    ("get", "/avatars/00000000-0000-4000-8000-000000000000", None, 404),
])
def test_rest_refuses_bad_requests(live_app: str, method, path, body, status) -> None:
    r = authed_session(live_app).request(method, live_app + path, json=body, timeout=10)
    assert r.status_code == status, r.text
    assert "import" not in r.text


def test_health_and_request_ids(live_app: str) -> None:
    r = requests.get(live_app + "/healthz", headers={"x-request-id": "abc123"}, timeout=10)
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "workers": "ok"}}
    assert r.headers["x-request-id"] == "abc123"


def test_presets_listed_with_files(live_app: str) -> None:
    presets = [p for p in requests.get(live_app + "/avatar-presets", timeout=10).json() if not p["is_custom"]]
    heights = [p["height_cm"] for p in presets]  # custom avatars other tests built are listed after these
    assert heights == sorted(heights) and np.allclose(heights, [160, 175, 185], atol=0.5)
    glb = get(live_app, presets[0]["glb_url"])
    body = trimesh.load(trimesh.util.wrap_as_stream(glb), file_type="glb", force="mesh")
    assert body.is_watertight


def test_import_3d_garment_rest_and_gradio(live_app: str, tmp_path) -> None:
    from tests.test_importer import exported, garment

    glb = exported(garment("dress"), "glb")
    http = authed_session(live_app)
    r = http.post(live_app + "/clothes3d/import", files={"file": ("dress.glb", glb)},
                      data={"category": "dress"}, timeout=60)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] == "done" and job["category"] == "dress" and "units guessed as m" in job["log"]
    mesh = trimesh.load(trimesh.util.wrap_as_stream(get(live_app, job["glb_url"])), file_type="glb", force="mesh")
    assert mesh.extents[1] == pytest.approx(1.05, rel=0.03)

    path = tmp_path / "top.ply"
    path.write_bytes(exported(garment("top").apply_scale(1000.0), "ply"))
    client = Client(live_app, verbose=False, headers=auth_headers(live_app))
    job = client.predict(handle_file(str(path)), api_name="/upload_garment_3d")
    assert job["status"] == "done" and "units guessed as mm" in job["log"]

    bad = http.post(live_app + "/clothes3d/import", files={"file": ("x.glb", b"glTF" + b"\xff" * 64)}, timeout=30)
    assert bad.status_code == 400 and "malformed" in bad.json()["detail"]
    big = http.post(live_app + "/clothes3d/import", files={"file": ("x.obj", b"v 0 0 0\n" * (7 * 2**20))},
                        timeout=60)
    assert big.status_code == 413


def test_a_refused_input_prints_no_traceback(live_app: str, live_app_dir, tmp_path) -> None:
    """A refusal is a message for the person, not a bug: the app's log gets no traceback for it."""
    from gradio_client import Client, handle_file

    from tests.conftest import auth_headers

    log = live_app_dir.parent / f"app-{live_app.rsplit(':', 1)[1]}.log"
    before = log.read_text()
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    client = Client(live_app, verbose=False, headers=auth_headers(live_app))
    with pytest.raises(Exception, match="not a PNG, JPEG or WebP"):
        client.predict(handle_file(str(junk)), None, api_name="/upload_image")
    with pytest.raises(Exception, match="not a valid id"):
        client.predict("nope", None, api_name="/get_result")
    assert "Traceback" not in log.read_text()[len(before):]
