"""Upload validation: good photos pass and are normalised; hostile bytes get a clear InputError."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.errors import InputError, PayloadTooLarge, UnsupportedMedia
from core.uploads import encode_for_storage, sniff_format, validate_image
from tests.conftest import photo_bytes
from tests.damage import damaged

LIMITS = {"max_bytes": 10 * 2**20, "max_side": 8192, "max_pixels": 40_000_000}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 20000) -> bytes:
    """A real, tiny PNG that would decode to side×side pixels."""
    row = b"\0" + b"\0" * ((side + 7) // 8)
    raw = zlib.compress(row * side, 9)
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", raw) + png_chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepts_common_formats(fmt: str) -> None:
    v = validate_image(photo_bytes(fmt=fmt), **LIMITS)
    assert v.format == fmt
    assert v.size == (768, 1024)
    assert v.image.mode == "RGB" and not v.has_alpha


def test_exif_orientation_applied() -> None:
    img = Image.new("RGB", (200, 100), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    assert validate_image(buf.getvalue(), **LIMITS).size == (100, 200)


def test_real_alpha_kept_and_opaque_alpha_dropped() -> None:
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[16:48, 16:48] = (10, 200, 30, 255)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    cut = validate_image(buf.getvalue(), **LIMITS)
    assert cut.has_alpha and cut.image.mode == "RGBA"
    assert encode_for_storage(cut)[1] == "image/png"

    rgba[..., 3] = 255
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    opaque = validate_image(buf.getvalue(), **LIMITS)
    assert not opaque.has_alpha and opaque.image.mode == "RGB"
    assert encode_for_storage(opaque)[1] == "image/jpeg"


def test_reencoding_drops_trailing_payload() -> None:
    polyglot = photo_bytes() + b"PK\x03\x04" + b"zip payload" * 100
    data, _, _ = encode_for_storage(validate_image(polyglot, **LIMITS))
    assert b"zip payload" not in data


HOSTILE = {
    "empty": (b"", InputError, "empty"),
    "html named png": (b"<html><script>alert(1)</script></html>", UnsupportedMedia, "not a PNG"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', UnsupportedMedia, "not a PNG"),
    "gif": (b"GIF89a" + b"\0" * 32, UnsupportedMedia, "not a PNG"),
    "truncated jpeg": (photo_bytes()[:3000], InputError, "damaged or truncated"),
    "png bomb": (png_bomb(), InputError, "too large"),
    "wide png": (png_bomb(9000), InputError, "limit is 8192 pixels"),
    "tiny": (photo_bytes(size=(16, 20)), InputError, "at least 32"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bytes_refused(name: str) -> None:
    data, error, text = HOSTILE[name]
    with pytest.raises(error, match=text):
        validate_image(data, **LIMITS)


def test_size_limit() -> None:
    with pytest.raises(PayloadTooLarge, match="limit is 1 MB"):
        validate_image(b"\xff\xd8\xff" + b"\0" * (2**20 + 1), max_bytes=2**20, max_side=8192,
                       max_pixels=10**7)


def test_animated_webp_refused() -> None:
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(InputError, match="Animated"):
        validate_image(buf.getvalue(), **LIMITS)


def test_cmyk_and_16_bit_are_normalised() -> None:
    buf = io.BytesIO()
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(buf, format="JPEG")
    assert validate_image(buf.getvalue(), **LIMITS).image.mode == "RGB"
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64), 40000, np.uint16)).save(buf, format="PNG")
    assert validate_image(buf.getvalue(), **LIMITS).image.mode == "RGB"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff",
                                                   b"RIFF\0\0\0\0WEBP"]))
def test_fuzz_only_clean_errors(data: bytes, prefix: bytes) -> None:
    """Whatever the bytes, the validator either accepts an image or raises InputError."""
    try:
        v = validate_image(prefix + data, **LIMITS)
    except InputError:
        return
    assert min(v.size) >= 32


def test_sniff() -> None:
    assert sniff_format(b"\x89PNG\r\n\x1a\nxxxx") == "PNG"
    assert sniff_format(b"RIFF1234WEBPVP8 ") == "WEBP"
    assert sniff_format(b"GIF89a") is None


@st.composite
def mutated_images(draw) -> bytes:
    """A real image of any mode, size and format, then damaged the way uploads are: cut short,
    bytes flipped, junk spliced in."""
    fmt = draw(st.sampled_from(["PNG", "JPEG", "WEBP"]))
    modes = {"PNG": ["RGB", "RGBA", "L", "LA", "P", "I;16", "1"], "JPEG": ["RGB", "L", "CMYK"],
             "WEBP": ["RGB", "RGBA"]}[fmt]
    mode = draw(st.sampled_from(modes))
    w, h = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    img = Image.new(mode, (w, h), draw(st.integers(0, 255)) if mode in ("L", "P", "1") else None)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return damaged(draw, buf.getvalue(), max_junk=64)


@settings(max_examples=300, deadline=None)
@given(mutated_images())
def test_fuzz_damaged_images(data: bytes) -> None:
    """A damaged image is refused with InputError or accepted as a clean, storable picture: never
    another exception, never an image outside the limits."""
    try:
        v = validate_image(data, **LIMITS)
    except InputError as exc:
        assert str(exc)
        event(f"refused: {type(exc).__name__}")
        return
    event("accepted")
    assert min(v.size) >= 32 and max(v.size) <= LIMITS["max_side"]
    assert v.image.mode in ("RGB", "RGBA") and v.image.mode == ("RGBA" if v.has_alpha else "RGB")
    stored, content_type, _ = encode_for_storage(v)
    assert Image.open(io.BytesIO(stored)).size == v.size and content_type.startswith("image/")
