"""Garment cut-out: a real alpha channel as is; else rembg (U²-Net and its kin) where the settings
choose it and its model can be had; else the classical cut-out (core.ai.classical), which needs no
weights: a backdrop model, colour distance and texture against the backdrop's own noise, the outline
filled."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from scipy import ndimage

from core.ai.classical import MAX_BACKDROP_SPREAD, classical_mask
from core.ai.morphology import keep_main_pieces
from core.errors import InputError

if TYPE_CHECKING:
    from core.config import Settings

log = logging.getLogger("fitroom.segment")

NO_GARMENT = "No garment found: please use a photo of one garment on a plain background"


@dataclass(frozen=True)
class Cutout:
    rgb: np.ndarray  # HxWx3 uint8, the photo
    mask: np.ndarray  # HxW bool
    method: str

    def preview(self, max_side: int = 512) -> Image.Image:
        """The cut-out as the user sees it: the garment on a transparent background, small."""
        rgba = np.dstack([self.rgb, self.mask.astype(np.uint8) * 255])
        img = Image.fromarray(rgba, "RGBA")
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return img


@dataclass(frozen=True)
class Segmenter:
    """The cut-out that runs on photos without an alpha channel: rembg's session, or None for the
    classical one. `note` names it and, for a fallback, why (it goes to the job's log)."""

    session: object | None
    note: str

    @property
    def method(self) -> str:
        return f"rembg:{self.session.model_name}" if self.session is not None else self.note


CLASSICAL = Segmenter(None, "classical")


def segmenter_for(settings: Settings) -> Segmenter:
    """The cut-out the settings ask for. `auto` downloads rembg's model only where REMBG_DOWNLOAD
    allows it or on a Hugging Face Space (SPACE_ID set), where weights can be had."""
    return choose_segmenter(settings.segmenter, settings.rembg_model,
                            settings.rembg_download or bool(settings.space_id))


@lru_cache(maxsize=4)
def choose_segmenter(kind: str = "auto", model: str = "u2net", download: bool = False) -> Segmenter:
    """`classical`: the classical cut-out. `auto`: rembg's `model` when rembg is installed and the
    model file is on disk (rembg looks in U2NET_HOME or REMBG_HOME) or `download` lets rembg fetch
    it; otherwise the classical one, with a note saying why. `rembg`: rembg, fetching the model if
    need be; the classical one, with the reason, only where rembg cannot run at all."""
    if kind == "classical":
        return CLASSICAL
    try:
        import rembg
        from rembg.sessions import sessions_class
    except ImportError:
        return _fallback(kind, "rembg is not installed")
    session_class = next((c for c in sessions_class if c.name() == model), None)
    if session_class is None:
        return _fallback(kind, f"rembg has no model {model!r}")
    if session_class.resolve_existing(f"{model}.onnx") is None and not download and kind != "rembg":
        return _fallback(kind, f"rembg model {model} not on disk")
    try:
        return Segmenter(rembg.new_session(model), f"rembg:{model}")
    except Exception as exc:  # a model that cannot load must not stop the service
        log.exception("rembg model %r could not be loaded; using the classical cut-out", model)
        return _fallback(kind, f"rembg model {model} could not be loaded: {type(exc).__name__}")


def preload(settings: Settings | None = None) -> Segmenter:
    """Fetch and load the cut-out's model that the settings choose, now (a Docker build bakes it
    into the image); nothing to fetch for the classical cut-out."""
    from core.config import get_settings

    settings = settings or get_settings()
    if settings.segmenter == "classical":
        return CLASSICAL
    chosen = choose_segmenter(settings.segmenter, settings.rembg_model, True)
    if chosen.session is None:
        raise RuntimeError(f"the cut-out's model could not be preloaded: {chosen.note}")
    log.info("cut-out model preloaded: %s", chosen.method)
    return chosen


def _fallback(kind: str, why: str) -> Segmenter:
    if kind == "rembg":
        log.warning("SEGMENTER=rembg, but %s: using the classical cut-out", why)
    return Segmenter(None, f"classical ({why})")


def cut_out(image: Image.Image, segmenter: Segmenter = CLASSICAL) -> Cutout:
    """The garment's mask: a real alpha channel as is; else the segmenter's (rembg, or the classical
    cut-out). Refuses a photo whose garment cannot be told from its background."""
    if image.mode == "RGBA":
        rgba = np.asarray(image)
        mask = keep_main_pieces(rgba[..., 3] > 127)
        method = "alpha"
        rgb = rgba[..., :3]
    elif segmenter.session is not None:
        rgb = np.asarray(image.convert("RGB"))
        mask = keep_main_pieces(_rembg_mask(rgb, segmenter.session))
        method = segmenter.method
    else:
        rgb = np.asarray(image.convert("RGB"))
        mask, spread = classical_mask(rgb)  # its main pieces kept at the working size
        method = segmenter.method
        if spread > MAX_BACKDROP_SPREAD:
            raise InputError(NO_GARMENT + " (the background is not plain)")
    share = mask.mean()
    if share < 0.005:
        raise InputError(NO_GARMENT)
    if share < 0.03:
        raise InputError(f"The garment is too small in the photo ({share:.1%} of it): please crop closer to it.")
    sides = np.array([mask[0].mean(), mask[-1].mean(), mask[:, 0].mean(), mask[:, -1].mean()])
    if (sides > 0.2).sum() >= 3 or share > 0.95:  # a garment may touch one or two edges, not fill the frame
        raise InputError(NO_GARMENT + " (the picture is filled edge to edge)")
    return Cutout(rgb=np.ascontiguousarray(rgb), mask=mask, method=method)


def _rembg_mask(rgb: np.ndarray, session) -> np.ndarray:
    from rembg import remove

    alpha = remove(Image.fromarray(rgb), session=session, only_mask=True, post_process_mask=True)
    return ndimage.binary_fill_holes(np.asarray(alpha) > 127)


def fill_background(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Every background pixel takes the colour of its nearest garment pixel, so texture
    lookups at the silhouette's edge never pick up the backdrop."""
    if mask.all() or not mask.any():
        return rgb.copy()
    _, (iy, ix) = ndimage.distance_transform_edt(~mask, return_indices=True)
    return rgb[iy, ix]
