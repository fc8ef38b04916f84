"""Uploaded bytes: received through a temp file under a size limit, their type told from the bytes;
images checked (size, bombs, orientation, alpha)."""

from __future__ import annotations

import io
import re
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from core.errors import InputError, PayloadTooLarge, Unavailable, UnsupportedMedia

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
)
MIN_SIDE = 32
MAX_NAME = 200
CHUNK = 1 << 16


@dataclass(frozen=True)
class ValidatedImage:
    image: Image.Image  # RGB, or RGBA when the alpha channel carries a real cut-out
    format: str
    has_alpha: bool

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def receive(stream: BinaryIO, limit: int, tmp_dir: Path) -> bytes:
    """An upload's bytes, through a temp file, refused as soon as they pass `limit`.
    A temp disk that is full or gone is the server's fault: 503 with a message, not a 500."""
    try:
        with tempfile.SpooledTemporaryFile(max_size=1 << 20, dir=tmp_dir) as tmp:
            copied = 0
            while chunk := stream.read(CHUNK):
                copied += len(chunk)
                if copied > limit:
                    raise PayloadTooLarge(f"The file is larger than the {limit / 2**20:g} MB limit.")
                tmp.write(chunk)
            tmp.seek(0)
            return tmp.read()
    except OSError as exc:
        raise Unavailable(f"The server cannot store the upload right now ({exc.strerror or exc}); "
                          "please try again later.") from exc


def sniff_format(head: bytes) -> str | None:
    """The format the bytes say they are, whatever the file's name claims."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def sniff_mesh_format(data: bytes, filename: str | None) -> str:
    """glb, gltf, obj or ply, from the bytes (the name only tells OBJ and glTF text apart)."""
    if data[:4] == b"glTF":
        return "glb"
    if data[:4] in (b"ply\n", b"ply\r"):
        return "ply"
    head = data[:4096].lstrip()
    if head[:1] == b"{" and b'"asset"' in data[:65536]:
        return "gltf"
    text = head.decode("utf-8", errors="replace")
    if re.search(r"^\s*(v|vt|vn|f|o|g|mtllib|usemtl)\s", text, re.MULTILINE) and "\0" not in text:
        return "obj"
    name = (filename or "").lower()
    raise UnsupportedMedia(f"This is not a GLB, glTF, OBJ or PLY file{f' ({name[-40:]})' if name else ''}.")


def validate_image(data: bytes, *, max_bytes: int, max_side: int, max_pixels: int) -> ValidatedImage:
    if not data:
        raise InputError("The file is empty.")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:g} MB.")
    fmt = sniff_format(data[:16])
    if fmt is None:
        raise UnsupportedMedia("This is not a PNG, JPEG or WebP image. Please upload a photo in one of those formats.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])
            w, h = img.size
            if w * h > max_pixels or max(w, h) > max_side:
                raise InputError(
                    f"The image is {w}×{h} pixels; the limit is {max_side} pixels a side "
                    f"and {max_pixels / 1e6:g} megapixels in all.")
            if min(w, h) < MIN_SIDE:
                raise InputError(f"The image is {w}×{h} pixels; at least {MIN_SIDE} a side is needed.")
            if getattr(img, "n_frames", 1) > 1:
                raise InputError("Animated images are not supported; please upload a still photo.")
            img.load()
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError("The image is too large to decode safely.") from exc
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError) as exc:
        raise InputError(f"The image could not be decoded ({fmt} data is damaged or truncated).") from exc
    img = ImageOps.exif_transpose(img)
    has_alpha = False
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        has_alpha = bool(np.asarray(rgba.getchannel("A")).min() < 250)
        img = rgba if has_alpha else rgba.convert("RGB")
    else:
        img = img.convert("RGB")
    return ValidatedImage(image=img, format=fmt, has_alpha=has_alpha)


def clean_filename(name: str | None) -> str | None:
    """A file's name, kept only as a label: without control, format (bidi) or lone surrogate
    characters (PostgreSQL refuses NUL, no database stores a surrogate), its last 200 characters."""
    kept = "".join(c for c in name or "" if unicodedata.category(c) not in ("Cc", "Cf", "Cs")).strip()
    return kept[-MAX_NAME:] or None


def storable_image(img: Image.Image) -> Image.Image:
    """RGBA when the image carries transparency, else RGB: modes that decoders give but the PNG or
    JPEG writers refuse (CMYK JPEGs, float, 16-bit or LAB TIFFs) would fail later, at export."""
    try:
        if img.mode in ("RGB", "RGBA"):
            img.load()
            return img
        return img.convert("RGBA" if img.has_transparency_data else "RGB")
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"An image in the file could not be decoded ({type(exc).__name__}).") from exc


def encode_for_storage(v: ValidatedImage) -> tuple[bytes, str, str]:
    """Re-encode (PNG with alpha, JPEG without): drops any payload riding along in the file."""
    out = io.BytesIO()
    if v.has_alpha:
        v.image.save(out, format="PNG", optimize=False, compress_level=6)
        return out.getvalue(), "image/png", "png"
    v.image.save(out, format="JPEG", quality=95)
    return out.getvalue(), "image/jpeg", "jpg"
