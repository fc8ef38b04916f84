"""The page in headless Chromium: upload, generate, pick an avatar, fit, see the dressed avatar.

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


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_fitting_room_in_a_browser(live_app: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    photo = tmp_path / "tshirt.jpg"
    photo.write_bytes(photo_bytes("top"))
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(live_app + "/", wait_until="domcontentloaded")
        expect(page.get_by_text("Fitroom 3D").first).to_be_visible(timeout=60_000)
        # an example fills the photo in one click
        page.get_by_text("Examples (drawn by").first.scroll_into_view_if_needed()
        page.locator("button.example, .gallery-item, table.examples-table td").first.click()
        expect(page.locator("img[src*='green-dress']").first).to_be_visible(timeout=30_000)
        page.locator("input[type=file]").first.set_input_files(str(photo))
        page.get_by_role("button", name="Generate 3D").click()
        expect(page.get_by_text("Done").first).to_be_visible(timeout=90_000)
        page.wait_for_timeout(2500)  # the viewer fades the model in
        garment_shot = page.locator("#garment-view canvas").first.screenshot()
        page.screenshot(path=str(SHOTS / "1-generated.png"), full_page=True)
        page.get_by_role("button", name="Fit").click()
        expect(page.get_by_text("inside body")).to_be_visible(timeout=90_000)
        canvas = page.locator("#fitted-view canvas").first
        expect(canvas).to_be_visible()
        page.wait_for_timeout(2500)  # the viewer fades the model in
        shot = canvas.screenshot()
        (SHOTS / "2-fitted-viewer.png").write_bytes(shot)
        page.screenshot(path=str(SHOTS / "3-page.png"), full_page=True)
        browser.close()
    assert canvas_coverage(garment_shot) > 0.03, "the 3D garment does not show in the viewer"
    assert canvas_coverage(shot) > 0.03, "the dressed avatar does not show in the viewer"


def test_coverage_measure() -> None:
    flat = Image.new("RGB", (100, 100), (240, 240, 240))
    buf = io.BytesIO()
    flat.save(buf, format="PNG")
    assert canvas_coverage(buf.getvalue()) == 0.0
    flat.paste((200, 30, 30), (0, 0, 30, 30))
    buf = io.BytesIO()
    flat.save(buf, format="PNG")
    assert canvas_coverage(buf.getvalue()) == pytest.approx(0.09)
