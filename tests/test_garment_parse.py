"""The garment parser recovers what drew a silhouette: patterns with known parameters, drawn by
their own outlines, parse back to their category, shape, sleeve or leg kind and measurements;
shapes no garment makes are refused; the parts label the points they cover."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InputError
from core.garment.fitting import Openings
from core.garment.gaps import torso_gaps
from core.garment.parse import GarmentParse, parse_mask, part_labels
from core.garment.patterns import BODICE, LEGS, SKIRT, Pattern
from core.garment.registry import PARTS

HEIGHT = 256  # the drawn silhouette's height in pixels
SIMPLE = {"cap": "short", "short": "short", "three_quarter": "long", "long": "long", "none": "none"}
FEW = settings(max_examples=6, deadline=None, derandomize=True)


def render(pattern: Pattern, x: np.ndarray) -> np.ndarray:
    """The pattern's silhouette: its pieces filled, the frame's height HEIGHT pixels."""
    pieces = pattern.pieces(x)
    pad = 8
    width = int(np.ceil(2 * max(np.abs(p[:, 0]).max() for p in pieces) * HEIGHT)) + 2 * pad
    canvas = np.zeros((HEIGHT + 2 * pad, width), np.uint8)
    for piece in pieces:
        pixels = np.stack([piece[:, 0] * HEIGHT + width / 2, piece[:, 1] * HEIGHT + pad], axis=1)
        cv2.fillPoly(canvas, [np.round(pixels * 16).astype(np.int32)], 1, shift=4)
    return canvas.astype(bool)


def bodice(**values: float) -> np.ndarray:
    """A bodice's parameters: a plain top's, with `values` changed."""
    plain = {"chest": 0.3, "armhole": 1.0, "shoulder": 0.9, "shoulder_y": 0.05, "neck": 0.45, "neck_y": 0.0,
             "neck_drop": 0.05, "waist": 0.97, "waist_at": 0.5, "hem": 1.0, "hem_y": 1.0, "sleeve": 0.0,
             "angle": 1.0, "cuff": 0.8, "angle_r": 1.0, "hem_rise": 0.0, "hang": 0.0}
    return BODICE.vector(**(plain | values))


def t_shirt(chest: float = 0.3, sleeve: float = 0.16, angle: float = 0.8) -> np.ndarray:
    return bodice(chest=chest, sleeve=sleeve, angle=angle, angle_r=angle, shoulder=0.95, cuff=0.8)


def legs(waist: float, crotch: float, **values: float) -> np.ndarray:
    """A pair of legs' parameters: hems level at the bottom, hips as given or a plain pair's."""
    plain = {"hip": 1.2, "hip_y": 0.2, "hem_out_y": 1.0, "hem_in_y": 1.0, "parting": 0.0}
    return LEGS.vector(**(plain | {"waist_x": waist, "crotch_y": crotch} | values))


def close(found: float, true: float, rel: float) -> bool:
    return abs(found - true) <= rel * abs(true)


def cuff(landmarks: dict) -> np.ndarray:
    """Where the sleeve ends: its cuff's middle (how the length splits between the shoulder seam
    and the sleeve, the silhouette barely says)."""
    return (np.asarray(landmarks["cuff_top"]) + np.asarray(landmarks["cuff_bottom"])) / 2


@FEW
@given(chest=st.floats(0.26, 0.38), sleeve=st.floats(0.12, 0.2), angle=st.floats(0.6, 1.1))
def test_a_t_shirt_parses_as_a_top_with_short_sleeves(chest: float, sleeve: float, angle: float) -> None:
    parse = parse_mask(render(BODICE, t_shirt(chest, sleeve, angle)))
    assert (parse.category, parse.shape, SIMPLE[parse.kind]) == ("top", "bodice", "short")
    assert parse.iou > 0.9
    assert close(parse.params["chest"], chest, 0.15)
    truth = {k: v.tolist() for k, v in BODICE.points(t_shirt(chest, sleeve, angle)).items()}
    assert np.linalg.norm(cuff(parse.landmarks()) - cuff(truth)) < 0.06


@pytest.mark.parametrize(("sleeve", "angle"), [(0.375, 0.6), (0.375, 0.7), (0.39, 0.6)])
def test_short_sleeves_spread_out_to_a_third_of_the_top_are_short(sleeve: float, angle: float) -> None:
    # A T-shirt laid out with its sleeves spread: measured from the armhole, they read a third of
    # its length; worn, they end above the elbow.
    assert parse_mask(render(BODICE, t_shirt(0.3, sleeve, angle))).kind == "short"


@FEW
@given(chest=st.floats(0.28, 0.38), sleeve=st.floats(0.55, 0.7), angle=st.floats(0.45, 0.8))
def test_a_long_sleeved_top_parses_with_long_sleeves(chest: float, sleeve: float, angle: float) -> None:
    parse = parse_mask(render(BODICE, t_shirt(chest, sleeve, angle)))
    assert (parse.category, SIMPLE[parse.kind]) == ("top", "long")
    assert close(parse.params["chest"], chest, 0.15)
    truth = {k: v.tolist() for k, v in BODICE.points(t_shirt(chest, sleeve, angle)).items()}
    assert np.linalg.norm(cuff(parse.landmarks()) - cuff(truth)) < 0.08


@FEW
@given(chest=st.floats(0.24, 0.3), angle=st.floats(0.2, 0.35))
def test_long_sleeves_hanging_by_the_body_parse_as_long(chest: float, angle: float) -> None:
    # Laid down beside the body, apart from it by a slit from the hem up: not a wide torso.
    x = bodice(chest=chest, sleeve=0.65, angle=angle, angle_r=angle, shoulder=1.0, cuff=0.6, armhole=0.9)
    parse = parse_mask(render(BODICE, x))
    assert (parse.category, SIMPLE[parse.kind]) == ("top", "long")


def jumper(side: float, sleeve: float, slit_top: float, hem_y: float) -> np.ndarray:
    """A jumper laid flat, drawn by hand (not by a pattern): dropped shoulders, its sleeves `sleeve`
    wide hanging flush down its sides from the shoulders to below its hem band, a hairline slit
    between each cuff and the band from `slit_top` (in heights; `side`: the half-width)."""
    band = side - sleeve - 0.02
    half = np.array([(0.0, 0.04), (0.1, 0.0), (side - 0.05, 0.08), (side, 0.16), (side, 1.0), (side - sleeve, 1.0),
                     (side - sleeve, slit_top), (band, slit_top), (band, hem_y), (0.0, hem_y)])
    outline = np.concatenate([half, half[::-1] * [-1.0, 1.0]])
    pad, width = 8, int(2 * side * HEIGHT) + 16
    canvas = np.zeros((HEIGHT + 2 * pad, width), np.uint8)
    pixels = np.stack([outline[:, 0] * HEIGHT + width / 2, outline[:, 1] * HEIGHT + pad], axis=1)
    cv2.fillPoly(canvas, [np.round(pixels * 16).astype(np.int32)], 1, shift=4)
    return canvas.astype(bool)


@FEW
@given(side=st.floats(0.36, 0.42), sleeve=st.floats(0.12, 0.16), slit_top=st.floats(0.8, 0.85),
       hem_y=st.floats(0.9, 0.94))
def test_long_sleeves_hanging_flush_down_the_sides_parse_as_long(side: float, sleeve: float, slit_top: float,
                                                                  hem_y: float) -> None:
    # No gap between the sleeves and the body but a slit shallower than a side vent's: only the
    # cuffs below the hem band tell the sleeves from a boxy sleeveless top.
    parse = parse_mask(jumper(side, sleeve, slit_top, hem_y))
    assert (parse.category, SIMPLE[parse.kind]) == ("top", "long")
    assert BODICE.hanging(parse.x)


@FEW
@given(chest=st.floats(0.26, 0.36), shoulder=st.floats(0.55, 0.75), drop=st.floats(0.08, 0.2))
def test_a_tank_top_parses_as_a_top_without_sleeves(chest: float, shoulder: float, drop: float) -> None:
    # Straps well inside the armholes: a tank's shoulders as wide as its chest look like a top
    # with its sleeves laid along the body.
    x = bodice(chest=chest, armhole=1.3, shoulder=shoulder, shoulder_y=0.0, neck=0.6, neck_drop=drop)
    parse = parse_mask(render(BODICE, x))
    assert (parse.category, parse.kind) == ("top", "none")
    assert close(parse.params["chest"], chest, 0.15)


@FEW
@given(chest=st.floats(0.14, 0.17), hem=st.floats(1.1, 1.5))
def test_a_long_narrow_bodice_parses_as_a_dress(chest: float, hem: float) -> None:
    # Armholes cut well in, and a neckline: without them a dress has a skirt's shape.
    x = bodice(chest=chest, armhole=1.2, shoulder=0.65, shoulder_y=0.0, neck=0.6, neck_drop=0.08, waist=0.9,
               waist_at=0.25, hem=hem)
    parse = parse_mask(render(BODICE, x))
    assert (parse.category, parse.kind) == ("dress", "none")


@FEW
@given(waist=st.floats(0.15, 0.22), crotch=st.floats(0.3, 0.4), gap=st.floats(0.3, 0.5))
def test_trousers_parse_as_long_legs(waist: float, crotch: float, gap: float) -> None:
    parse = parse_mask(render(LEGS, legs(waist, crotch, hem_out=waist * 1.1, hem_in=gap, fork=0.8)))
    assert (parse.category, parse.shape, parse.kind) == ("bottom", "legs", "long")
    assert close(parse.params["waist_x"], waist, 0.15)
    assert abs(parse.params["crotch_y"] - crotch) < 0.1


@FEW
@given(waist=st.floats(0.14, 0.22), crotch=st.floats(0.28, 0.4))
def test_trousers_laid_together_parse_as_long_legs(waist: float, crotch: float) -> None:
    # Legs apart by a hairline: the parse raster cannot see it, the photo's resolution can.
    parse = parse_mask(render(LEGS, legs(waist, crotch, hem_out=waist * 1.05, hem_in=0.03, fork=1.0)))
    assert (parse.category, parse.shape, parse.kind) == ("bottom", "legs", "long")
    assert abs(parse.params["crotch_y"] - crotch) < 0.12


@FEW
@given(waist=st.floats(0.18, 0.24), crotch=st.floats(0.25, 0.38), parting=st.floats(0.9, 0.95))
def test_wide_trousers_overlapping_down_to_their_hems_keep_their_crotch(waist: float, crotch: float,
                                                                       parting: float) -> None:
    """Wide legs laid together overlap from the crotch down to their hems, where they part for a
    few centimetres: a hairline shows between them above it (they do not quite touch), crossed
    here and there by cloth. They are trousers, not a skirt with a dip at its hem; and the crotch
    is up at a rise's height, at or above where the line starts (the legs may overlap below it
    too), never where they part: there, the seat hung down to the ankles."""
    x = legs(waist, crotch, hem_out=waist * 1.05, hem_in=0.3, fork=0.0, parting=parting)
    mask = render(LEGS, x)
    centre, pad = mask.shape[1] // 2, 8
    fork_y = pad + round(float(LEGS.points(x)["fork"][1]) * HEIGHT)
    mask[pad + round(crotch * HEIGHT) + 4: fork_y, centre] = False  # the line between the legs
    mask[fork_y - 6: fork_y - 4, centre] = True  # cloth across it
    parse = parse_mask(mask)
    assert (parse.category, parse.shape, parse.kind) == ("bottom", "legs", "long")
    assert 0.18 <= parse.params["crotch_y"] <= crotch + 0.05


@settings(max_examples=25, deadline=None, derandomize=True)
@given(top=st.integers(20, 60), bottom=st.integers(120, 170), bridge_at=st.integers(70, 110), gap=st.integers(0, 15))
def test_openings_see_a_line_between_legs_across_cloth_and_the_gap_from_the_hem(top: int, bottom: int, bridge_at: int,
                                                                               gap: int) -> None:
    """A 200-pixel-tall cloth with a line open down its centre from `top` to `bottom`, crossed
    by 2 pixels of cloth at `bridge_at`, and a gap `gap` pixels up from its hem: the line counts
    as one seam (its top where it starts), the gap from the hem only up to the cloth it meets."""
    crop = np.ones((200, 60), np.float32)
    crop[top:bottom, 30] = 0
    crop[bridge_at: bridge_at + 2, 30] = 1
    crop[200 - gap:, 29:32] = 0
    seen = Openings.of(crop, 30.0)
    assert seen.centre_seam == pytest.approx(max(bottom - top, gap) / 200, abs=0.011)
    assert seen.seam_top == pytest.approx(top / 200, abs=0.011)
    assert seen.centre_gap == pytest.approx(gap / 200, abs=0.006)


@FEW
@given(waist=st.floats(0.16, 0.24), hem=st.floats(1.1, 1.5), dip=st.floats(0.02, 0.06))
def test_a_skirt_with_a_dip_at_its_hem_is_no_pair_of_trousers(waist: float, hem: float, dip: float) -> None:
    """A notch at a skirt's hem is as deep as trousers laid together show apart at theirs: only a
    line between legs up from it makes them legs."""
    mask = render(SKIRT, SKIRT.vector(waist_x=waist, hip=1.2, hip_y=0.25, hem=hem, hem_rise=0.02))
    centre, bottom = mask.shape[1] // 2, np.flatnonzero(mask.any(axis=1))[-1]
    mask[bottom - round(dip * HEIGHT): bottom + 1, centre - 1: centre + 2] = False
    parse = parse_mask(mask)
    assert (parse.category, parse.shape, parse.kind) == ("bottom", "skirt", "none")


@FEW
@given(waist=st.floats(0.38, 0.48), crotch=st.floats(0.6, 0.72), gap=st.floats(0.15, 0.3))
def test_shorts_parse_as_short_legs(waist: float, crotch: float, gap: float) -> None:
    parse = parse_mask(render(LEGS, legs(waist, crotch, hip=1.1, hip_y=0.3, hem_out=waist * 1.2, hem_in=gap, fork=0.9)))
    assert (parse.category, parse.shape, parse.kind) == ("bottom", "legs", "short")
    assert abs(parse.params["crotch_y"] - crotch) < 0.1


@FEW
@given(waist=st.floats(0.16, 0.24), hem=st.floats(1.1, 1.6))
def test_a_skirt_parses_as_a_bottom_without_legs(waist: float, hem: float) -> None:
    x = SKIRT.vector(waist_x=waist, hip=1.2, hip_y=0.25, hem=hem, hem_rise=0.02)
    parse = parse_mask(render(SKIRT, x))
    assert (parse.category, parse.shape, parse.kind) == ("bottom", "skirt", "none")
    assert close(parse.params["waist_x"], waist, 0.15)


@pytest.mark.parametrize("degrees", [-5.0, 4.0])
def test_a_tilted_photo_parses_as_an_upright_one(degrees: float) -> None:
    mask = render(BODICE, t_shirt()).astype(np.uint8)
    height, width = mask.shape
    mask = np.pad(mask, 40)  # room to turn
    turn = cv2.getRotationMatrix2D((width / 2 + 40, height / 2 + 40), degrees, 1.0)
    tilted = cv2.warpAffine(mask, turn, mask.shape[::-1], flags=cv2.INTER_NEAREST).astype(bool)
    parse = parse_mask(tilted)
    assert (parse.category, SIMPLE[parse.kind]) == ("top", "short")
    assert parse.iou > 0.9


def test_a_category_given_is_the_one_fitted() -> None:
    parse = parse_mask(render(BODICE, t_shirt()), category="outer")
    assert (parse.category, parse.shape, SIMPLE[parse.kind]) == ("outer", "bodice", "short")
    assert list(parse.scores) == ["outer"]
    with pytest.raises(InputError, match="Unknown category"):
        parse_mask(render(BODICE, t_shirt()), category="hat")


def test_separate_shapes_are_refused() -> None:
    mask = np.zeros((300, 400), bool)
    cv2.circle(mask.view(np.uint8), (100, 150), 80, 1, -1)
    mask[100:200, 250:350] = True  # a square beside the circle, apart from it
    with pytest.raises(InputError, match="more than one piece"):
        parse_mask(mask)


def test_a_shape_no_garment_makes_is_refused() -> None:
    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 150), 120, 1, 30)  # a ring: one piece, but no pattern has a hole
    with pytest.raises(InputError, match="does not look like one garment"):
        parse_mask(mask.astype(bool))


def test_parts_label_sleeves_and_torso_and_the_parse_round_trips() -> None:
    x = t_shirt(chest=0.3, sleeve=0.18, angle=0.9)
    parse = parse_mask(render(BODICE, x))
    assert GarmentParse.from_json(parse.to_json()) == parse
    q = BODICE.points(x)
    cuffs = [(q["cuff_top"] + q["cuff_bottom"]) / 2, (q["cuff_top_r"] + q["cuff_bottom_r"]) / 2]
    # Points in the garment frame (metres, y up; the silhouette 1 m tall): each sleeve's middle,
    # between its root and its cuff, then the chest's centre (at the armpits' level).
    roots = (q["shoulder"] + q["armpit"]) / 2
    left, right = (roots + cuffs[0]) / 2, ((roots + cuffs[1]) / 2) * [-1.0, 1.0]
    centre = np.array([0.0, q["armpit"][1]])
    labels = [PARTS[i] for i in part_labels(parse, np.array([left, right, centre]))]  # in the parse frame
    assert labels == ["sleeve_l", "sleeve_r", "torso"]


def test_the_body_under_hanging_sleeves_is_the_torso() -> None:
    """Sleeves hanging flush down the sides cover the body's sides in the photo; the cloth there is
    the torso's, or the torso would be wrapped round the body with holes at its sides."""
    parse = parse_mask(jumper(0.4, 0.14, 0.82, 0.92))
    assert BODICE.hanging(parse.x)
    q = BODICE.points(parse.x)
    side = 0.9 * q["armpit"][0]  # inside the torso's outline, under the sleeve's folded root
    uv = np.array([[side, q["armpit"][1] + 0.05], [-side, q["armpit"][1] + 0.05]])
    sleeve = BODICE.parts(parse.x)["sleeve_l"]
    assert cv2.pointPolygonTest(sleeve.astype(np.float32), (float(uv[0, 0]), float(uv[0, 1])), False) >= 0
    assert (part_labels(parse, uv) == PARTS.index("torso")).all()


