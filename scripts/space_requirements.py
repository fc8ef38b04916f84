"""requirements.txt as the Hugging Face Space's Python reads it, one requirement a line.

pip's `--python-version` changes only which wheels fit; it still evaluates environment markers
for the Python that runs it. So the Space's set is written out with its markers evaluated for the
Space's Python (the README front matter's `python_version`), and that set is what the dry run
resolves:

    python scripts/space_requirements.py > /tmp/space-requirements.txt
    pip install --dry-run --ignore-installed --python-version 3.12 --only-binary=:all: \\
        --target /tmp/space -r /tmp/space-requirements.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
# The full versions ZeroGPU lists for its Pythons (docs/hub/spaces-zerogpu.md, "Supported Versions").
FULL_VERSIONS = {"3.10": "3.10.13", "3.12": "3.12.12"}


def space_python() -> str:
    """`python_version` from the README's front matter (the Space's Python)."""
    meta = yaml.safe_load((ROOT / "README.md").read_text().split("---\n")[1])
    return str(meta["python_version"])


def space_requirements(python: str | None = None) -> list[Requirement]:
    """The requirements that apply on the Space's Python, markers dropped."""
    version = python or space_python()
    env = {"python_version": ".".join(version.split(".")[:2]),
           "python_full_version": FULL_VERSIONS.get(version, version),
           "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
           "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    out = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            req.marker = None
            out.append(req)
    return out


if __name__ == "__main__":
    sys.stdout.write("".join(f"{r}\n" for r in space_requirements(sys.argv[1] if len(sys.argv) > 1 else None)))
