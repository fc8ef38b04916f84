"""Benchmark: fitting onto every preset and one custom avatar; the fit report per case
(penetration, clearance, stretch, time), what a person sees per case and per category and sleeve
type (cloth inside the body over the surface, below the soles, the hem's level, limbs enclosed,
standoff, asymmetry; against the [H] issue's goals), and the goal's case timed: a garment of 20k faces.

Usage: python benchmarks/fitting.py [DIR ...] [--limit N] [--no-custom]
Each DIR may hold 3D garments (OBJ/GLB/PLY: imported as the app imports them) and photos
(reconstructed with the silhouette path, quality low). Without DIRs, drawn garments are used.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import trimesh
from common import PHOTO_EXT, label_column, median, peak_rss_mb, photos, table

from core.ai.reconstructors import REGISTRY
from core.avatars.custom import Measurements, solve
from core.avatars.presets import load_presets
from core.errors import InputError
from core.fitting.body import BodyModel
from core.fitting.fit import FitLayer, fit
from core.garment import registry as categories
from core.garment.parse import GarmentParse, parse_mask
from core.mesh.cleanup import clean, closed, decimate, opening_count
from core.mesh.importer import front_mask, load_mesh, orient, scale_and_anchor
from core.pipeline import photo_to_garment

MESH_EXT = {".obj", ".glb", ".ply"}
CUSTOM = Measurements(height_cm=168, chest_cm=90, waist_cm=72, hips_cm=98, gender="female")
# The sleeves of the dev data's 3D garments (photos have theirs in labels.tsv).
MESH_SLEEVES = {"tshirt.obj": "short", "longsleeve.obj": "long", "dress_shortsleeve.obj": "short"}
MESH_SLEEVES |= {name.replace(".obj", "-closed.obj"): kind for name, kind in MESH_SLEEVES.items()}
SEEN = ["garment", "category", "sleeves", "avatar", "surf_in_%", "surf_deep_mm", "below_mm", "hem_at", "hem_y",
        "upper_%", "fore_%", "thigh_%", "shin_%", "reach_arm", "reach_leg", "arm_cloth_%", "standoff_%",
        "shoulder_%", "holes_%", "flap_mm", "sym_p95_mm", "report_s", "fails"]
GROUPED = ["surf_in_%", "surf_deep_mm", "below_mm", "upper_%", "fore_%", "thigh_%", "shin_%", "reach_arm",
           "reach_leg", "arm_cloth_%", "standoff_%", "shoulder_%", "holes_%", "flap_mm", "sym_p95_mm"]


def sleeve_types(dirs: list[Path]) -> dict[str, str]:
    """Each garment's sleeve (or leg) type: long, short or none."""
    types = dict(MESH_SLEEVES)
    for folder in dirs:
        types |= label_column(folder, 2)
    return types


def seen(layer: dict) -> dict:
    """A case's surface report as table columns: limb figures in % as the mean of left and right."""
    enc, reach = layer["enclosure"], layer["reach"]
    both = {bone: 50 * (enc[f"{bone}_l"] + enc[f"{bone}_r"]) for bone in ("upper_arm", "forearm", "thigh", "shin")}
    return {"surf_in_%": 100 * layer["surface_inside_share"], "surf_deep_mm": layer["surface_deepest_mm"],
            "below_mm": layer["below_soles_mm"], "hem_at": layer["hem_at"].removeprefix("between ")
            .replace(" and ", "-"), "hem_y": layer["hem_y_m"], "upper_%": both["upper_arm"], "fore_%": both["forearm"],
            "thigh_%": both["thigh"], "shin_%": both["shin"], "reach_arm": (reach["arm_l"] + reach["arm_r"]) / 2,
            "reach_leg": (reach["leg_l"] + reach["leg_r"]) / 2, "arm_cloth_%": 100 * layer["arm_cloth_share"],
            "standoff_%": 100 * layer["standoff_share"], "shoulder_%": 100 * layer["shoulder_cover"],
            "holes_%": 100 * layer["torso_holes"], "flap_mm": layer["flap_mm"],
            "sym_p95_mm": layer["symmetry_mm_p95"],
            "report_s": layer["report_s"]}


