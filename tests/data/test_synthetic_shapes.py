"""The synthetic shapes data set: determinism, attribute ranges, rendering, targets."""

import numpy as np
import pytest

from handgrad import data
from handgrad.data import shape_render
from handgrad.data import synthetic_shapes as shapes
from handgrad.data.synthetic_shapes import SHAPES, SYMMETRY

SIZE = 64


def _single(kind, angle=0.0, radius=20.0, center=(32.0, 32.0), fill=1, reflected=False, level=1.0):
    """Attributes of one image holding one shape."""
    centers = np.full((1, 6, 2), np.nan)
    centers[0, 0] = center
    return {"shape": np.array([SHAPES.index(kind)]), "count": np.array([1]),
            "angle": np.array([float(angle)]), "reflected": np.array([reflected]),
            "fill": np.array([fill]), "level": np.array([level]), "radius": np.array([radius]),
            "centers": centers, "size": SIZE}


def _area(kind, r):
    k = SYMMETRY[kind]
    if kind == "circle":
        return np.pi * r * r
    inner = shape_render.INNER[SHAPES.index(kind)] * r
    if kind == "star":                     # 2k triangles (centre, tip, inner vertex)
        return k * r * inner * np.sin(np.pi / k)
    if kind == "pinwheel":                 # k triangles (centre, tip, next inner vertex)
        return k * 0.5 * r * inner * np.sin(2 * np.pi / k)
    return 0.5 * k * r * r * np.sin(2 * np.pi / k)


@pytest.mark.parametrize("target", shapes.TARGETS)
def test_deterministic_for_a_seed(target):
    x1, t1, _ = shapes.generate(40, np.random.default_rng(3), target=target)
    x2, t2, _ = shapes.generate(40, np.random.default_rng(3), target=target)
    x3, _, _ = shapes.generate(40, np.random.default_rng(4), target=target)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(t1, t2)
    assert not np.array_equal(x1, x3)


def test_attribute_ranges():
    a = shapes.sample_attributes(3000, 0)
    k = np.array([SYMMETRY[SHAPES[s]] for s in a["shape"]])
    assert set(np.unique(a["shape"])) == set(range(len(SHAPES)))
    assert a["count"].min() == 1 and a["count"].max() == 6
    period = np.where(k > 0, 360 / np.maximum(k, 1), 0)
    assert ((a["angle"] >= 0) & ((a["angle"] < period) | (k == 0))).all()
    assert (a["angle"][k == 0] == 0).all()
    pinwheel = a["shape"] == SHAPES.index("pinwheel")
    assert not a["reflected"][~pinwheel].any() and 0.3 < a["reflected"][pinwheel].mean() < 0.7
    grey = a["fill"] == 2
    assert ((a["level"][grey] >= 0.35) & (a["level"][grey] <= 0.75)).all()
    assert (a["level"][~grey] == 1).all()
    present = ~np.isnan(a["centers"][..., 0])
    np.testing.assert_array_equal(present.sum(1), a["count"])
    r = a["radius"][:, None]
    lo, hi = a["centers"] - r[..., None], a["centers"] + r[..., None]
    assert (lo[present] >= 0).all() and (hi[present] <= SIZE).all()   # whole shapes in view
    # copies never overlap: centres at least two radii apart
    d = np.linalg.norm(a["centers"][:, :, None] - a["centers"][:, None], axis=-1)
    d[:, np.arange(6), np.arange(6)] = np.inf
    assert (np.nan_to_num(d, nan=np.inf) >= 2 * r[..., None]).all()


def test_restricting_shapes_count_and_fills():
    a = shapes.sample_attributes(200, 1, shapes=("square",), count=(2, 3), fills=(1,))
    assert (a["shape"] == SHAPES.index("square")).all()
    assert set(np.unique(a["count"])) == {2, 3} and (a["fill"] == 1).all()


@pytest.mark.parametrize("kind", SHAPES)
def test_solid_shape_mass_and_centroid_match_attributes(kind):
    attrs = _single(kind, angle=17.0, radius=20.0, center=(30.3, 33.8))
    img = shapes.render(attrs, dtype=np.float64)[0, 0]
    np.testing.assert_allclose(img.sum(), _area(kind, 20.0), rtol=0.01)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    centroid = (np.sum(img * xs) / img.sum(), np.sum(img * ys) / img.sum())
    np.testing.assert_allclose(centroid, (30.3, 33.8), atol=0.03)
    assert img.min() >= 0 and img.max() == 1


def test_grey_level_and_outline():
    solid = shapes.render(_single("square", fill=2, level=0.5))[0, 0]
    assert np.isclose(solid.max(), 0.5) and np.isclose(solid.sum(), 0.5 * _area("square", 20), rtol=0.01)
    outline = shapes.render(_single("circle", fill=0))[0, 0]
    # a 1.5 px ring around the circle of radius 20
    np.testing.assert_allclose(outline.sum(), 2 * np.pi * 20 * 1.5, rtol=0.02)
    assert outline[32, 32] == 0


