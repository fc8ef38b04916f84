"""The benchmarks run (on drawn inputs) and print their figures; their numbers are not asserted."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("script,expected", [
    ("reconstruction.py", ["p50 s:", "p95 s:", "reconstruction=", "draco/plain geometry=", "category right: 3/3"]),
    ("parsing.py", ["category right: 3/3", "parse + reconstruct (low) s: p50="]),
    ("fitting.py", ["cases: 9", "worst inside:", "stretch p95 within 15 %:", "per category and sleeve type",
                    "surface inside:", "report time per layer:", "20k faces (", "faces) on average-man-175: median"]),
    ("ml_path.py", ["tiny random weights", "low (2 steps): multi-view=", "surface=", "peak RSS:",
                    "other surface method on the same planes"]),
    ("fairness.py", ["queue: fair (owner = user id)", "B alone (median)", "B after A's 4 jobs", "difference"]),
    ("import_bombs.py", ["garment.glb (reference)", "texture-6000.glb", "instanced-100.glb", "polygons-5000.obj",
                         "accepted: ", "refused: ", "peak_mb: the import's peak RSS"]),
    ("attacks.py", ["FileData paths", "refused×4", "slowloris", "429×", "rss_above_idle_mb", "added by A's backlog"]),
    ("latency.py", ["start → /healthz ok:", "request_to_done_s", "first garment after a start: request → done",
                    "goals met:", "the page:"]),
])
def test_benchmark_prints_figures(script: str, expected: list[str]) -> None:
    extra = {"fitting.py": ["--no-custom"], "fairness.py": ["--backlog", "4", "--repeat", "1"],
             "attacks.py": ["--quick"], "latency.py": ["--garments", "2"]}.get(script, [])
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *extra], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    for text in expected:
        assert text in out.stdout


def test_fidelity_benchmark_prints_figures() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fidelity.py")], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "IoU p50=" in out.stdout and "Chamfer p50=" in out.stdout


def test_reconstruction_benchmark_scores_the_cutout_against_masks(tmp_path) -> None:
    """--masks: the cut-out's IoU per photo; here the drawn garments' own masks, named as the photos."""
    from PIL import Image

    from core.samples import draw_garment

    for category in ("top", "bottom", "dress"):
        Image.fromarray(draw_garment(category)[1]).save(tmp_path / f"drawn-{category}.png")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "reconstruction.py"), "--masks", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    assert "cut-out IoU against 3 masks: median 0.9" in out.stdout
    assert "cut-out (classical): time p50" in out.stdout
