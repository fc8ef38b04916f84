"""What a 3D upload will cost, read before any parser pays it: triangles through the glTF node graph,
polygon corners in OBJ and PLY, vertices, and texture sizes from the image headers. Over a limit the
file is refused; a large texture is downscaled before trimesh decodes it."""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import warnings

import numpy as np
from PIL import Image

from core.errors import InputError

MAX_FACES = 1_000_000
MAX_VERTICES = 3 * MAX_FACES  # an unindexed triangle soup has 3 per face
MAX_CORNERS = 256  # a garment's n-gons (openings, caps) stay far below; fan-triangulated beyond is junk
MAX_DEPTH = 64  # glTF node nesting
# Imported garments are decimated to 40k faces and photo garments carry 1024 px textures: the stored
# GLB, the Draco GLB and the thumbnail gain nothing from more than 2048 px.
TEXTURE_SIDE = 2048
BOUND_SIDE = 8192
MAX_TEXTURE_PIXELS = BOUND_SIDE**2  # refused above: even its decode would cost 256 MB
MAX_TEXTURE_TOTAL = 8 * TEXTURE_SIDE**2  # all textures together, after downscaling
_TRIANGLES, _STRIP, _FAN = 4, 5, 6
_SPACE = np.zeros(256, bool)
_SPACE[[9, 10, 11, 12, 13, 32]] = True


def check_counts(faces: int, vertices: int) -> None:
    if faces > MAX_FACES:
        raise InputError(f"The mesh has {faces:,} faces; at most {MAX_FACES:,} are accepted.")
    if vertices > MAX_VERTICES:
        raise InputError(f"The mesh has {vertices:,} vertices; at most {MAX_VERTICES:,} are accepted.")


def _check_corners(corners: int, fmt: str) -> None:
    if corners > MAX_CORNERS:
        raise InputError(f"A face of the {fmt.upper()} file has {corners:,} corners; at most {MAX_CORNERS} "
                         "are accepted.")


def precheck(data: bytes, fmt: str) -> bytes:
    """Refuse a file whose parse would cost too much; returns the bytes trimesh may parse (a glTF's
    large textures replaced by downscaled copies)."""
    if fmt == "obj":
        _obj_counts(data)
        return data
    if fmt == "ply":
        _ply_counts(data)
        return data
    try:
        doc, rest = _gltf_json(data, fmt)
        per_mesh = _mesh_counts(doc)
        check_counts(sum(f for f, _ in per_mesh), sum(v for _, v in per_mesh))  # trimesh parses every mesh once
        check_counts(*gltf_counts(doc, per_mesh))  # then copies one per instance
        if not _downscale_textures(doc, rest):
            return data
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, struct.error) as exc:
        raise InputError(f"The {fmt.upper()} file is malformed ({type(exc).__name__}).") from None
    js = json.dumps(doc, separators=(",", ":")).encode()
    if fmt == "gltf":
        return js
    js += b" " * (-len(js) % 4)
    return b"".join([struct.pack("<4sII", b"glTF", 2, 20 + len(js) + len(rest)),
                     struct.pack("<I4s", len(js), b"JSON"), js, rest])


# --- glTF -------------------------------------------------------------------------------------------

def _gltf_json(data: bytes, fmt: str) -> tuple[dict, memoryview | bytes]:
    """The JSON document, and for a GLB the chunks after it (the BIN chunk), kept byte for byte.
    Read by hand: the container is two length-prefixed chunks, and the JSON as a plain dict keeps
    every key and extension as written when the document is written back."""
    if fmt == "gltf":
        doc, rest = json.loads(data), b""
    else:
        (length,) = struct.unpack("<I", data[12:16])
        doc, rest = json.loads(data[20:20 + length]), memoryview(data)[20 + length:]  # a view: no copy
    if not isinstance(doc, dict):
        raise TypeError("the JSON is not an object")
    return doc, rest


def _item(seq: object, index: object) -> dict:
    """seq[index], refusing what Python would accept and a glTF must not hold (negative, bool, str)."""
    if not isinstance(seq, list) or type(index) is not int or not 0 <= index < len(seq):
        raise IndexError(f"reference {index!r} out of range")
    if not isinstance(seq[index], dict):
        raise TypeError("an entry is not an object")
    return seq[index]


def _count(accessors: list, index: object) -> int:
    count = _item(accessors, index).get("count")
    if type(count) is not int or count < 0:
        raise ValueError(f"accessor count {count!r}")
    return count


def _mesh_counts(doc: dict) -> list[tuple[int, int]]:
    """(triangles, vertices) of each mesh, its primitives summed: indices or positions / 3 for
    triangles, n - 2 for strips and fans, none for points and lines."""
    accessors = doc.get("accessors", [])
    out = []
    for mesh in doc.get("meshes", []):
        faces = vertices = 0
        for prim in mesh.get("primitives", []):
            attributes = prim.get("attributes", {})
            n_pos = _count(accessors, attributes["POSITION"]) if "POSITION" in attributes else 0
            n = _count(accessors, prim["indices"]) if "indices" in prim else n_pos
            mode = prim.get("mode", _TRIANGLES)
            faces += n // 3 if mode == _TRIANGLES else max(n - 2, 0) if mode in (_STRIP, _FAN) else 0
            vertices += n_pos
        out.append((faces, vertices))
    return out


