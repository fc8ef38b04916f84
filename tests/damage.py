"""Damage the way uploads arrive damaged, for the property tests of every path that reads files."""

from __future__ import annotations

from hypothesis import strategies as st


def damaged(draw, data: bytes, max_junk: int) -> bytes:
    """Up to three damages: cut short, a byte flipped, or up to `max_junk` bytes spliced in."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(out)))
        action = draw(st.sampled_from(["truncate", "flip", "splice"]))
        if action == "truncate":
            del out[at:]
        elif action == "flip" and at < len(out):
            out[at] ^= draw(st.integers(1, 255))
        elif action == "splice":
            out[at:at] = draw(st.binary(min_size=1, max_size=max_junk))
    return bytes(out)
