"""Helpers shared by the benchmarks: inputs (drawn or from a folder), peak memory, tables."""

from __future__ import annotations

import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.samples import draw_garment

ROOT = Path(__file__).resolve().parents[1]

PHOTO_EXT = {".jpg", ".jpeg", ".png", ".webp"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data: Path, env: dict[str, str] | None = None, log: Path | None = None,
              timeout_s: float = 180.0) -> tuple[subprocess.Popen, str, float]:
    """`python app.py` on a free loopback port, two job workers; returns it, its URL and the seconds
    until /healthz said ok (the app's own say of when it is ready)."""
    port = free_port()
    out = log.open("a") if log else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            env=os.environ | {"DATA_DIR": str(data), "PORT": str(port), "HOST": "127.0.0.1",
                                              "LOG_LEVEL": "WARNING", "JOB_WORKERS": "2"} | (env or {}))
    base = f"http://127.0.0.1:{port}"
    while time.perf_counter() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode}")
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base, time.perf_counter() - t0
        except requests.RequestException:
            pass
        time.sleep(0.05)
    proc.terminate()
    raise TimeoutError("the app did not start")


def photos(folder: Path | None, limit: int | None) -> Iterator[tuple[str, Image.Image, str | None]]:
    """(name, image, label) from a folder (labels.tsv read when present), else drawn garments."""
    if folder is None:
        for category in ("top", "bottom", "dress"):
            yield f"drawn-{category}", draw_garment(category)[0], category
        return
    labels = label_column(folder, 1)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_EXT)[:limit]
    for path in files:
        with Image.open(path) as im:
            yield path.name, im.convert("RGB"), labels.get(path.name)


def label_column(folder: Path | None, column: int) -> dict[str, str]:
    """One column of a folder's labels.tsv by file name (1: category, 2: sleeves or legs); {} without one."""
    tsv = folder / "labels.tsv" if folder else None
    if tsv is None or not tsv.is_file():
        return {}
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    return {r[0]: r[column] for r in rows if len(r) > column}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(fmt(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "" if v is None else str(v)


def median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
    return statistics.median(values) if values else float("nan")