def gltf_counts(doc: dict, per_mesh: list[tuple[int, int]] | None = None) -> tuple[int, int]:
    """(triangles, vertices) of the flattened scene: each mesh once per node path from the scene's
    roots that reaches it; of several scenes, the largest. A cycle in the node graph, or nesting
    past MAX_DEPTH, is refused."""
    per_mesh = _mesh_counts(doc) if per_mesh is None else per_mesh
    nodes = doc.get("nodes", [])
    if not isinstance(nodes, list):
        raise TypeError("nodes is not a list")
    subtree: dict[int, tuple[int, int, int]] = {}  # node: (triangles, vertices, height)
    most = [0, 0]
    for scene in doc.get("scenes", []):
        totals = [_subtree(nodes, root, per_mesh, subtree)[:2] for root in scene.get("nodes", [])]
        most = [max(most[0], sum(f for f, _ in totals)), max(most[1], sum(v for _, v in totals))]
    return most[0], most[1]


def _subtree(nodes: list, root: object, per_mesh: list[tuple[int, int]],
             done: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    """(triangles, vertices, height) below `root`, its own mesh included; iterative, so that a deep
    chain is refused rather than overflowing the stack. Shared subtrees are counted once per parent."""
    _item(nodes, root)
    stack: list[tuple[int, int]] = [(root, 0)]  # (node, next child to visit)
    on_path = {root}
    while stack:
        node, k = stack[-1]
        children = nodes[node].get("children", [])
        if not isinstance(children, list):
            raise TypeError("children is not a list")
        if k < len(children):
            stack[-1] = (node, k + 1)
            child = children[k]
            _item(nodes, child)
            if child in on_path:
                raise InputError(f"The node graph of the file has a cycle (node {child} is its own ancestor).")
            if child not in done:
                if len(stack) >= MAX_DEPTH:
                    raise InputError(f"The node graph of the file is nested more than {MAX_DEPTH} deep.")
                on_path.add(child)
                stack.append((child, 0))
            continue
        stack.pop()
        on_path.discard(node)
        mesh = nodes[node].get("mesh")
        if mesh is not None and (type(mesh) is not int or not 0 <= mesh < len(per_mesh)):
            raise IndexError(f"mesh {mesh!r} out of range")
        faces, vertices = (0, 0) if mesh is None else per_mesh[mesh]
        height = 1
        for child in children:
            c_faces, c_vertices, c_height = done[child]
            faces, vertices, height = faces + c_faces, vertices + c_vertices, max(height, c_height + 1)
        if height > MAX_DEPTH:
            raise InputError(f"The node graph of the file is nested more than {MAX_DEPTH} deep.")
        done[node] = (faces, vertices, height)
    return done[root]


# --- glTF textures ------------------------------------------------------------------------------------

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
        view = _item(doc.get("bufferViews", []), image["bufferView"])
        index = view.get("buffer", 0)
        if index not in buffers:
            buffer = _item(doc.get("buffers", []), index)
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


def _downscale_textures(doc: dict, rest: memoryview | bytes) -> bool:
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


# --- OBJ and PLY ------------------------------------------------------------------------------------

def _lines(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per line of text (split at \\n): the offset of its first token, its token count, and whether
    that first token is one character long. Whole-array numpy: a million lines, no Python loop.
    `arr` must end in a space, so that reads a few bytes past a token stay inside it."""
    space = _SPACE[arr]
    starts = np.flatnonzero(~space & np.concatenate(([True], space[:-1])))
    breaks = np.flatnonzero(arr == 10)
    lo = np.searchsorted(starts, np.concatenate(([0], breaks + 1)))
    count = np.searchsorted(starts, np.concatenate((breaks, [len(arr)]))) - lo
    first = starts[np.minimum(lo, len(starts) - 1)] if len(starts) else np.zeros(len(lo), np.int64)
    return first, count, space[first + 1]


def _obj_counts(data: bytes) -> None:
    """Triangles (a face of n corners makes n - 2) and vertices, from the `f` and `v` lines."""
    text = data.replace(b"\r\n", b"\n").replace(b"\\\n", b"") + b" "  # continued lines joined, as trimesh does
    arr = np.frombuffer(text, np.uint8)
    first, count, single = _lines(arr)
    key = np.where(count > 0, arr[first], 0)
    faces = key == ord("f")
    corners = count[faces] - single[faces]  # "f 1 2 3" has 3 corners, and so has "f1 2 3" for trimesh
    if len(corners):
        _check_corners(int(corners.max()), "obj")
    check_counts(int(np.maximum(corners - 2, 0).sum()), int(((key == ord("v")) & single).sum()))


_PLY_TYPES = {"char": "i1", "uchar": "u1", "short": "i2", "ushort": "u2", "int": "i4", "uint": "u4",
              "float": "f4", "double": "f8", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2",
              "int32": "i4", "uint32": "u4", "float32": "f4", "float64": "f8"}
_PLY_INDEX = ("vertex_indices", "vertex_index")


def _ply_header(data: bytes) -> tuple[bytes, list[tuple[bytes, int, list[tuple[bytes | None, bytes, bytes]]]], int]:
    """(format line, [(element, rows, [(list count type or None, type, name)])], body offset), read
    line by line as trimesh reads it (its second line is the format, keywords matched as it does)."""
    lines, pos = [], 0
    while True:
        end = data.find(b"\n", pos)
        if end < 0 or len(lines) > 10_000:
            raise ValueError("no end_header")
        words, pos = data[pos:end].split(), end + 1
        if len(lines) >= 2 and b"end_header" in words:
            break
        lines.append(words)
    elements: list = []
    for words in lines[2:]:
        if b"element" in words[0]:
            name, rows = words[1:]
            if int(rows) < 0:
                raise ValueError("negative row count")
            elements.append((name, int(rows), []))
        elif b"property" in words[0]:
            if len(words) == 3:
                elements[-1][2].append((None, words[1], words[2]))
            elif b"list" in words[1]:
                count_type, item_type, name = words[2:]
                elements[-1][2].append((count_type, item_type, name))
    return b" ".join(lines[1]), elements, pos


def _ply_counts(data: bytes) -> None:
    """Triangles (the face element's rows times their corners - 2) and vertices. Binary: the corner
    count of the first face, which trimesh takes for every face; ASCII: each face line's own."""
    try:
        fmt, elements, body = _ply_header(data)
        rows = {name.decode(errors="replace"): n for name, n, _ in elements}
        if len(rows) < len(elements):  # trimesh would keep one of each name, and read the data otherwise
            raise ValueError("an element is declared twice")
        if b"ascii" in fmt:
            corners = _ply_ascii_corners(data[body:], elements)
        else:
            corners = _ply_binary_corners(data, body, elements, ">" if b"big" in fmt else "<")
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(f"The PLY file is malformed ({type(exc).__name__}).") from None
    if len(corners):
        _check_corners(int(corners.max()), "ply")
    faces = rows.get("face", 0)
    check_counts(max(faces, int(np.maximum(corners - 2, 0).sum())), rows.get("vertex", 0))


def _face_list(props: list) -> int | None:
    """Which of the face element's properties holds its vertex indices (trimesh's choice)."""
    lists = [i for i, (count_type, _, _) in enumerate(props) if count_type is not None]
    named = [i for i in lists if props[i][2].decode(errors="replace") in _PLY_INDEX]
    return (named or lists or [None])[0]


def _ply_binary_corners(data: bytes, body: int, elements: list, endian: str) -> np.ndarray:
    """The face rows' corner counts: every row takes the first row's, as trimesh reads the data."""
    offset = body
    for name, n_rows, props in elements:
        row, index = 0, _face_list(props) if name == b"face" else None
        for i, (count_type, item_type, _) in enumerate(props):
            item = np.dtype(_PLY_TYPES[item_type.decode()]).itemsize
            if count_type is None:
                row += item
                continue
            dtype = np.dtype(endian + _PLY_TYPES[count_type.decode()])
            at = offset + row
            n = int(np.frombuffer(data, dtype, count=1, offset=at)[0]) if at + dtype.itemsize <= len(data) else 0
            if n < 0:
                raise ValueError("negative list length")
            if i == index:
                return np.full(n_rows, n, np.int64)
            row += dtype.itemsize + n * item
        offset += n_rows * row
    return np.zeros(0, np.int64)


def _ply_ascii_corners(body: bytes, elements: list) -> np.ndarray:
    """Each face line's corner count: its first number where that is a plain integer, else (and
    never more than) the line's other tokens. Lines split as Python's splitlines splits them."""
    if re.search(rb"[\x0b\x0c\x1c-\x1e\x80-\xff]", body):
        raise ValueError("ASCII data holds other characters")
    text = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + b" " * 8
    arr = np.frombuffer(text, np.uint8)
    first, count, _ = _lines(arr)
    names = [name for name, _, _ in elements]
    if b"face" not in names:
        return np.zeros(0, np.int64)
    at = names.index(b"face")
    row, (_, n_rows, props) = sum(n for _, n, _ in elements[:at]), elements[at]
    first, count = first[row:row + n_rows], count[row:row + n_rows]
    if not props or props[0][0] is None:  # the first number is not the corner count: tokens bound it
        return count - 1
    k = np.arange(6)
    window = arr[first[:, None] + k]
    lead = np.logical_and.accumulate((window >= 48) & (window <= 57), axis=1)  # leading digits
    digits = lead.sum(axis=1)
    plain = (digits > 0) & (digits < 6) & _SPACE[arr[first + digits]]
    value = (np.where(lead, window - 48, 0).astype(np.int64) * 10 ** (5 - k)).sum(axis=1) // 10 ** (6 - digits)
    return np.where(plain, np.minimum(value, count - 1), count - 1)
