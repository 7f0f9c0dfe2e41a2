r"""The synthetic shapes data set: seeded, anti-aliased, rendered by NumPy alone.

Each image (default 1x64x64, black background) holds ``count`` copies (1-6) of one shape that
all share its type, size, rotation, reflection and fill; only their positions differ. The
copies sit in distinct cells of a grid (1x1 for one shape, 2x2 for 2-4, 3x3 for 5-6), so they
never overlap and can be counted exactly.

Attributes (a dict of arrays, one entry per image)
---------------------------------------------------
``shape``      int, index into :data:`SHAPES`
``count``      int in [1, 6]
``angle``      degrees in [0, 360/k) for a shape with k-fold rotational symmetry
               (:data:`SYMMETRY`), counterclockwise as displayed; 0 for the circle
``reflected``  bool; only the chiral ``pinwheel`` can be reflected (every other shape is its
               own mirror image up to a rotation, so reflection is not observable and is 0)
``fill``       int: 0 outline (a 1.5 px stroke), 1 solid, 2 grey (solid at a grey level)
``level``      float, the grey level of the strokes or the interior (1 unless fill is grey)
``radius``     float, circumradius in pixels
``centers``    float (N, 6, 2): (x, y) pixel coordinates of each copy (x = column, y = row,
               pixel centres at +0.5), NaN beyond ``count``

Targets
-------
``"shape"``       int64 class index into :data:`SHAPES`
``"count"``       int64 class ``count - 1`` (class c means c + 1 shapes)
``"regression"``  float32 (N, 9), columns :data:`REGRESSION_COLUMNS`:
                  count, cos(k theta), sin(k theta), reflected, level, outline,
                  radius / size, mean x / size, mean y / size.
                  Rotation is encoded by :math:`(\cos k\theta, \sin k\theta)`, which is the same for
                  every angle that gives the same picture; it is (0, 0) for the circle.
``"paired"``      images A and B side by side, (N, 1, size, 2 size); float32 (N, 7), columns
                  :data:`PAIRED_COLUMNS`: count_B - count_A, cos k(theta_B - theta_A),
                  sin k(theta_B - theta_A) (k of A; (0, 0) if the shape changed or is a circle),
                  reflection changed, level_B - level_A, outline changed, shape changed.

:func:`decode_regression` turns a prediction back into count and angle, and
:func:`angle_error` measures angles modulo the symmetry period 360/k.

Learnability: copies are never overlapping or cut off, so the count is exact from the image;
all copies share one rotation, so the rotation target is defined for every image (except the
circle, whose target is (0, 0)). To learn rotation precisely, give the network large shapes:
``generate(n, rng, count=(1, 1), shapes=("square", "triangle", ...))`` draws one shape of
circumradius 15-26 px per 64x64 image.

Rendering (:mod:`handgrad.data.shape_render`): each pixel's exact signed distance to the
shape boundary, turned into anti-aliased coverage.
"""

import numpy as np

from .._checks import as_rng, check_positive_int
from .shape_render import GRID as _GRID, K as _K, MIRRORED as _MIRRORED, SHAPES, SYMMETRY, render

REGRESSION_COLUMNS = ("count", "cos_k_angle", "sin_k_angle", "reflected", "level", "outline",
                      "radius", "x", "y")
PAIRED_COLUMNS = ("d_count", "cos_k_d_angle", "sin_k_d_angle", "reflection_changed",
                  "d_level", "outline_changed", "shape_changed")
TARGETS = ("shape", "count", "regression", "paired")
MAX_COUNT = 6
_SPLIT_SEEDS = {"train": 20240, "val": 20241, "test": 20242}


