"""core/ stays free of UI and HTTP frameworks: the faces depend on it, never the other way."""

import ast
from collections.abc import Iterable, Iterator
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


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Every module under `root` (the folder of `package`) by its dotted name; a package by its own."""
    found = {}
    for path in root.rglob("*.py"):
        parts = (package, *path.relative_to(root).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that can run, in functions too; not those under `if TYPE_CHECKING:`."""
    for node in nodes:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _runtime_imports(node.orelse)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            yield from _runtime_imports(ast.iter_child_nodes(node))


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which of `modules` each one imports when it runs: the module named (`from pkg import sub`:
    pkg.sub), and the packages above it that the importer is not inside (importing a.b.c runs
    a/__init__.py and a/b/__init__.py first)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _runtime_imports([ast.parse(path.read_text())]):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
                continue
            base = ".".join(here.split(".")[: len(here.split(".")) - node.level + 1]) if node.level else ""
            source = ".".join(p for p in (base, node.module or "") if p)
            targets |= {f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names}
        edges = set()
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                above = ".".join(parts[:i])
                if above in modules and above != name and not name.startswith(above + "."):
                    edges.add(above)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: explored, no cycle through it
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_core_has_no_import_cycle() -> None:
    """No core module imports, even inside a function, a module that imports it back: each layer
    depends only on the ones below it (core/jobs/ on the pipeline, never the other way)."""
    assert find_cycle(import_graph(modules_of(ROOT / "core", "core"))) is None


@pytest.mark.parametrize(("files", "cycle"), [
    ({"a.py": "from pkg import b\n", "b.py": "def f():\n    from pkg.a import x\n"}, ["pkg.a", "pkg.b", "pkg.a"]),
    ({"sub/__init__.py": "from pkg.sub.m import x\n", "sub/m.py": "from pkg.a import y\n", "a.py": "import pkg.sub.n\n",
      "sub/n.py": ""}, ["pkg.a", "pkg.sub", "pkg.sub.m", "pkg.a"]),
    ({"a.py": "from . import b\n", "b.py": "from .a import x\n"}, ["pkg.a", "pkg.b", "pkg.a"]),
    ({"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
      "b.py": "import pkg.a\n", "sub/__init__.py": "from pkg.sub.m import x\n",
      "sub/m.py": "from pkg.sub import n\n", "sub/n.py": ""}, None),
])
def test_cycle_check_sees_cycles(tmp_path: Path, files: dict[str, str], cycle: list[str] | None) -> None:
    """The check finds a cycle through a function's import, through a package's __init__ and through
    relative imports; an import for type checkers only, or between a package's own modules, is none."""
    for name, text in {"__init__.py": "", **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert find_cycle(import_graph(modules_of(tmp_path, "pkg"))) == cycle


def test_measurement_limits_have_one_source() -> None:
    """REST's and the page's custom-avatar bounds are the core's LIMITS, not copies of them."""
    from core.avatars.custom import LIMITS
    from demo.rest import AvatarRequest

    schema = AvatarRequest.model_json_schema()["properties"]
    assert {name: (schema[name]["minimum"], schema[name]["maximum"]) for name in LIMITS} == LIMITS
    for path in (ROOT / "demo/ui").glob("*.py"):
        assert "minimum=" not in path.read_text().replace("minimum=low", ""), f"a bound written into {path.name}"


def _stages_set(path: str, functions: tuple[str, ...] | None = None) -> list[str]:
    """The stage names a file's functions (all, or those named) publish: `timer.stage("x")`,
    `stages("x")` and `stage="x"` in a job's update."""
    found = []
    for fn in ast.walk(ast.parse((ROOT / path).read_text())):
        if not isinstance(fn, ast.FunctionDef) or (functions and fn.name not in functions):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("stage", "stages") and node.args and isinstance(node.args[0], ast.Constant):
                    found.append(node.args[0].value)
            elif isinstance(node, ast.keyword) and node.arg == "stage" and isinstance(node.value, ast.Constant):
                found.append(node.value.value)
    return [s for s in found if s != "done"]  # "done" ends a job: no bar step


def test_every_stage_a_job_sets_is_in_its_list() -> None:
    """The page's progress bars read the core's stage lists: a renamed stage fails here instead of
    freezing a bar."""
    from core.ai import ml
    from core.jobs.kinds import QUEUED_STAGES
    from core.tasks import AVATAR_STAGES, FIT_STAGES, GENERATE_STAGES

    services = [s for path in sorted((ROOT / "core/services").glob("*.py")) for s in _stages_set(str(path))]
    assert set(services + _stages_set("core/jobs/lifecycle.py")) == set(QUEUED_STAGES)
    assert set(_stages_set("core/ai/ml/reconstruct.py")) == set(ml.STAGES)
    pipeline = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "core/pipeline").glob("*.py"))
    garment = ("garment_from_photo", "finished", "garment_files")
    made = [s for path in pipeline for s in _stages_set(path, garment)] + _stages_set("core/jobs/garment.py")
    assert set(made) <= set(GENERATE_STAGES)
    fit = [s for path in pipeline for s in _stages_set(path, ("fit_outfit", "dress"))]
    assert set(fit + _stages_set("core/jobs/fitting.py")) <= set(FIT_STAGES)
    assert _stages_set("core/jobs/avatar.py") == list(AVATAR_STAGES[len(QUEUED_STAGES):])


