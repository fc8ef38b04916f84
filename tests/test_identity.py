"""Who is calling, against the running app: identity is the server's to issue, never the client's to claim.

Every operation but the public ones answers 401 without a credential (the list comes from the app's
own /openapi.json and Gradio API, so a new route cannot be forgotten); a forged or tampered token is
refused; one user's garments, fittings and custom avatars do not exist for another (404, never in
their listings); the deprecated `user_id` is accepted only where it names the caller (else 403);
the cookie POST /auth/token sets is a credential; operator API keys are users that keep their rows.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from gradio_client import Client, handle_file

from tests.conftest import photo_bytes, running_app, start_app
from tests.test_importer import exported, garment

pytestmark = pytest.mark.slow
ZERO = "00000000-0000-4000-8000-000000000000"
PUBLIC = {("post", "/auth/token"), ("get", "/healthz"), ("get", "/avatar-presets")}  # and /files/...
PUBLIC_GRADIO = {"/new_token", "/list_presets"}
MEASUREMENTS = {"height_cm": 163, "chest_cm": 88, "waist_cm": 71, "hips_cm": 96, "gender": "female"}


class User:
    """A new anonymous user of the app at `base`: its id, token and a requests session sending it."""

    def __init__(self, base: str) -> None:
        r = requests.post(f"{base}/auth/token", timeout=10)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["token_type"] == "bearer"
        self.base, self.id, self.token = base, body["user_id"], body["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.http = requests.Session()
        self.http.headers.update(self.headers)

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.http.post(self.base + path, timeout=60, **kw)

    def client(self) -> Client:
        return Client(self.base, verbose=False, headers=self.headers)


def ok(r: requests.Response, status: int = 200):
    assert r.status_code == status, (r.request.method, r.url, r.status_code, r.text[:300])
    return r.json()


def operations(base: str) -> list[tuple[str, str]]:
    spec = requests.get(base + "/openapi.json", timeout=10).json()
    found = [(method, path) for path, item in spec["paths"].items() for method in item
             if method in ("get", "post", "put", "patch", "delete")]
    assert len(found) >= 12, found
    return found


def concrete(path: str, ids: dict[str, str] | None = None) -> str:
    """A template path with each parameter filled (by default with a well-formed id nobody has)."""
    for name in [p.split("}")[0] for p in path.split("{")[1:]]:
        path = path.replace("{" + name + "}", (ids or {}).get(name, ZERO))
    return path


def import_garment(user: User, category: str = "top") -> dict:
    job = ok(user.post("/clothes3d/import", files={"file": (f"{category}.glb", exported(garment(category), "glb"))},
                       data={"category": category}), 201)
    assert job["status"] == "done", job
    return job


@pytest.fixture(scope="module")
def a_and_b(live_app: str) -> Iterator[tuple[User, User, dict[str, str]]]:
    """User A with one of each row (a photo, a 3D garment, a fitting, a custom avatar); user B with none."""
    a, b = User(live_app), User(live_app)
    cloth = ok(a.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes("top"))}), 201)
    cloth3d = import_garment(a)
    preset = ok(a.get("/avatar-presets"))[0]
    fitting = ok(a.post("/fit", json={"cloth3d_id": cloth3d["id"], "avatar_preset_id": preset["id"]}), 202)
    avatar = ok(a.post("/avatars", json=MEASUREMENTS), 202)
    assert avatar["is_custom"]
    yield a, b, {"cloth_id": cloth["id"], "cloth3d_id": cloth3d["id"], "session_id": fitting["id"],
                 "avatar_id": avatar["id"], "preset_id": preset["id"]}


# -- no credential, a bad one -----------------------------------------------------------------------
def test_every_protected_operation_answers_401_without_a_credential(live_app: str) -> None:
    protected = [(m, p) for m, p in operations(live_app) if (m, p) not in PUBLIC and not p.startswith("/files")]
    assert {("get", "/clothes3d"), ("post", "/fit"), ("get", "/fittings"), ("post", "/avatars")} <= set(protected)
    spec = requests.get(live_app + "/openapi.json", timeout=10).json()
    for method, path in protected:  # each says so in the schema: a security requirement and its 401
        operation = spec["paths"][path][method]
        assert operation.get("security") and "401" in operation["responses"], (method, path)
    for method, path in protected:
        for body in ({}, None):  # with an empty JSON body and with none at all: who comes before what
            r = requests.request(method, live_app + concrete(path), json=body, timeout=30)
            assert r.status_code == 401, (method, path, body, r.status_code, r.text[:200])
            assert "Bearer" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"


def test_public_operations_answer_without_a_credential(live_app: str) -> None:
    assert requests.get(live_app + "/healthz", timeout=10).status_code == 200
    presets = ok(requests.get(live_app + "/avatar-presets", timeout=10))
    assert len(presets) == 3 and not any(p["is_custom"] for p in presets)  # only the presets, nobody's avatar
    assert requests.get(presets[0]["glb_url"], timeout=10).content[:4] == b"glTF"


def tampered(token: str) -> dict[str, str]:
    prefix, user_id, issued, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    return {
        "signature flipped": f"{prefix}.{user_id}.{issued}.{flipped}",
        "another user id": f"{prefix}.{ZERO}.{issued}.{signature}",
        "issued moved": f"{prefix}.{user_id}.{int(issued) + 1}.{signature}",
        "no signature": f"{prefix}.{user_id}.{issued}.",
        "signature of zeros": f"{prefix}.{user_id}.{issued}.{base64.urlsafe_b64encode(bytes(len(raw))).decode()}",
        "other prefix": f"fr2.{user_id}.{issued}.{signature}",
        "truncated": token[:-5],
        "padded": token + "x",
        "random": "not-a-token",
        "huge": "fr1." + "a" * 5000,
    }


def test_forged_or_tampered_tokens_are_refused(live_app: str) -> None:
    user = User(live_app)
    ok(user.get("/clothes3d"))  # the real one works
    for case, token in tampered(user.token).items():
        for headers in ({"Authorization": f"Bearer {token}"}, {"Cookie": f"fitroom_token={token}"}):
            r = requests.get(live_app + "/clothes3d", headers=headers, timeout=10)
            assert r.status_code == 401, (case, headers, r.status_code, r.text[:200])
    for headers in ({"Authorization": f"Basic {user.token}"}, {"Authorization": user.token},
                    {"Authorization": "Bearer "}, {"X-Token": user.token}):
        assert requests.get(live_app + "/clothes3d", headers=headers, timeout=10).status_code == 401, headers
    forged_token = tampered(user.token)["another user id"]
    forged = Client(live_app, verbose=False, headers={"Authorization": f"Bearer {forged_token}"})
    with pytest.raises(Exception, match="not valid"):
        forged.predict(ZERO, api_name="/get_result")


def test_every_gradio_operation_but_the_public_ones_needs_a_credential(live_app: str, tmp_path: Path) -> None:
    photo = tmp_path / "t.jpg"
    photo.write_bytes(photo_bytes("top"))
    mesh = tmp_path / "t.glb"
    mesh.write_bytes(exported(garment("top"), "glb"))
    calls = {"/upload_image": (handle_file(str(photo)),), "/generate_3d": (ZERO, "silhouette", "low"),
             "/fit": (ZERO, ZERO), "/get_result": (ZERO,), "/upload_garment_3d": (handle_file(str(mesh)),),
             "/create_avatar": tuple(MEASUREMENTS.values()),
             "/photo_to_3d": (handle_file(str(photo)),), "/dress": (ZERO, ZERO)}
    anonymous = Client(live_app, verbose=False)
    named = set(anonymous.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert named == set(calls) | PUBLIC_GRADIO, "a new Gradio endpoint: add it here"
    for api, args in calls.items():
        with pytest.raises(Exception, match="Who is calling"):
            anonymous.predict(*args, api_name=api)
    token = anonymous.predict(api_name="/new_token")
    assert token["token_type"] == "bearer" and token["token"].startswith("fr1.")
    assert len(anonymous.predict(api_name="/list_presets")) == 3
    me = Client(live_app, verbose=False, headers={"Authorization": f"Bearer {token['token']}"})
    with pytest.raises(Exception, match="No job"):  # past the identity check: the id is simply unknown
        me.predict(ZERO, api_name="/get_result")
    # the Gradio token is a REST token too, for the same user
    assert requests.get(live_app + "/clothes3d", timeout=10,
                        headers={"Authorization": f"Bearer {token['token']}"}).status_code == 200


# -- one user's rows do not exist for another -------------------------------------------------------
def test_another_users_ids_are_not_found(a_and_b) -> None:
    a, b, ids = a_and_b
    gets = [p for m, p in operations(a.base) if m == "get" and "{" in p and not p.startswith("/files")]
    assert len(gets) >= 3
    for path in gets:
        params = [p.split("}")[0] for p in path.split("{")[1:]]
        assert set(params) <= set(ids), f"{path}: which of A's ids does it take? add it to a_and_b"
        ok(a.get(concrete(path, ids)))  # the owner sees it
        r = b.get(concrete(path, ids))
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
        r = b.get(concrete(path, ids), params={"user_id": a.id})  # naming the owner does not help
        assert r.status_code in (403, 404), (path, r.status_code)
    assert b.post(f"/clothes/{ids['cloth_id']}/generate-3d", json={"model": "silhouette"}).status_code == 404
    mine = import_garment(b)
    assert b.post("/fit", json={"cloth3d_id": ids["cloth3d_id"], "avatar_preset_id": ids["preset_id"]}
                  ).status_code == 404
    assert b.post("/fit", json={"cloth3d_id": [mine["id"], ids["cloth3d_id"]], "avatar_preset_id": ids["preset_id"]}
                  ).status_code == 404
    assert b.post("/fit", json={"cloth3d_id": mine["id"], "avatar_preset_id": ids["avatar_id"]}).status_code == 404
    client = b.client()
    for key in ("cloth3d_id", "session_id", "avatar_id"):
        with pytest.raises(Exception, match="No job"):
            client.predict(ids[key], api_name="/get_result")
    with pytest.raises(Exception, match="No garment"):
        client.predict(ids["cloth_id"], "silhouette", "low", api_name="/generate_3d")
    with pytest.raises(Exception, match="No 3D garment"):
        client.predict(ids["cloth3d_id"], ids["preset_id"], api_name="/fit")
    with pytest.raises(Exception, match="No avatar"):
        client.predict(mine["id"], ids["avatar_id"], api_name="/fit")
    assert a.client().predict(ids["cloth3d_id"], api_name="/get_result")["id"] == ids["cloth3d_id"]


def test_listings_hold_only_the_callers_rows(a_and_b) -> None:
    a, b, ids = a_and_b
    assert ids["cloth3d_id"] in [g["id"] for g in ok(a.get("/clothes3d"))]
    assert ids["session_id"] in [f["id"] for f in ok(a.get("/fittings"))]
    c = User(a.base)  # a user of its own, whatever other tests gave B
    assert ok(c.get("/clothes3d")) == [] and ok(c.get("/fittings")) == []
    mine = import_garment(c)
    assert [g["id"] for g in ok(c.get("/clothes3d"))] == [mine["id"]]
    assert ids["cloth3d_id"] not in [g["id"] for g in ok(b.get("/clothes3d"))]
    assert ids["session_id"] not in [f["id"] for f in ok(b.get("/fittings"))]
    assert mine["id"] not in [g["id"] for g in ok(a.get("/clothes3d"))]
    for who in (b, c):
        assert ids["avatar_id"] not in [p["id"] for p in ok(who.get("/avatar-presets"))]
        assert ids["avatar_id"] not in [p["id"] for p in who.client().predict(api_name="/list_presets")]
    # the owner's custom avatar joins the owner's list once it is built
    deadline = time.monotonic() + 300
    while (avatar := ok(a.get(f"/avatars/{ids['avatar_id']}")))["status"] == "processing":
        assert time.monotonic() < deadline, avatar
        time.sleep(1)
    assert avatar["status"] == "done", avatar["log"]
    assert ids["avatar_id"] in [p["id"] for p in ok(a.get("/avatar-presets"))]
    assert ids["avatar_id"] in [p["id"] for p in a.client().predict(api_name="/list_presets")]
    assert ids["avatar_id"] not in [p["id"] for p in ok(b.get("/avatar-presets"))]
    assert ids["avatar_id"] not in [p["id"] for p in ok(requests.get(a.base + "/avatar-presets", timeout=10))]


def test_listings_page_by_keyset(live_app: str) -> None:
    user, other = User(live_app), User(live_app)
    made = [import_garment(user, c)["id"] for c in ("top", "bottom", "dress")]
    listed = [g["id"] for g in ok(user.get("/clothes3d"))]
    assert sorted(listed) == sorted(made)
    paged, after = [], None
    while page := ok(user.get("/clothes3d", params={"limit": 1} | ({"after": after} if after else {}))):
        assert len(page) == 1
        paged.append(page[0]["id"])
        after = page[0]["id"]
    assert paged == listed  # every row once, in the listing's order
    assert ok(user.get("/clothes3d", params={"limit": 2}))[-1]["id"] == listed[1]
    for limit in (0, 101, -1):
        assert user.get("/clothes3d", params={"limit": limit}).status_code == 422, limit
    assert user.get("/clothes3d", params={"limit": 100}).status_code == 200
    other_row = import_garment(other)["id"]  # another user's id is no place to start a page
    assert user.get("/clothes3d", params={"after": other_row}).status_code == 400
    assert user.get("/fittings", params={"after": made[0]}).status_code == 400


# -- the deprecated user_id ------------------------------------------------------------------------
def test_user_id_is_accepted_only_where_it_names_the_caller(a_and_b) -> None:
    a, b, ids = a_and_b
    for user_id, status in ((b.id, 403), (ZERO, 403), ("nobody", 403), (a.id, 200), (a.id.upper(), 200)):
        for path in ("/clothes3d", "/fittings", f"/clothes3d/{ids['cloth3d_id']}",
                     f"/session/{ids['session_id']}/result"):
            r = a.get(path, params={"user_id": user_id})
            assert r.status_code == status, (path, user_id, r.status_code, r.text[:200])
    assert a.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())},
                  data={"user_id": b.id}).status_code == 403
    mine = ok(a.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())}, data={"user_id": a.id}), 201)
    assert b.post("/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())},
                  data={"user_id": a.id}).status_code == 403  # B cannot upload as A
    body = {"cloth3d_id": ids["cloth3d_id"], "avatar_preset_id": ids["preset_id"]}
    assert a.post("/fit", json=body | {"user_id": b.id}).status_code == 403
    assert b.post("/fit", json=body | {"user_id": a.id}).status_code == 403
    assert a.post("/avatars", json=MEASUREMENTS | {"user_id": b.id}).status_code == 403
    assert a.post(f"/clothes/{mine['id']}/generate-3d", json={"model": "silhouette", "user_id": b.id}
                  ).status_code == 403
    assert a.post("/clothes3d/import", files={"file": ("t.glb", exported(garment("top"), "glb"))},
                  data={"user_id": b.id}).status_code == 403
    fit = ok(a.post("/fit", json=body | {"user_id": a.id}), 202)
    assert fit["id"] in [f["id"] for f in ok(a.get("/fittings"))]
    client = a.client()
    with pytest.raises(Exception, match="another user"):
        client.predict(ids["cloth3d_id"], b.id, api_name="/get_result")
    assert client.predict(ids["cloth3d_id"], a.id, api_name="/get_result")["id"] == ids["cloth3d_id"]


# -- the cookie --------------------------------------------------------------------------------------
def test_the_token_cookie_is_a_credential(live_app: str) -> None:
    browser = requests.Session()
    r = browser.post(live_app + "/auth/token", timeout=10)
    assert r.status_code == 201
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"fitroom_token={r.json()['token']}")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Max-Age=" in cookie
    assert "Authorization" not in browser.headers
    cloth = ok(browser.post(live_app + "/clothes/upload-image", files={"file": ("t.jpg", photo_bytes())},
                            timeout=30), 201)
    assert cloth["user_id"] == r.json()["user_id"]
    job = ok(browser.post(f"{live_app}/clothes3d/import", files={"file": ("t.glb", exported(garment("top"), "glb"))},
                          timeout=60), 201)
    assert [g["id"] for g in ok(browser.get(live_app + "/clothes3d", timeout=10))] == [job["id"]]
    # the header's user and the cookie's user are the same one
    header = {"Authorization": f"Bearer {r.json()['token']}"}
    assert ok(requests.get(f"{live_app}/clothes3d/{job['id']}", headers=header, timeout=10))["id"] == job["id"]
    browser.cookies.clear()
    assert browser.get(live_app + "/clothes3d", timeout=10).status_code == 401


# -- operator API keys -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keyed_app(tmp_path_factory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("keys") / "data",
                     {"API_KEYS": "partner=sk-test-123, other=sk-other-456"}) as base:
        yield base


def test_api_keys_are_users_that_keep_their_rows(keyed_app: str) -> None:
    key = {"Authorization": "Bearer sk-test-123"}
    job = ok(requests.post(keyed_app + "/clothes3d/import", headers=key, timeout=60,
                           files={"file": ("t.glb", exported(garment("top"), "glb"))}), 201)
    # each call on its own connection, as a partner's servers make them: the same user every time
    for _ in range(3):
        assert [g["id"] for g in ok(requests.get(keyed_app + "/clothes3d", headers=key, timeout=10))] == [job["id"]]
    assert ok(requests.get(f"{keyed_app}/clothes3d/{job['id']}", headers=key, timeout=10))["id"] == job["id"]
    partner = Client(keyed_app, verbose=False, headers=key)
    assert partner.predict(job["id"], api_name="/get_result")["id"] == job["id"]
    for wrong in ("sk-wrong", "sk-test-12", "sk-test-1234", "partner", "partner=sk-test-123", "SK-TEST-123"):
        r = requests.get(keyed_app + "/clothes3d", headers={"Authorization": f"Bearer {wrong}"}, timeout=10)
        assert r.status_code == 401, (wrong, r.status_code)
    with pytest.raises(Exception, match="not valid"):
        Client(keyed_app, verbose=False, headers={"Authorization": "Bearer sk-wrong"}).predict(
            job["id"], api_name="/get_result")
    other_key = {"Authorization": "Bearer sk-other-456"}  # another key is another user
    assert ok(requests.get(keyed_app + "/clothes3d", headers=other_key, timeout=10)) == []
    assert requests.get(f"{keyed_app}/clothes3d/{job['id']}", headers=other_key, timeout=10).status_code == 404
    anonymous = User(keyed_app)  # and so is an anonymous user of the same app
    assert ok(anonymous.get("/clothes3d")) == []
    assert anonymous.get(f"/clothes3d/{job['id']}").status_code == 404


def _app(tmp_path: Path, name: str, env: dict[str, str]):
    data = tmp_path / name / "data"
    data.mkdir(parents=True)
    return start_app(data, env)


def test_secret_key_signs_the_tokens(tmp_path: Path) -> None:
    """SECRET_KEY is what several API processes share: a token is good on every process with the same key
    (and the same database), and on none with another key."""
    first_proc, first = _app(tmp_path, "first", {"SECRET_KEY": "key-one-" + "1" * 32})
    db_url = f"sqlite:///{tmp_path / 'first' / 'data' / 'fitroom.db'}"
    procs = [first_proc]
    try:
        same_proc, same = _app(tmp_path, "same", {"SECRET_KEY": "key-one-" + "1" * 32, "DB_URL": db_url})
        other_proc, other = _app(tmp_path, "other", {"SECRET_KEY": "key-two-" + "2" * 32, "DB_URL": db_url})
        procs += [same_proc, other_proc]
        user = User(first)
        assert requests.get(same + "/clothes3d", headers=user.headers, timeout=10).status_code == 200
        assert requests.get(other + "/clothes3d", headers=user.headers, timeout=10).status_code == 401
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def test_tokens_expire(tmp_path: Path) -> None:
    """TOKEN_MAX_AGE_DAYS: a token past its age is refused, and a new one from POST /auth/token works."""
    max_age_s = 6.0
    proc, base = _app(tmp_path, "short", {"TOKEN_MAX_AGE_DAYS": str(max_age_s / 86400)})
    try:
        user = User(base)
        assert user.get("/clothes3d").status_code == 200
        time.sleep(max_age_s + 2)
        r = user.get("/clothes3d")
        assert r.status_code == 401 and "expired" in r.json()["detail"], r.text
        with pytest.raises(Exception, match="not valid"):
            user.client().predict(ZERO, api_name="/get_result")
        assert User(base).get("/clothes3d").status_code == 200
    finally:
        proc.terminate()
        proc.wait(30)
