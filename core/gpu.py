"""ZeroGPU's contract, in the one module that knows of the `spaces` package.

On a ZeroGPU Space (`SPACES_ZERO_GPU` is set there) a GPU exists only inside a call of a function
that `spaces.GPU` decorated when its module was imported; `spaces` must be imported before torch
touches CUDA, since it patches torch to emulate CUDA outside those calls (models are moved to
`cuda` at start-up under that emulation, and really moved inside the call). Elsewhere (a CUDA
machine, a CPU) the decorator leaves the function as it is and nothing here imports `spaces`.

`activate()` is called first thing by the serving process only (app.py): worker processes of the
job pool never import `spaces`, so their torch is never patched and sees no GPU, as is true there.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_spaces: Any = None  # the `spaces` module once activate() imported it


def zero_gpu(environ: dict[str, str] | None = None) -> bool:
    """Whether this is a ZeroGPU Space (read as the `spaces` package reads it)."""
    return (environ if environ is not None else os.environ).get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")


def activate() -> bool:
    """Import `spaces` on a ZeroGPU Space, before anything imports torch: returns whether it did.
    Later `gpu(...)` decorations then register with ZeroGPU."""
    global _spaces
    if _spaces is None and zero_gpu():
        _spaces = importlib.import_module("spaces")
    return _spaces is not None


def active() -> bool:
    """Whether GPU calls go through ZeroGPU in this process."""
    return _spaces is not None


def gpu(duration: Callable[..., int]) -> Callable[[F], F]:
    """Decorate, at module level, a function that needs CUDA. `duration` takes the function's own
    arguments and returns the seconds to ask ZeroGPU for (a short ask is queued sooner). Without
    ZeroGPU the function is returned unchanged."""
    if _spaces is None:
        return lambda fn: fn
    return _spaces.GPU(duration=duration)


def is_decorated(fn: Callable[..., Any]) -> bool:
    """Whether ZeroGPU registered `fn` (its wrapper carries a `zerogpu` attribute)."""
    return hasattr(fn, "zerogpu")
