"""The page in headless Chromium: example, upload, generate, custom avatar, outfit, fit, history, phone.

Screenshots are written to `screenshots/` (git-ignored) so a person can look at them.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT, photo_bytes

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-dev-shm-usage"]
SHOTS = ROOT / "screenshots"


def canvas_coverage(png: bytes) -> float:
    """Share of the viewer's pixels that differ from its flat background."""
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    background = np.median(img.reshape(-1, 3), axis=0)
    return float((np.abs(img - background).sum(axis=2) > 40).mean())


CUSTOM = {"Height (cm)": "168", "Chest (cm)": "90", "Waist (cm)": "72", "Hips (cm)": "98"}


def _garment_done(page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#gen-status")).to_contain_text("Done", timeout=90_000)
    expect(page.locator("#gen-status")).to_contain_text(text, timeout=90_000)


def _loaded(page) -> None:
    """The page's load done, to its last event (the bare avatar drawn): a click sent while the
    load's events were still running had its outcome lost now and then on a loaded machine (no
    message, no result: Gradio's outputs taken over by the load's own updates)."""
    from playwright.sync_api import expect

    expect(page.locator("#fitted-view [data-shown*='avatar.glb']")).to_have_count(1, timeout=90_000)


def _fill_number(page, label: str, value: str) -> None:
    """Type a number as a person does. Gradio mounts an accordion's fields lazily when it first
    opens, and a field filled in the instant before it mounts comes back with its default: CI saw
    "170" after "168" was typed. Typing again once it is mounted is what a person would do."""
    from playwright.sync_api import expect

    field = page.get_by_label(label)
    for _ in range(3):
        field.fill(value)
        field.press("Tab")  # Gradio takes a number when the field is left
        try:
            expect(field).to_have_value(value, timeout=2_000)
            return
        except AssertionError:
            page.wait_for_timeout(500)
    expect(field).to_have_value(value)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_fitting_room_in_a_browser(live_app: str, tmp_path: Path) -> None:
    """The whole guided flow as a person does it: an example in one click, a photo of their own,
    a custom avatar, a two-garment outfit, the dressed avatar, then their history after a reload.
    Long because it is one person's session: each step starts from the page the last one left."""
    from playwright.sync_api import expect, sync_playwright

    photo = tmp_path / "trousers.jpg"
    photo.write_bytes(photo_bytes("bottom"))
    blank = tmp_path / "blank.png"
    Image.new("RGB", (600, 800), (250, 250, 250)).save(blank)
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900})  # a laptop
        page.goto(live_app + "/", wait_until="domcontentloaded")
        expect(page.get_by_text("Fitroom 3D").first).to_be_visible(timeout=60_000)
        # A mistake reads as a message, never a stack trace; and a click the instant the button
        # can be clicked is answered (it is disabled while the page loads: no click is lost to the load)
        page.get_by_role("button", name="Generate 3D").click(timeout=60_000)
        expect(page.get_by_text("Upload a garment photo first").first).to_be_visible(timeout=15_000)
        _loaded(page)
        page.locator("#photo input[type=file]").set_input_files(str(blank))
        page.get_by_role("button", name="Generate 3D").click()
        expect(page.get_by_text("No garment found").first).to_be_visible(timeout=30_000)
        assert page.get_by_text("Traceback").count() == 0
        # 1 · an example: one click to a 3D garment
        page.locator("img[src*='red-tshirt']").first.click()
        _garment_done(page, "top")
        page.wait_for_timeout(2500)  # the viewer fades the model in
        garment_shot = page.locator("#garment-view canvas").first.screenshot()
        page.screenshot(path=str(SHOTS / "1-example-generated.png"), full_page=True)
        # … and a photo of one's own: trousers join the T-shirt in the outfit
        page.locator("#photo input[type=file]").set_input_files(str(photo))
        glbs: list[str] = []
        page.on("request", lambda r: glbs.append(r.url) if "/garment.glb" in r.url else None)
        page.get_by_role("button", name="Generate 3D").click()
        _garment_done(page, "bottom")
        expect(page.locator("#outfit input[type=checkbox]:checked")).to_have_count(2)
        # its model asked for as the job started (the app held the request until it was written),
        # and not fetched again when the job's result named it
        expect(page.locator("#garment-view [data-shown*='garment.glb']")).to_have_count(1, timeout=15_000)
        assert len(glbs) == 1 and "&wait=" in glbs[0] and "/files/clothes3d/" in glbs[0], glbs
        # 3 · a custom avatar from measurements, with its progress
        page.get_by_text("Custom avatar from measurements").click()
        expect(page.get_by_role("button", name="Build avatar")).to_be_visible(timeout=15_000)
        for label, value in CUSTOM.items():
            _fill_number(page, label, value)
        for label, value in CUSTOM.items():  # all still hold what was typed
            expect(page.get_by_label(label)).to_have_value(value)
        page.get_by_role("button", name="Build avatar").click()
        expect(page.locator("#avatar-status")).to_contain_text("Custom female", timeout=240_000)
        expect(page.locator("#avatars")).to_contain_text("168 cm · custom female")
        # 4 · fit the outfit and look at it
        page.get_by_role("button", name="Fit", exact=True).click()
        report = page.locator("#fit-report")
        expect(report).to_contain_text("inside body", timeout=90_000)
        expect(report).to_contain_text("top")
        expect(report).to_contain_text("bottom")
        canvas = page.locator("#fitted-view canvas").first
        expect(canvas).to_be_visible()
        page.wait_for_timeout(2500)
        shot = canvas.screenshot()
        (SHOTS / "2-fitted-viewer.png").write_bytes(shot)
        expect(page.locator("#fitted-files")).to_contain_text("fitted.draco")
        page.get_by_role("tab", name="Downloads").click()
        expect(page.locator("#garment-files")).to_contain_text("garment.obj", timeout=15_000)
        page.screenshot(path=str(SHOTS / "3-outfit-fitted.png"), full_page=True)
        # History: after a reload the garments and the fitting are there to reopen.
        page.reload(wait_until="domcontentloaded")
        expect(page.locator("#recent-garments img")).to_have_count(2, timeout=60_000)
        expect(page.locator("#recent-fits img")).to_have_count(1)
        page.locator("#recent-fits img").first.click()
        expect(page.locator("#fit-report")).to_contain_text("inside body", timeout=30_000)
        page.locator("#recent-garments img").nth(1).click()  # the T-shirt, made first
        _garment_done(page, "reopened")
        page.screenshot(path=str(SHOTS / "4-history-reopened.png"), full_page=True)
        token = page.evaluate("localStorage.getItem('fitroom-token')")
        assert token, "the page keeps its server-issued token in localStorage"
        # On a phone the steps stack; nothing runs off the side.
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.goto(live_app + "/", wait_until="domcontentloaded")
        expect(phone.get_by_text("Fitroom 3D").first).to_be_visible(timeout=60_000)
        phone.wait_for_timeout(1500)
        overflow = phone.evaluate("document.documentElement.scrollWidth")
        # The phone is another visitor (its own browser storage): its own token, none of the first one's rows.
        expect(phone.locator("#avatars")).to_contain_text("185 cm · male", timeout=60_000)
        expect(phone.locator("#avatars")).not_to_contain_text("custom")
        assert phone.evaluate("localStorage.getItem('fitroom-token')") not in (None, token)
        expect(phone.locator("#recent-garments img")).to_have_count(0)
        expect(phone.locator("#recent-fits img")).to_have_count(0)
        phone.screenshot(path=str(SHOTS / "5-phone.png"), full_page=True)
        browser.close()
    assert canvas_coverage(garment_shot) > 0.03, "the 3D garment does not show in the viewer"
    assert canvas_coverage(shot) > 0.03, "the dressed avatar does not show in the viewer"
    assert overflow <= 390, f"the page is {overflow} px wide on a 390 px phone"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_permalinks_open_a_record_for_its_owner_only(live_app: str) -> None:
    """The link beside a garment and a fitting opens the page on it in its owner's browser; another
    visitor's browser is told there is no such record and shows nothing of it."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        owner = browser.new_context(viewport={"width": 1440, "height": 900})
        page = owner.new_page()
        page.goto(live_app + "/", wait_until="domcontentloaded")
        _loaded(page)
        page.locator("img[src*='red-tshirt']").first.click(timeout=60_000)
        _garment_done(page, "top")
        garment_link = page.locator("#garment-link a").first.get_attribute("href")
        page.get_by_role("button", name="Fit", exact=True).click()
        expect(page.locator("#fit-report")).to_contain_text("inside body", timeout=90_000)
        fit_link = page.locator("#fit-link a").first.get_attribute("href")
        assert garment_link.startswith(f"{live_app}/?garment=") and fit_link.startswith(f"{live_app}/?fitting=")
        again = owner.new_page()  # the same browser: the same visitor
        again.goto(fit_link, wait_until="domcontentloaded")
        expect(again.locator("#fit-report")).to_contain_text("inside body", timeout=60_000)
        expect(again.locator("#fit-link")).to_contain_text(fit_link)
        again.goto(garment_link, wait_until="domcontentloaded")
        _garment_done(again, "opened from its link")
        stranger = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()  # another visitor
        stranger.goto(fit_link, wait_until="domcontentloaded")
        expect(stranger.get_by_text("No job with id").first).to_be_visible(timeout=60_000)
        expect(stranger.locator("#fit-report")).not_to_contain_text("inside body")
        stranger.goto(garment_link, wait_until="domcontentloaded")
        expect(stranger.get_by_text("No job with id").first).to_be_visible(timeout=60_000)
        expect(stranger.locator("#gen-status")).not_to_contain_text("Done")
        browser.close()


def test_coverage_measure() -> None:
    flat = Image.new("RGB", (100, 100), (240, 240, 240))
    buf = io.BytesIO()
    flat.save(buf, format="PNG")
    assert canvas_coverage(buf.getvalue()) == 0.0
    flat.paste((200, 30, 30), (0, 0, 30, 30))
    buf = io.BytesIO()
    flat.save(buf, format="PNG")
    assert canvas_coverage(buf.getvalue()) == pytest.approx(0.09)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_a_back_photo_dropped_on_the_page_textures_the_back(live_app: str, tmp_path: Path) -> None:
    """The second drop zone, "Back (optional)": the garment made from both photos is red in front and
    blue behind, in the GLB the page offers for download."""
    import requests
    import trimesh
    from playwright.sync_api import expect, sync_playwright

    from tests.test_back import BLUE, RED, drawn, near, side_texels

    front, back = tmp_path / "front.png", tmp_path / "back.png"
    drawn(RED)[0].save(front)
    drawn(BLUE)[0].save(back)
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(live_app + "/", wait_until="domcontentloaded")
        expect(page.get_by_text("Back (optional)").first).to_be_visible(timeout=60_000)
        _loaded(page)
        page.locator("#photo input[type=file]").set_input_files(str(front))
        page.locator("#back-photo input[type=file]").set_input_files(str(back))
        page.get_by_role("button", name="Generate 3D").click()
        _garment_done(page, "top")
        page.get_by_role("tab", name="Downloads").click()
        link = page.locator("#garment-files a[href*='garment.glb']").first
        expect(link).to_be_visible(timeout=15_000)
        href = link.get_attribute("href")
        page.screenshot(path=str(SHOTS / "5-back-photo.png"), full_page=True)
        browser.close()
    glb = requests.get(href if href.startswith("http") else live_app + href, timeout=30)
    glb.raise_for_status()
    mesh = trimesh.load(trimesh.util.wrap_as_stream(glb.content), file_type="glb", force="mesh")
    assert near(side_texels(mesh, "front")[0], RED).mean() > 0.95
    assert near(side_texels(mesh, "back")[0], BLUE).mean() > 0.95
