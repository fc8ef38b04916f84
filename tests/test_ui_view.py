"""The page's plain-data helpers: browser history, outfit rules, the fit report table."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from demo.ui import view

ENTRY = st.fixed_dictionaries({"kind": st.sampled_from(["garment", "fitting"]),
                               "id": st.sampled_from([f"id{i}" for i in range(30)])})


@given(st.lists(ENTRY, max_size=60))
def test_history_keeps_newest_first_once_and_bounded(adds) -> None:
    hist: list[dict] = []
    for e in adds:
        hist = view.remember(hist, e["kind"], e["id"], e["id"])
    ids = [e["id"] for e in hist]
    assert len(ids) == len(set(ids))  # an id appears once
    for kind in ("garment", "fitting"):
        assert len(view.of_kind(hist, kind)) <= view.MAX_HISTORY
    if adds:
        assert hist[0]["id"] == adds[-1]["id"]  # the newest comes first


def test_history_ignores_what_a_browser_may_have_tampered_with() -> None:
    hist = [{"kind": "garment", "id": "a"}, "junk", {"kind": "garment"}, None, {"kind": "fitting", "id": "f"}]
    assert [e["id"] for e in view.of_kind(hist, "garment")] == ["a"]
    assert [e["id"] for e in view.of_kind(None, "fitting")] == []


def test_a_new_garment_replaces_what_it_cannot_be_worn_with() -> None:
    hist = [{"kind": "garment", "id": i, "category": c}
            for i, c in [("t1", "top"), ("b1", "bottom"), ("o1", "outer"), ("d1", "dress"), ("t2", "top")]]
    assert view.with_garment(["t1", "b1", "o1"], hist, "t2", "top") == ["t2", "b1", "o1"]
    assert view.with_garment(["t1", "b1", "o1"], hist, "d1", "dress") == ["d1", "o1"]
    assert view.with_garment(["d1"], hist, "b1", "bottom") == ["b1"]
    assert view.with_garment(["t1", "gone"], hist, "b1", "bottom") == ["b1", "t1"]  # unknown ids dropped


def test_report_table_has_a_row_per_layer_with_units() -> None:
    metrics = {"layers": [{"name": "garment_bottom", "inside_share": 0.0, "max_penetration_mm": 0.0,
                           "clearance_mm_p5": 4.5, "clearance_mm_p50": 11.0, "stretch_median": 1.004,
                           "stretch_p95": 1.16},
                          {"name": "garment_top", "inside_share": 0.001, "max_penetration_mm": 0.4,
                           "clearance_mm_p5": None, "clearance_mm_p50": None, "stretch_median": 1.0,
                           "stretch_p95": 1.03}],
               "time_s": 0.67, "ease": "loose", "offset_mm": 4, "tuck_in": True}
    table = view.report_table(metrics)
    lines = table.splitlines()
    assert lines[2].startswith("| bottom | 0.00% | 0.0 mm | 4.5 · 11 mm | +0 · +16 % |")
    assert lines[3].startswith("| top | 0.10% | 0.4 mm | 0.0 · 0 mm")
    assert "0.67 s" in table and "loose" in table and "tucked in" in table


def test_report_table_shows_what_a_person_sees_per_layer() -> None:
    enclosure = {"upper_arm_l": 0.6, "upper_arm_r": 0.5, "forearm_l": 0.1, "forearm_r": 0.3,
                 "thigh_l": 0.0, "thigh_r": 0.0, "shin_l": 0.0, "shin_r": 0.0}
    layer = {"name": "garment_top", "inside_share": 0.0, "max_penetration_mm": 0.0, "clearance_mm_p5": 4.0,
             "clearance_mm_p50": 9.0, "stretch_median": 1.0, "stretch_p95": 1.1, "surface_inside_share": 0.0412,
             "surface_deepest_mm": 19.6, "below_soles_mm": 0.0, "hem_at": "between crotch and waist",
             "enclosure": enclosure, "standoff_share": 0.13, "shoulder_cover": 1 / 3, "torso_holes": 0.04,
             "flap_mm": 23.4, "symmetry_mm_p95": 7.4}
    lines = view.report_table({"layers": [layer]}).splitlines()
    assert lines[2].startswith("| top | 0.00% | 0.0 mm")  # the vertices see nothing
    assert lines[4] == "| what you see | top |"  # a column per layer: the page's column is narrow
    assert lines[6:15] == ["| cloth inside the body · deepest | 4.12% · 20 mm |", "| below the soles | 0 mm |",
                           "| hem | between crotch and waist |", "| sleeves: upper arm · forearm | 55% · 20% |",
                           "| legs: thigh · shin | 0% · 0% |", "| cloth > 12 cm off the skin | 13% |",
                           "| shoulders covered · holes in the torso | 33% · 4% |",
                           "| open edges sticking out | 23 mm |", "| asymmetry p95 | 7 mm |"]
    del layer["shoulder_cover"], layer["torso_holes"], layer["flap_mm"]  # fitted before these were measured
    table = view.report_table({"layers": [layer]})
    assert "| shoulders covered · holes in the torso | – |" in table and "| open edges sticking out | – |" in table


def test_report_table_of_a_session_fitted_before_the_surface_report() -> None:
    layer = {"name": "garment_top", "inside_share": 0.0, "max_penetration_mm": 0.0, "clearance_mm_p5": 4.0,
             "clearance_mm_p50": 9.0, "stretch_median": 1.0, "stretch_p95": 1.1}
    table = view.report_table({"layers": [layer]})
    assert "cloth inside the body" not in table and table.splitlines()[2].startswith("| top |")


def test_avatar_caption_is_short_and_marks_custom_bodies() -> None:
    assert view.avatar_caption({"name": "Slim woman, 160 cm", "height_cm": 160.0, "gender": "female"}) \
        == "160 cm · female"
    assert view.avatar_caption({"name": "Custom male", "height_cm": 181.5, "gender": "male", "is_custom": True}) \
        == "181.5 cm · custom male"
