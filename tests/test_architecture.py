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
    from core.tasks import AVATAR_STAGES, FIT_STAGES, GENERATE_STAGES, QUEUED_STAGES

    services = [s for path in sorted((ROOT / "core/services").glob("*.py")) for s in _stages_set(str(path))]
    assert set(services + _stages_set("core/jobs.py")) == set(QUEUED_STAGES)
    assert set(_stages_set("core/ai/ml/reconstruct.py")) == set(ml.STAGES)
    pipeline = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "core/pipeline").glob("*.py"))
    garment = ("garment_from_photo", "finished", "garment_files", "run_generate", "run_import")
    made = [s for path in pipeline for s in _stages_set(path, garment)] + _stages_set("core/tasks.py", garment)
    assert set(made) <= set(GENERATE_STAGES)
    fit = [s for path in pipeline for s in _stages_set(path, ("fit_outfit", "dress"))]
    assert set(fit + _stages_set("core/tasks.py", ("run_fit",))) <= set(FIT_STAGES)
    assert _stages_set("core/tasks.py", ("run_avatar",)) == list(AVATAR_STAGES[len(QUEUED_STAGES):])


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


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_core_has_no_import_cycle() -> None:
    """core's modules import one another in one order (at module level; the services among them),
    so that any of them can be imported first."""
    from graphlib import CycleError, TopologicalSorter

    modules = {_module(p): p for p in (ROOT / "core").rglob("*.py") if "migrations" not in p.parts}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        graph[name] = {m for m in found if m in modules and m != name}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")