def fails(category: str, sleeves: str, layer: dict, body: BodyModel) -> list[str]:
    """The [H] issue's goals this case misses (its done-when measures)."""
    enc, hem = layer["enclosure"], layer["hem_y_m"]
    y = {name: float(body.point(name)[1]) for name in ("crotch", "chest", "knee_l", "ankle_l")}
    missed = []
    if layer["surface_inside_share"] > 0:
        missed.append("inside")
    if layer["below_soles_mm"] > 0:
        missed.append("floor")
    upper, fore = ([enc[f"{bone}_{side}"] for side in "lr"] for bone in ("upper_arm_top", "forearm"))
    if category == "bottom":  # its sleeves are its legs' type
        if sleeves == "long" and hem > y["ankle_l"] + 0.10:  # lower is the floor's goal
            missed.append("hem-ankle")
        if sleeves == "short" and not y["knee_l"] <= hem <= y["crotch"]:
            missed.append("hem-knee-crotch")
    elif sleeves == "long" and min(fore) < 0.7:
        missed.append("forearm<70%")
    elif sleeves == "short" and (min(upper) < 0.6 or max(fore) >= 0.4):
        missed.append("short-sleeve")
    elif sleeves == "none" and layer["arm_cloth_share"] >= 0.03:
        missed.append("arm-cloth>=3%")
    # Not [H] goals, ours: sleeves hang from the shoulders (two of three stations along each), and
    # a torso has no holes (1 %: a ray or two through a seam)
    if category != "bottom" and sleeves != "none" and layer["shoulder_cover"] < 2 / 3:
        missed.append("shoulders")
    if category != "bottom" and layer["torso_holes"] > 0.01:
        missed.append("torso-holes")
    if category == "top" and not y["crotch"] <= hem <= y["chest"]:
        missed.append("hem-crotch-chest")
    if layer["standoff_share"] >= 0.05:
        missed.append("standoff")
    if layer["stretch_p95"] > 1.15:
        missed.append("stretch>15%")
    return missed