def polygons(*parts: list[tuple[float, float]]) -> np.ndarray:
    """A silhouette of the union of polygons (x, y in heights, y down from the top), HEIGHT pixels high."""
    pad, width = 8, 2 * HEIGHT
    canvas = np.zeros((HEIGHT + 2 * pad, width), np.uint8)
    for part in parts:
        pixels = np.array([(x * HEIGHT + width / 2, y * HEIGHT + pad) for x, y in part])
        cv2.fillPoly(canvas, [np.round(pixels * 16).astype(np.int32)], 1, shift=4)
    return canvas.astype(bool)


@FEW
@given(gap=st.floats(0.01, 0.04), sleeve_end=st.floats(0.85, 1.0), hem=st.floats(0.9, 1.0))
def test_the_gap_between_sleeves_laid_down_and_the_body_is_the_torso_s_cloth(gap: float, sleeve_end: float,
                                                                             hem: float) -> None:
    """Long sleeves hanging straight down beside the body, the backdrop between: the parse explains
    that cloth as the torso's; `torso_gaps` finds the backdrop between (most of it, below the
    armpits) and nothing of the cloth or outside the garment's sides; a T-shirt's sleeves spread
    out, and a tank top, have none."""
    torso = [(-0.11, 0.0), (0.11, 0.0), (0.3, 0.06), (0.3, hem), (-0.3, hem), (-0.3, 0.06)]
    sleeve = [(0.3, 0.06), (0.44, 0.1), (0.45, sleeve_end), (0.3 + gap, sleeve_end), (0.3 + gap, 0.3), (0.3, 0.28)]
    mirrored = [(-x, y) for x, y in sleeve]
    mask = polygons(torso, sleeve, mirrored)
    parse = parse_mask(mask, "top")
    gaps = torso_gaps(mask, parse)
    assert not (gaps & mask).any()
    between = polygons([(0.3, 0.35), (0.3 + gap, 0.35), (0.3 + gap, min(sleeve_end, hem) - 0.02),
                        (0.3, min(sleeve_end, hem) - 0.02)])
    between |= between[:, ::-1]
    assert (gaps & between).sum() >= 0.8 * (between & ~mask).sum()
    outside = ~polygons([(-0.46, 0.0), (0.46, 0.0), (0.46, 1.0), (-0.46, 1.0)])
    assert not (gaps & outside).any()
    tee = render(BODICE, t_shirt())
    assert torso_gaps(tee, parse_mask(tee)).sum() <= 0.005 * tee.sum()
    tank = render(BODICE, bodice(shoulder=0.6))
    assert not torso_gaps(tank, parse_mask(tank)).any()


def test_holes_in_a_torso_s_cloth_are_cloth_but_a_keyhole_on_its_centre_line_is_kept() -> None:
    """A hole the cut-out left in a tank top's body (off its centre line) is cloth: built as it
    was, it was a hole in the garment; a keyhole on the centre line below the neck is the garment's
    own (as a neck opening enclosed by a halter's strap would be)."""
    tank = render(BODICE, bodice(shoulder=0.6))
    rows, cols = np.nonzero(tank)
    middle = (cols.min() + cols.max()) // 2
    top, height = rows.min(), rows.max() - rows.min()
    holed = tank.copy()
    spot = (slice(top + int(0.6 * height), top + int(0.66 * height)), slice(middle + 20, middle + 28))
    keyhole = (slice(top + int(0.15 * height), top + int(0.22 * height)), slice(middle - 4, middle + 4))
    holed[spot] = holed[keyhole] = False
    gaps = torso_gaps(holed, parse_mask(tank))  # the parse of the garment as drawn
    assert gaps[spot].all()
    assert not gaps[keyhole].any()
    assert not (gaps & holed).any()