@pytest.mark.parametrize("kind", [s for s in SHAPES if SYMMETRY[s] > 0])
def test_rotation_target_invariant_under_the_symmetry(kind):
    k = SYMMETRY[kind]
    a, b = _single(kind, angle=10.0), _single(kind, angle=10.0 + 360 / k)
    b["angle"] = np.mod(b["angle"], 360 / k)
    np.testing.assert_allclose(shapes.targets(a), shapes.targets(b), atol=1e-6)
    # and the pictures agree: a shape at the canvas centre rotated by 360/k is itself
    np.testing.assert_allclose(shapes.render(_single(kind, 10.0 + 360 / k)),
                               shapes.render(a), atol=2e-4)


def test_square_rotated_by_90_degrees():
    img = shapes.render(_single("square", angle=25.0))[0, 0]
    np.testing.assert_allclose(np.rot90(img), img, atol=2e-4)
    t1 = shapes.targets(_single("square", angle=25.0))
    t2 = shapes.targets(_single("square", angle=np.mod(115.0, 90)))
    np.testing.assert_allclose(t1, t2, atol=1e-6)


def test_rotation_is_counterclockwise_as_displayed():
    a = shapes.render(_single("pentagon", angle=0.0))[0, 0]
    b = shapes.render(_single("pentagon", angle=18.0))[0, 0]       # 90 degrees = 5 * 18
    # rotating 90 degrees counterclockwise (np.rot90) equals adding 90 to the angle
    np.testing.assert_allclose(np.rot90(a), shapes.render(_single("pentagon", angle=90.0 % 72))[0, 0], atol=2e-4)
    assert not np.allclose(a, b, atol=1e-2)


def test_pinwheel_reflection_is_a_mirror_image():
    plain = shapes.render(_single("pinwheel"))[0, 0]
    mirrored = shapes.render(_single("pinwheel", reflected=True))[0, 0]
    np.testing.assert_allclose(mirrored, plain[::-1], atol=2e-4)
    assert np.abs(mirrored - plain).max() > 0.5                        # chiral: visible


def test_regression_targets_decode_back():
    _, t, a = shapes.generate(500, 2, target="regression")
    assert t.shape == (500, len(shapes.REGRESSION_COLUMNS)) and t.dtype == np.float32
    decoded = shapes.decode_regression(t, a["shape"])
    np.testing.assert_array_equal(decoded["count"], a["count"])
    err = shapes.angle_error(decoded["angle"], a["angle"], a["shape"])
    circle = a["shape"] == SHAPES.index("circle")
    assert np.isnan(err[circle]).all() and (err[~circle] < 1e-3).all()
    assert (np.abs(t[:, 1:3]).sum(1)[circle] == 0).all()


def test_angle_error_wraps_around_the_period():
    square = np.array([SHAPES.index("square")])
    np.testing.assert_allclose(shapes.angle_error(np.array([89.0]), np.array([1.0]), square), 2.0)


def test_class_targets():
    _, count, a = shapes.generate(50, 5, target="count")
    np.testing.assert_array_equal(count, a["count"] - 1)
    _, kind, a = shapes.generate(50, 5, target="shape")
    assert kind.dtype == np.int64 and (kind == a["shape"]).all()


def test_paired_mode():
    x, t, ab = shapes.generate(300, 6, target="paired")
    a, b = ab["a"], ab["b"]
    assert x.shape == (300, 1, SIZE, 2 * SIZE) and t.shape == (300, len(shapes.PAIRED_COLUMNS))
    np.testing.assert_array_equal(x[..., :SIZE], shapes.render(a))
    np.testing.assert_array_equal(x[..., SIZE:], shapes.render(b))
    np.testing.assert_array_equal(t[:, 0], b["count"] - a["count"])
    np.testing.assert_array_equal(t[:, 6], a["shape"] != b["shape"])
    changed = t[:, 6] == 1
    assert 0.2 < changed.mean() < 0.8 and (t[changed, 1:3] == 0).all()
    same = ~changed & (a["shape"] != SHAPES.index("circle"))
    k = np.array([SYMMETRY[SHAPES[s]] for s in a["shape"][same]])
    np.testing.assert_allclose(t[same, 1], np.cos(np.deg2rad(k * (b["angle"] - a["angle"])[same])), atol=1e-6)
    assert (t[:, 0] != 0).any() and (t[:, 4] != 0).any()


def test_uint8_output():
    x, _, _ = shapes.generate(10, 0, dtype=np.uint8)
    xf, _, _ = shapes.generate(10, 0)
    assert x.dtype == np.uint8
    np.testing.assert_array_equal(x, np.round(xf * 255).astype(np.uint8))


def test_registered_and_offline():
    x, y = data.load("shapes", "train", n=20, target="count", download=False)
    x2, y2 = data.load("shapes", "train", n=20, target="count")
    xt, _ = data.load("shapes", "test", n=20)
    assert x.shape == (20, 1, 64, 64) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, xt)


@pytest.mark.parametrize("kwargs, match", [
    ({"target": "colour"}, "target in .*'regression'.*got 'colour'"),
    ({"count": (0, 3)}, r"count range within \[1, 6\], got \(0, 3\)"),
    ({"shapes": ("circle", "blob")}, "shapes expected names from"),
    ({"size": 8}, "size >= 16, got 8"),
])
def test_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        shapes.generate(4, 0, **kwargs)