def garments(dirs: list[Path], limit: int | None):
    if not dirs:
        for name, image, label in photos(None, None):
            g = photo_to_garment(image, label, "low", REGISTRY["silhouette"])
            yield name, g.mesh, g.category, GarmentParse.from_json(g.stats["parse"]), g.stats["openings"]
        return
    for folder in dirs:
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in MESH_EXT):
            mesh, fmt = load_mesh(path.read_bytes(), path.name, 200 * 2**20)
            item = orient(mesh, fmt == "glb")
            parse = parse_mask(front_mask(item.mesh))  # parsed once, as the importer does
            mesh = clean(scale_and_anchor(item, "auto", categories.REGISTRY[parse.category].length_m).mesh)
            yield path.name, mesh, parse.category, parse, opening_count(mesh)  # counted once, as the importer does
            shut = closed(mesh)  # as InstantMesh makes them
            yield f"{path.stem}-closed{path.suffix}", shut, parse.category, parse, opening_count(shut)
        if any(p.suffix.lower() in PHOTO_EXT for p in folder.iterdir()):
            for name, image, label in photos(folder, limit):
                try:
                    g = photo_to_garment(image, label, "low", REGISTRY["silhouette"])
                except InputError as exc:  # e.g. a texture image lying beside the meshes
                    print(f"skipped {name}: {exc}")
                    continue
                yield name, g.mesh, g.category, GarmentParse.from_json(g.stats["parse"]), g.stats["openings"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dirs", type=Path, nargs="*")
    ap.add_argument("--limit", type=int, default=6, help="photos per folder")
    ap.add_argument("--no-custom", action="store_true", help="skip the custom avatar (its solve takes ~10 s)")
    args = ap.parse_args()
    bodies = [(p.slug, BodyModel(trimesh.load(p.glb, force="mesh"), p.meta["landmarks"], p.meta["measurements"]))
              for p in load_presets()]
    if not args.no_custom:
        t0 = time.perf_counter()
        solved = solve(CUSTOM)
        print(f"custom avatar {CUSTOM.key}: solved in {time.perf_counter() - t0:.1f} s, "
              f"off by {solved.error_cm} cm")
        bodies.append(("custom-168", BodyModel(solved.body.mesh, solved.body.landmarks, solved.body.measurements)))
    for _, body in bodies:
        body.prepared()  # built once per avatar, as the app keeps it; not part of a fit's time
    rows, looks, biggest = [], [], None
    types = sleeve_types(args.dirs)
    for gname, mesh, category, parse, openings in garments(args.dirs, args.limit):
        if biggest is None or len(mesh.faces) > len(biggest[1].faces):
            biggest = (gname, mesh, category, parse)
        for slug, body in bodies:
            t0 = time.perf_counter()
            out = fit([FitLayer(mesh, category, category, parse, openings)], body, offset_mm=4.0)
            seconds = time.perf_counter() - t0
            (layer,) = out.metrics["layers"]
            rows.append({"garment": gname, "category": category, "avatar": slug, "faces": len(mesh.faces),
                         "inside_%": 100 * layer["inside_share"], "deepest_mm": layer["max_penetration_mm"],
                         "clear_p5_mm": layer["clearance_mm_p5"], "clear_p50_mm": layer["clearance_mm_p50"],
                         "stretch_med_%": 100 * (layer["stretch_median"] - 1),
                         "stretch_p95_%": 100 * (layer["stretch_p95"] - 1), "fit_s": seconds})
            sleeves = types.get(gname, "?")
            looks.append({"garment": gname, "category": category, "sleeves": sleeves, "avatar": slug,
                          **seen(layer), "fails": " ".join(fails(category, sleeves, layer, body)) or "-"})
    print(table(rows, ["garment", "category", "avatar", "faces", "inside_%", "deepest_mm", "clear_p5_mm",
                       "clear_p50_mm", "stretch_med_%", "stretch_p95_%", "fit_s"]))
    print(f"\ncases: {len(rows)}  worst inside: {max(r['inside_%'] for r in rows):.3f} %  "
          f"deepest: {max(r['deepest_mm'] for r in rows):.2f} mm  "
          f"clearance p5 median: {np.median([r['clear_p5_mm'] for r in rows if r['clear_p5_mm']]):.2f} mm")
    print(f"stretch median p50={np.median([r['stretch_med_%'] for r in rows]):.2f} %  "
          f"p95 p50={np.median([r['stretch_p95_%'] for r in rows]):.2f} % "
          f"max={max(r['stretch_p95_%'] for r in rows):.2f} %")
    print(f"stretch p95 within 15 %: {sum(r['stretch_p95_%'] <= 15 for r in rows)} of {len(rows)} cases")
    print(f"time: fit p50={np.median([r['fit_s'] for r in rows]):.3f} s  peak RSS: {peak_rss_mb():.0f} MB")
    print_seen(looks)
    time_20k(*biggest, bodies)


def print_seen(looks: list[dict]) -> None:
    """What a person sees: per case, then per category and sleeve type (medians; max for the worst
    figures), then the cases worst by the share of cloth inside the body."""
    print("\nwhat a person sees (surface report; limb % = share of the bone's 15-85 % enclosed, "
          "mean of left and right; reach = fraction of shoulder->wrist / hip->ankle covered)")
    print(table(looks, SEEN))
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in looks:
        groups.setdefault((r["category"], r["sleeves"]), []).append(r)
    summary = []
    for (category, sleeves), rs in sorted(groups.items()):
        hems = [r["hem_at"] for r in rs]
        summary.append({"category": category, "sleeves": sleeves, "cases": len(rs),
                        **{k: median(rs, k) for k in GROUPED},
                        "surf_in_max_%": max(r["surf_in_%"] for r in rs),
                        "deep_max_mm": max(r["surf_deep_mm"] for r in rs),
                        "hem_at (most)": max(set(hems), key=hems.count),
                        "meet_goals": f"{sum(r['fails'] == '-' for r in rs)}/{len(rs)}"})
    print("\nper category and sleeve type (medians over the cases)")
    print(table(summary, ["category", "sleeves", "cases", *GROUPED, "surf_in_max_%", "deep_max_mm", "hem_at (most)",
                          "meet_goals"]))
    print(f"\nsurface inside: {sum(r['surf_in_%'] > 0 for r in looks)} of {len(looks)} cases have cloth >1 mm "
          f"inside the body; median {median(looks, 'surf_in_%'):.2f} %, worst "
          f"{max(r['surf_in_%'] for r in looks):.2f} %, deepest {max(r['surf_deep_mm'] for r in looks):.1f} mm")
    print(f"below the soles: {sum(r['below_mm'] > 0 for r in looks)} of {len(looks)} cases, worst "
          f"{max(r['below_mm'] for r in looks):.0f} mm")
    print(f"cases meeting every goal: {sum(r['fails'] == '-' for r in looks)} of {len(looks)}")
    print(f"report time per layer: p50={median(looks, 'report_s'):.3f} s  "
          f"max={max(r['report_s'] for r in looks):.3f} s")
    worst = sorted(looks, key=lambda r: -r["surf_in_%"])[:10]
    print("\nworst cases by cloth inside the body")
    print(table(worst, SEEN))


def time_20k(name: str, mesh: trimesh.Trimesh, category: str, parse: GarmentParse, bodies, repeats: int = 15) -> None:
    """The goal's own case: one garment of 20k faces (the biggest garment, refined or decimated
    to 20k), fitted `repeats` times on each avatar."""
    while len(mesh.faces) < 20_000:
        mesh = mesh.subdivide()
    mesh = decimate(mesh, 20_000)  # as the importer decimates, UVs kept
    openings = opening_count(mesh)  # counted once, as a stored garment's are
    for slug, body in bodies:
        seconds = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fit([FitLayer(mesh, category, category, parse, openings)], body, offset_mm=4.0)
            seconds.append(time.perf_counter() - t0)
        print(f"20k faces ({name} as {len(mesh.faces)} faces) on {slug}: median {np.median(seconds):.3f} s, "
              f"p90 {np.percentile(seconds, 90):.3f} s, fastest {min(seconds):.3f} s")


if __name__ == "__main__":
    main()
