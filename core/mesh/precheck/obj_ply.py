"""OBJ and PLY costs read from the bytes as trimesh would read them: OBJ's `f` and `v` lines, a PLY's
header and its face rows' corner counts."""

from __future__ import annotations

import re

import numpy as np

from core.errors import InputError
from core.mesh.precheck.limits import check_corners, check_counts

_SPACE = np.zeros(256, bool)
_SPACE[[9, 10, 11, 12, 13, 32]] = True


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


def obj_counts(data: bytes) -> None:
    """Triangles (a face of n corners makes n - 2) and vertices, from the `f` and `v` lines."""
    text = data.replace(b"\r\n", b"\n").replace(b"\\\n", b"") + b" "  # continued lines joined, as trimesh does
    arr = np.frombuffer(text, np.uint8)
    first, count, single = _lines(arr)
    key = np.where(count > 0, arr[first], 0)
    faces = key == ord("f")
    corners = count[faces] - single[faces]  # "f 1 2 3" has 3 corners, and so has "f1 2 3" for trimesh
    if len(corners):
        check_corners(int(corners.max()), "obj")
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


def ply_counts(data: bytes) -> None:
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
        check_corners(int(corners.max()), "ply")
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