def sample_attributes(n, rng=None, *, shapes=SHAPES, count=(1, MAX_COUNT), fills=(0, 1, 2),
                      size=64):
    """Draw the attributes of ``n`` images (see the module docstring).

    Parameters
    ----------
    n : int
    rng : numpy.random.Generator or int, optional
    shapes : sequence of str
        Shape types to draw from, uniformly.
    count : (int, int)
        Inclusive range of copies per image, within [1, 6].
    fills : sequence of int
        Fill styles to draw from (0 outline, 1 solid, 2 grey).
    size : int
        Image side in pixels (positions and radii scale with it).
    """
    n = check_positive_int(n, "n", "shapes")
    rng = as_rng(rng)
    unknown = [s for s in shapes if s not in SYMMETRY]
    if unknown or not shapes:
        raise ValueError(f"shapes expected names from {SHAPES}, got {tuple(shapes)}")
    lo, hi = count
    if not 1 <= lo <= hi <= MAX_COUNT:
        raise ValueError(f"shapes expected count range within [1, {MAX_COUNT}], got {count}")
    shape = rng.choice(np.array([SHAPES.index(s) for s in shapes]), n)
    k = _K[shape]
    cnt = rng.integers(lo, hi + 1, n)
    period = np.where(k > 0, 360.0 / np.maximum(k, 1), 0.0)
    angle = rng.uniform(0, 1, n) * period
    reflected = (~_MIRRORED[shape]) & (rng.random(n) < 0.5)
    fill = rng.choice(np.asarray(fills), n)
    level = np.where(fill == 2, rng.uniform(0.35, 0.75, n), 1.0)
    g = _GRID[cnt]
    cell = size // g                                            # cell side in pixels
    radius = rng.uniform(0.55, 0.9, n) * (cell / 2 - 1.5)
    # distinct cells: the first `count` of a random permutation of the g*g cells
    order = np.argsort(np.where(np.arange(9)[None, :] < (g * g)[:, None],
                                rng.random((n, 9)), 2.0), axis=1)[:, :MAX_COUNT]
    offset = (size - g * cell) // 2
    slack = cell / 2 - radius - 1.0                             # keep a pixel of margin
    jitter = rng.uniform(-1, 1, (n, MAX_COUNT, 2)) * slack[:, None, None]
    col, row = order % g[:, None], order // g[:, None]
    centers = np.stack([col, row], -1) * cell[:, None, None] + cell[:, None, None] / 2
    centers = centers + offset[:, None, None] + jitter
    centers[np.arange(MAX_COUNT)[None, :] >= cnt[:, None]] = np.nan
    return {"shape": shape, "count": cnt, "angle": angle, "reflected": reflected, "fill": fill,
            "level": level, "radius": radius, "centers": centers, "size": size}


def targets(attrs, kind="regression"):
    """Targets of one image set for ``kind`` in ``"shape"``, ``"count"``, ``"regression"``."""
    if kind == "shape":
        return attrs["shape"].astype(np.int64)
    if kind == "count":
        return (attrs["count"] - 1).astype(np.int64)
    if kind != "regression":
        raise ValueError(f"shapes expected target in {TARGETS}, got {kind!r}")
    k = _K[attrs["shape"]]
    ka = np.deg2rad(k * attrs["angle"])
    size = attrs["size"]
    cols = [attrs["count"], np.where(k > 0, np.cos(ka), 0), np.where(k > 0, np.sin(ka), 0),
            attrs["reflected"], attrs["level"], attrs["fill"] == 0, attrs["radius"] / size,
            np.nanmean(attrs["centers"][..., 0], 1) / size,
            np.nanmean(attrs["centers"][..., 1], 1) / size]
    return np.stack(cols, 1).astype(np.float32)


def paired_targets(a, b):
    """Targets of pairs (A, B), columns :data:`PAIRED_COLUMNS`."""
    same = (a["shape"] == b["shape"]) & (_K[a["shape"]] > 0)
    kd = np.deg2rad(_K[a["shape"]] * (b["angle"] - a["angle"]))
    cols = [b["count"] - a["count"], np.where(same, np.cos(kd), 0), np.where(same, np.sin(kd), 0),
            a["reflected"] != b["reflected"], b["level"] - a["level"],
            (a["fill"] == 0) != (b["fill"] == 0), a["shape"] != b["shape"]]
    return np.stack(cols, 1).astype(np.float32)


