"""What the page shows, as plain data: the fit report table, captions, and the browser-side
history of a person's garments and fittings (a list of small dicts kept in their browser)."""

from __future__ import annotations

from core.garment.registry import REGISTRY

MAX_HISTORY = 12


def report_table(metrics: dict) -> str:
    """The fit report as small Markdown tables, one row per garment layer: the vertices' clearance
    and stretch, then what a person sees (sessions fitted before the surface report have only the first)."""
    layers = metrics.get("layers", [])
    rows = ["| layer | inside body | deepest | clearance p5 · p50 | stretch p50 · p95 |",
            "|---|---|---|---|---|"]
    for layer in layers:
        p5, p50 = layer.get("clearance_mm_p5") or 0.0, layer.get("clearance_mm_p50") or 0.0
        rows.append(f"| {layer['name'].removeprefix('garment_')} | {layer['inside_share']:.2%} "
                    f"| {layer['max_penetration_mm']:.1f} mm | {p5:.1f} · {p50:.0f} mm "
                    f"| {100 * (layer['stretch_median'] - 1):+.0f} · {100 * (layer['stretch_p95'] - 1):+.0f} % |")
    seen = [layer for layer in layers if "surface_inside_share" in layer]
    if seen:  # one column per layer: the page's column is narrow, the measures' names are long
        rows += ["", "| what you see | " + " | ".join(layer["name"].removeprefix("garment_") for layer in seen) + " |",
                 "|---|" + "---|" * len(seen)]
        rows += [f"| {label} | " + " | ".join(cell(layer) for layer in seen) + " |" for label, cell in SEEN]
    rows.append(f"\nFitted in **{metrics.get('time_s', 0):.2f} s** · ease {metrics.get('ease', 'regular')}"
                f" · clearance {metrics.get('offset_mm', 0):g} mm"
                + (" · top tucked in" if metrics.get("tuck_in") else ""))
    return "\n".join(rows)


def _both(layer: dict, first: str, second: str) -> str:
    """Two bones' enclosure, each the mean of left and right (the asymmetry row shows the rest)."""
    enc = layer["enclosure"]
    a, b = ((enc[f"{bone}_l"] + enc[f"{bone}_r"]) / 2 for bone in (first, second))
    return f"{a:.0%} · {b:.0%}"


SEEN = (("cloth inside the body · deepest",
         lambda x: f"{x['surface_inside_share']:.2%} · {x['surface_deepest_mm']:.0f} mm"),
        ("below the soles", lambda x: f"{x['below_soles_mm']:.0f} mm"),
        ("hem", lambda x: x["hem_at"]),
        ("sleeves: upper arm · forearm", lambda x: _both(x, "upper_arm", "forearm")),
        ("legs: thigh · shin", lambda x: _both(x, "thigh", "shin")),
        ("cloth > 12 cm off the skin", lambda x: f"{x['standoff_share']:.0%}"),
        ("shoulders covered · holes in the torso",
         lambda x: f"{x['shoulder_cover']:.0%} · {x['torso_holes']:.0%}" if "torso_holes" in x else "–"),
        ("open edges sticking out", lambda x: f"{x['flap_mm']:.0f} mm" if "flap_mm" in x else "–"),
        ("asymmetry p95", lambda x: f"{x['symmetry_mm_p95']:.0f} mm"))


def avatar_caption(avatar: dict) -> str:
    """Short enough for a gallery tile; the full name shows once the avatar is picked."""
    return f"{avatar['height_cm']:g} cm · {'custom ' if avatar.get('is_custom') else ''}{avatar.get('gender', '')}"


def avatar_line(avatar: dict) -> str:
    """The picked avatar in full, under the gallery."""
    return f"**{avatar['name']}** · {avatar.get('notes') or ''}"


def link_line(kind: str, url: str) -> str:
    """The permalink shown beside a result: it opens the page on this record, for its owner alone
    (another user's browser is told there is no such record)."""
    return f"Link to this {kind}: [{url}]({url}) (it opens for you only)"


def garment_label(job: dict) -> str:
    return f"{job.get('category') or 'garment'} · {job.get('model_used') or '3D'} · {job['id'][:8]}"


def fitting_label(job: dict) -> str:
    return f"{len(job['layers'])} layer(s) · {job['id'][:8]}"


def remember(history: list[dict] | None, kind: str, job_id: str, label: str, category: str | None = None) -> list[dict]:
    """The history with this job first (once), at most MAX_HISTORY entries of each kind."""
    entry = {"kind": kind, "id": job_id, "label": label, "category": category}
    rest = [e for e in (history or []) if e.get("id") != job_id]
    kept = [entry]
    for e in rest:
        if sum(1 for k in kept if k["kind"] == e.get("kind")) < MAX_HISTORY:
            kept.append(e)
    return kept


def of_kind(history: list[dict] | None, kind: str) -> list[dict]:
    return [e for e in (history or []) if isinstance(e, dict) and e.get("kind") == kind and e.get("id")]


def with_garment(selected: list[str] | None, history: list[dict], job_id: str, category: str | None) -> list[str]:
    """The outfit after adding a garment: it replaces whatever it cannot be worn with."""
    category = category or "top"
    by_id = {e["id"]: e.get("category") or "top" for e in of_kind(history, "garment")}
    clash = set(REGISTRY[category].excludes) if category in REGISTRY else {category}
    return [job_id] + [g for g in (selected or []) if g != job_id and g in by_id and by_id[g] not in clash]


def other_category(job: dict | None, sure: float) -> str | None:
    """When `auto` was unsure of a garment's category (its parse's confidence under `sure`), the
    category that came next: the one the page offers to make it again as, in one click."""
    parse = ((job or {}).get("stats") or {}).get("parse") or {}
    if not parse or parse.get("confidence", 1.0) >= sure:
        return None
    others = sorted((score, name) for name, score in (parse.get("scores") or {}).items()
                    if name != parse.get("category"))
    return others[-1][1] if others else None

