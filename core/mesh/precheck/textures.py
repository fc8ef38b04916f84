"""A glTF's textures sized from their image headers, before any is decoded: over the bound refused,
over TEXTURE_SIDE replaced by a downscaled copy that is decoded a strip at a time."""

from __future__ import annotations

import base64
import io
import struct
import warnings

from PIL import Image

from core.errors import InputError
from core.mesh.precheck.gltf import item
from core.mesh.precheck.limits import BOUND_SIDE, MAX_TEXTURE_PIXELS, MAX_TEXTURE_TOTAL, TEXTURE_SIDE


def _data_uri(uri: object) -> bytes | None:
    """The bytes of a base64 data URI (found as trimesh finds it); None for a reference to another
    file, which trimesh cannot read from an upload."""
    if not isinstance(uri, str):
        raise TypeError("a uri is not a string")
    at = uri.find("base64,")
    return base64.b64decode(uri[at + 7:]) if at >= 0 else None


def _image_bytes(doc: dict, rest: memoryview | bytes, image: dict,
                 buffers: dict[int, memoryview | bytes | None]) -> memoryview | bytes | None:
    if "bufferView" in image:
        view = item(doc.get("bufferViews", []), image["bufferView"])
        index = view.get("buffer", 0)
        if index not in buffers:
            buffer = item(doc.get("buffers", []), index)
            if "uri" in buffer:
                buffers[index] = _data_uri(buffer["uri"])
            else:  # the GLB's BIN chunk
                (length,) = struct.unpack("<I", rest[:4])
                buffers[index] = rest[8:8 + length]
        start, length = view.get("byteOffset", 0), view.get("byteLength")
        if type(start) is not int or type(length) is not int or start < 0 or length < 0:
            raise ValueError("bufferView range")
        blob = buffers[index]
        return None if blob is None else blob[start:start + length]
    return _data_uri(image["uri"]) if "uri" in image else None


def _open_texture(blob: memoryview | bytes, index: int) -> Image.Image | None:
    """The image with its header read and its pixels not decoded (Pillow decodes on load()); None
    when it is not a PNG, JPEG or WebP with a readable header (trimesh would show nothing of it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the tighter bound is below
            image = Image.open(io.BytesIO(blob), formats=["PNG", "JPEG", "WEBP"])
    except Image.DecompressionBombError:
        raise InputError(f"Texture {index} of the file is over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; "
                         f"at most {MAX_TEXTURE_PIXELS / 1e6:.0f} ({BOUND_SIDE}×{BOUND_SIDE}) are accepted.") from None
    except (OSError, SyntaxError, ValueError):  # UnidentifiedImageError is an OSError
        return None
    w, h = image.size
    if w * h > MAX_TEXTURE_PIXELS:
        raise InputError(f"Texture {index} of the file is {w}×{h} pixels; at most "
                         f"{MAX_TEXTURE_PIXELS / 1e6:.0f} megapixels ({BOUND_SIDE}×{BOUND_SIDE}) are accepted.")
    return image


def _downscaled(image: Image.Image, index: int) -> tuple[dict, tuple[int, int]]:
    """The image at most TEXTURE_SIDE a side, as a glTF image entry (data URI), and its size. A JPEG
    is decoded at 1/2 to 1/8 of its size (draft), so even its decode is cheap; UVs are relative, so
    they hold."""
    w, h = image.size
    size = (max(1, round(w * TEXTURE_SIDE / max(w, h))), max(1, round(h * TEXTURE_SIDE / max(w, h))))
    try:
        image.draft(None, size)  # a no-op for PNG and WebP
        image = _shrink(image, size)
        alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if alpha else "RGB")
        buf = io.BytesIO()
        image.save(buf, format="PNG" if alpha else "JPEG", **({"compress_level": 1} if alpha else {"quality": 90}))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InputError(f"Texture {index} of the file could not be decoded.") from None
    mime = "image/png" if alpha else "image/jpeg"
    return {"uri": f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode()}", "mimeType": mime}, size


def _shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Box-reduced by an integer factor, a strip of rows at a time, then Lanczos to the size. Pillow
    reduces and resizes RGBA and LA through a premultiplied copy of the whole image, which would
    double the decode's memory: here that copy is of one strip, then of the reduced image."""
    if image.mode in ("1", "P"):  # Pillow resizes these by nearest neighbour anyway
        return image.resize(size, Image.Resampling.NEAREST)
    w, h = image.size
    factor = max(w, h) // max(size)
    if factor > 1:
        rows = factor * max(1, 256 // factor)
        reduced = Image.new(image.mode, (-(-w // factor), -(-h // factor)))
        for y in range(0, h, rows):
            reduced.paste(image.crop((0, y, w, min(y + rows, h))).reduce(factor), (0, y // factor))
        image = reduced
    return image.resize(size, Image.Resampling.LANCZOS)


def downscale_textures(doc: dict, rest: memoryview | bytes) -> bool:
    """Texture sizes read from the image headers: over MAX_TEXTURE_PIXELS refused, over TEXTURE_SIDE
    replaced in `doc` by a downscaled copy, unreadable ones dropped. True if `doc` changed."""
    images = doc.get("images", [])
    if not isinstance(images, list):
        raise TypeError("images is not a list")
    changed, total, buffers = False, 0, {}
    for index, entry in enumerate(images):
        if not isinstance(entry, dict):
            raise TypeError("an image is not an object")
        blob = _image_bytes(doc, rest, entry, buffers)
        if blob is None:
            continue
        image = _open_texture(blob, index)
        kept = {k: v for k, v in entry.items() if k not in ("bufferView", "uri", "mimeType")}
        if image is None:
            images[index], changed = kept, True
            continue
        w, h = image.size
        if max(w, h) > TEXTURE_SIDE:
            entry, (w, h) = _downscaled(image, index)
            images[index], changed = kept | entry, True
        total += w * h
    if total > MAX_TEXTURE_TOTAL:
        raise InputError(f"The file's textures hold {total / 1e6:.0f} megapixels (each at most {TEXTURE_SIDE} px "
                         f"a side); at most {MAX_TEXTURE_TOTAL / 1e6:.0f} are accepted.")
    return changed