def _change(a, rng, **kwargs):
    """B = A with each attribute group changed with probability 1/2."""
    n = len(a["shape"])
    fresh = sample_attributes(n, rng, size=a["size"], **kwargs)
    b = {key: (value.copy() if isinstance(value, np.ndarray) else value) for key, value in a.items()}
    for keys in (("shape", "angle", "reflected"), ("angle",), ("reflected",), ("fill", "level"),
                 ("count", "radius", "centers")):
        pick = rng.random(n) < 0.5
        for key in keys:
            b[key][pick] = fresh[key][pick]
    b["reflected"] &= ~_MIRRORED[b["shape"]]
    period = np.where(_K[b["shape"]] > 0, 360.0 / np.maximum(_K[b["shape"]], 1), 1.0)
    b["angle"] = np.where(_K[b["shape"]] > 0, np.mod(b["angle"], period), 0.0)
    return b


def generate(n, rng=None, *, size=64, target="regression", dtype=np.float32, **kwargs):
    """Generate ``n`` images with their targets and attributes.

    Parameters
    ----------
    n : int
    rng : numpy.random.Generator or int, optional
        The only source of randomness: the same seed gives the same images.
    size : int
        Image side in pixels (at least 16).
    target : {"regression", "count", "shape", "paired"}
    dtype : np.float32 (values in [0, 1]), np.float64 or np.uint8 (values in [0, 255])
    **kwargs
        ``shapes``, ``count``, ``fills`` for :func:`sample_attributes`.

    Returns
    -------
    images : (N, 1, size, size), or (N, 1, size, 2 size) for ``"paired"``
    targets : int64 (N,) or float32 (N, 9), (N, 7) for ``"paired"``
    attributes : dict (for ``"paired"``: {"a": dict, "b": dict})

    Examples
    --------
    >>> x, t, attrs = generate(4, np.random.default_rng(0), target="count")
    >>> x.shape, t.shape, x.dtype
    ((4, 1, 64, 64), (4,), dtype('float32'))
    """
    rng = as_rng(rng)
    size = check_positive_int(size, "size", "shapes", minimum=16)
    if target not in TARGETS:
        raise ValueError(f"shapes expected target in {TARGETS}, got {target!r}")
    a = sample_attributes(n, rng, size=size, **kwargs)
    if target == "paired":
        b = _change(a, rng, **kwargs)
        images = np.concatenate([render(a, dtype=dtype), render(b, dtype=dtype)], axis=3)
        return images, paired_targets(a, b), {"a": a, "b": b}
    return render(a, dtype=dtype), targets(a, target), a


def load_split(split="train", *, n=None, size=64, target="shape", seed=None, **kwargs):
    """The registered ``"shapes"`` data set: a fixed seed per split, uint8 images.

    ``n`` defaults to 10000 for "train" and 2000 for "val"/"test".
    """
    if split not in _SPLIT_SEEDS:
        raise ValueError(f"data set 'shapes' has no split {split!r}; choose one of: "
                         f"{', '.join(_SPLIT_SEEDS)}")
    n = n if n is not None else (10000 if split == "train" else 2000)
    rng = np.random.default_rng(_SPLIT_SEEDS[split] if seed is None else seed)
    images, t, _ = generate(n, rng, size=size, target=target, dtype=np.uint8, **kwargs)
    return images, t


def decode_regression(pred, shape):
    """Read count and angle back from regression outputs.

    Parameters
    ----------
    pred : (N, 9) array in :data:`REGRESSION_COLUMNS` order
    shape : (N,) int array of shape indices (the symmetry order k of each image)

    Returns
    -------
    dict with ``count`` (int64, rounded and clipped to [1, 6]) and ``angle`` (degrees in
    [0, 360/k); NaN for circles).
    """
    k = _K[np.asarray(shape)]
    count = np.clip(np.rint(pred[:, 0]), 1, MAX_COUNT).astype(np.int64)
    ka = np.rad2deg(np.arctan2(pred[:, 2], pred[:, 1]))
    angle = np.where(k > 0, np.mod(ka, 360.0) / np.maximum(k, 1), np.nan)
    return {"count": count, "angle": angle}


def angle_error(pred, true, shape):
    """Absolute angular error in degrees modulo the symmetry period 360/k (NaN for circles)."""
    k = _K[np.asarray(shape)]
    period = np.where(k > 0, 360.0 / np.maximum(k, 1), np.nan)
    d = np.mod(np.asarray(pred) - np.asarray(true), period)
    return np.minimum(d, period - d)
