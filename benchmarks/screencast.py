"""The page as a person sees it, for benchmarks/latency.py: Chromium's screencast frames, each with
the time it was drawn, read to time a click until the viewer draws the new model."""

from __future__ import annotations

import base64
import io
import re
import time
from contextlib import suppress
from pathlib import Path

import numpy as np
from PIL import Image

POLL_S = 0.02
DIFFERENT = 40  # a pixel channel this far off counts as changed
WAIT_S = 120.0
# Frames at half the page's size: with the turntable playing, the screencast of a 1440×900 page
# took 0.5 of the two cores the page, the app and SwiftShader share (0.3 at half the size), slowing
# what it measures; the viewer is still ~170×190 pixels in a frame, plenty to see a model drawn.
SCALE = 0.5


def _model_share(img: np.ndarray) -> float:
    """Share of the viewer off its flat background (the median colour)."""
    background = np.median(img.reshape(-1, 3), axis=0)
    return float((np.abs(img - background).max(axis=2) > DIFFERENT).mean())


class Page:
    """One visitor's page, watched through Chromium's screencast (each frame with the time it was
    drawn): times each click until the viewer draws the new model."""

    def __init__(self, page, shots: Path | None) -> None:
        self.page, self.shots = page, shots
        self.glbs: dict[str, float] = {}  # GLB URL → when its response ended (epoch s)
        self.frames: list[tuple[float, bytes]] = []  # since the last click: (drawn at, JPEG)
        self.last: tuple[float, bytes] | None = None
        page.on("requestfinished", self._finished)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Page.screencastFrame", self._frame)
        size = page.viewport_size
        self.cdp.send("Page.startScreencast", {"format": "jpeg", "quality": 80, "everyNthFrame": 1,
                                               "maxWidth": int(size["width"] * SCALE),
                                               "maxHeight": int(size["height"] * SCALE)})

    def _finished(self, request) -> None:
        if ".glb" in request.url and request.url not in self.glbs:
            t = request.timing
            self.glbs[request.url] = (t["startTime"] + max(t["responseEnd"], 0)) / 1000

    def _frame(self, event: dict) -> None:
        with suppress(Exception):  # the page closing under a frame
            self.cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})
        meta = event["metadata"]
        frame = (meta["timestamp"], base64.b64decode(event["data"]), meta["deviceWidth"])
        self.last = frame
        self.frames.append(frame)

    def _view(self, frame: tuple, box: dict) -> np.ndarray:
        """The viewer's area of a frame, below its label and buttons."""
        img = Image.open(io.BytesIO(frame[1])).convert("RGB")
        k = img.width / frame[2]
        crop = (box["x"] * k, (box["y"] + 40) * k, (box["x"] + box["width"]) * k, (box["y"] + box["height"]) * k)
        return np.asarray(img.crop(tuple(round(c) for c in crop))).astype(np.int16)

    def click(self, button: str, view: str, glb: str, label: str) -> dict:
        """Click `button`: seconds from the click to the new `glb` fetched and to its model drawn."""
        box = self.page.locator(f"#{view}").bounding_box()
        self.page.wait_for_timeout(200)  # a frame of the page as it is
        old = self._view(self.last, box)
        seen = set(self.glbs)
        self.page.evaluate("""id => { window.__clicked = null; document.querySelector('#' + id)
            .addEventListener('click', () => { window.__clicked = performance.timeOrigin + performance.now(); },
                              {once: true, capture: true}); }""", button)
        self.frames = []
        self.page.locator(f"#{button}").click()
        deadline = time.monotonic() + WAIT_S
        while not (new := [u for u in self.glbs if u not in seen and u.split("?")[0].endswith(glb)]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{glb} was never fetched")
            self.page.wait_for_timeout(POLL_S * 1000)
        fetched, done, k = self.glbs[new[0]], 0, 0
        old_share = _model_share(old)
        while True:
            for frame in self.frames[done:]:
                done += 1
                if frame[0] < fetched:
                    continue
                img = self._view(frame, box)
                share = _model_share(img)
                changed = float((np.abs(img - old).max(axis=2) > DIFFERENT).mean())
                if self.shots:
                    Image.fromarray(img.astype(np.uint8)).save(self.shots / f"{label}-{k:03d}.png")
                    k += 1
                if share > 0.02 and changed > 0.01 and share > 0.5 * old_share:
                    clicked = self.page.evaluate("window.__clicked") / 1000
                    return {"fetched_s": fetched - clicked, "shown_s": frame[0] - clicked}
            if time.monotonic() > deadline:
                raise TimeoutError(f"{view} never showed the new model")
            self.page.wait_for_timeout(POLL_S * 1000)

    def stop(self) -> None:
        self.cdp.send("Page.stopScreencast")
        self.cdp.detach()

    def own_s(self, element: str, pattern: str) -> float | None:
        found = re.search(pattern, self.page.locator(f"#{element}").inner_text())
        return float(found.group(1)) if found else None
