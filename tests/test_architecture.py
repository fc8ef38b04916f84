"""core/ stays free of UI and HTTP frameworks: the faces depend on it, never the other way."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"gradio", "gradio_client", "fastapi", "starlette", "uvicorn", "demo"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_imports_no_face(path: Path) -> None:
    assert not imported_roots(path) & FORBIDDEN, f"{path} imports {imported_roots(path) & FORBIDDEN}"


def test_checker_sees_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import gradio as gr\nfrom fastapi import FastAPI\n")
    assert imported_roots(probe) >= {"gradio", "fastapi"}


def test_measurement_limits_have_one_source() -> None:
    """REST's and the page's custom-avatar bounds are the core's LIMITS, not copies of them."""
    from core.avatars.custom import LIMITS
    from demo.rest import AvatarRequest

    schema = AvatarRequest.model_json_schema()["properties"]
    assert {name: (schema[name]["minimum"], schema[name]["maximum"]) for name in LIMITS} == LIMITS
    source = (ROOT / "demo/ui/blocks.py").read_text()
    assert "minimum=" not in source.replace("minimum=low", ""), "a bound written into the page"
