"""GPU hooks shared by the GPU code paths: on a Hugging Face ZeroGPU Space (the `spaces` package is
importable there) a decorated function is given a GPU for each call; elsewhere it is left as it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def gpu_task(duration_s: int = 60) -> Callable[[F], F]:
    """Decorate a function that needs CUDA: `@gpu_task(120)`. ZeroGPU attaches a GPU for at most
    `duration_s` seconds per call; without `spaces` the function is returned unchanged."""
    try:
        import spaces
    except ImportError:
        return lambda fn: fn
    return spaces.GPU(duration=duration_s)