def test_the_page_copies_no_stage_list() -> None:
    """No list of stage names written into demo/: a copy would not follow a renamed stage."""
    from core.tasks import AVATAR_STAGES, FIT_STAGES, GENERATE_STAGES

    stages = {*GENERATE_STAGES, *FIT_STAGES, *AVATAR_STAGES}
    for path in (ROOT / "demo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.List | ast.Tuple | ast.Set):
                named = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in stages]
                assert len(named) < 2, f"{path.name}:{node.lineno} lists stages {named}"


def test_rest_declares_the_core_records() -> None:
    """REST's response models are core/schemas.py's records, not hand-made copies."""
    from core import schemas
    from demo import rest

    assert not [n for n, v in vars(rest).items() if n.endswith("Out") and isinstance(v, type)
                and n != "ErrorOut"]  # HTTP's own error body; every other shape is the core's
    assert {rest.Cloth3DRecord, rest.AvatarRecord} <= set(schemas.RECORDS.values())
    assert rest.Token is schemas.Token and rest.Health is schemas.Health
    assert "Literal" not in (ROOT / "demo/rest.py").read_text(), "REST writes out allowed values itself"


def test_every_face_lists_the_core_choices() -> None:
    """REST's allowed values are the core's StrEnums, built from the tables that give them meaning."""
    from core.ai.reconstructors import MODELS
    from core.choices import Category, Ease, Model, Quality, values
    from core.fitting.placement import EASE
    from core.garment.registry import CATEGORIES
    from core.quality import QUALITY
    from demo.rest import FitRequest, GenerateRequest

    assert (values(Model), values(Quality), values(Ease), values(Category)) == (
        list(MODELS), list(QUALITY), list(EASE), ["auto", *CATEGORIES])
    generate = GenerateRequest.model_json_schema()["$defs"]
    assert generate["Model"]["enum"] == values(Model) and generate["Quality"]["enum"] == values(Quality)
    assert FitRequest.model_json_schema()["$defs"]["Ease"]["enum"] == values(Ease)


def test_object_keys_have_one_layout() -> None:
    """Storage keys are written only in core/keys.py."""
    for path in (ROOT / "core").rglob("*.py"):
        if path.name != "keys.py":
            source = path.read_text()
            assert not [p for p in ("clothes/{", "clothes3d/{", "fittings/{", "avatars/{", "presets/{")
                        if p in source], path


STAGES = ("core.mesh", "core.fitting", "core.garment", "core.ai")  # the pipeline's stages
STAGE_DOORS = ("core.ai.reconstructors",)  # the registry a reconstructor is chosen from, in one place
SERVICES = sorted([ROOT / "core/service.py", *(ROOT / "core/services").glob("*.py")])


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def past_the_pipeline(path: Path) -> set[str]:
    """The pipeline stages a module imports itself (`from core import mesh` counts) instead of
    calling the pipeline, the avatar library or the reconstructor registry."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return {n for n in names if _within(n, STAGES) and not _within(n, STAGE_DOORS)}


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_services_call_the_pipeline_not_its_stages(path: Path) -> None:
    assert not past_the_pipeline(path), f"{path.name} reaches past the pipeline: {past_the_pipeline(path)}"


def test_checker_sees_a_service_reaching_past_the_pipeline(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from core.mesh.export import mesh_to_glb\nimport core.fitting.fit\nfrom core import garment\n"
                     "from core.ai.segment import cut_out\nfrom core.ai.reconstructors import resolve\n"
                     "from core.pipeline import dress\n")
    flagged = past_the_pipeline(probe)
    assert {"core.mesh.export", "core.fitting.fit", "core.garment", "core.ai.segment"} <= flagged
    assert not [n for n in flagged if "reconstructors" in n or "pipeline" in n]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_services_stay_small(path: Path) -> None:
    """A service is read in one sitting: at most 250 lines, each function at most 60."""
    source = path.read_text()
    assert source.count("\n") <= 250, path.name
    long = [f.name for f in ast.walk(ast.parse(source)) if isinstance(f, ast.FunctionDef)
            and f.end_lineno - f.lineno + 1 > 60]
    assert not long, f"{path.name}: {long}"

