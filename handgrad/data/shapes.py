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

Rendering: each pixel's signed distance ``d`` to the shape boundary is computed exactly by
folding the pixel into the shape's fundamental wedge of angle :math:`2\pi/k` (mirrored for
reflection-symmetric shapes), where the boundary is one segment; coverage is
``clip(0.5 - d, 0, 1)`` (a 1-pixel linear ramp, the area of a pixel inside a straight edge).
"""

import numpy as np

from .._checks import as_rng, check_positive_int

SHAPES = ("circle", "triangle", "square", "pentagon", "hexagon", "star", "pinwheel")
SYMMETRY = {"circle": 0, "triangle": 3, "square": 4, "pentagon": 5, "hexagon": 6, "star": 5,
            "pinwheel": 4}
REGRESSION_COLUMNS = ("count", "cos_k_angle", "sin_k_angle", "reflected", "level", "outline",
                      "radius", "x", "y")
PAIRED_COLUMNS = ("d_count", "cos_k_d_angle", "sin_k_d_angle", "reflection_changed",
                  "d_level", "outline_changed", "shape_changed")
TARGETS = ("shape", "count", "regression", "paired")
MAX_COUNT = 6
_K = np.array([SYMMETRY[s] for s in SHAPES])
# inner radius / outer radius: edge midpoint for polygons, inner vertices for the star
_INNER = np.array([1.0] + [np.cos(np.pi / k) for k in (3, 4, 5, 6)] + [0.45, 0.5])
_MIRRORED = np.array([s != "pinwheel" for s in SHAPES])
_STROKE = 1.5
_GRID = np.array([0, 1, 2, 2, 2, 3, 3])         # grid side for a count
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


def _norm(a, b):
    return np.sqrt(a * a + b * b)


def _signed_distance(x, y, kind):
    """Signed distance (negative inside) to shape ``kind`` of circumradius 1, centred at 0.

    ``x, y`` (float32, any shape) are already rotated into the shape's frame, y up.
    """
    k = SYMMETRY[kind]
    if k == 0:
        return _norm(x, y) - np.float32(1)
    mirrored = kind != "pinwheel"
    wedge = 2 * np.pi / k
    # rotate the point by -m * wedge onto the wedge m whose axis is nearest to it (largest
    # projection; no arctan2, which is slow): the pinwheel's wedges start at their axis, so
    # its axes are taken half a wedge later
    shift = 0.0 if mirrored else wedge / 2
    cos_t = np.cos(wedge * np.arange(k) + shift).astype(np.float32)
    sin_t = np.sin(wedge * np.arange(k) + shift).astype(np.float32)
    best = x * cos_t[0] + y * sin_t[0]
    c = np.full_like(x, cos_t[0])
    s = np.full_like(x, sin_t[0])
    for j in range(1, k):
        proj = x * cos_t[j] + y * sin_t[j]
        better = proj > best
        np.maximum(best, proj, out=best)
        np.copyto(c, cos_t[j], where=better)
        np.copyto(s, sin_t[j], where=better)
    if not mirrored:   # back to the wedge's start
        ch, sh = np.float32(np.cos(shift)), np.float32(np.sin(shift))
        c, s = c * ch + s * sh, s * ch - c * sh
    xw = x * c + y * s
    yw = y * c - x * s
    if mirrored:
        yw = np.abs(yw)                                      # fold onto [0, pi/k]
    # the boundary in the wedge: segment A = (1, 0) -> B = r_in (cos beta, sin beta)
    beta = np.pi / k if mirrored else wedge
    r_in = float(_INNER[SHAPES.index(kind)])
    ex, ey = np.float32(r_in * np.cos(beta) - 1), np.float32(r_in * np.sin(beta))
    xa = xw - np.float32(1)
    t = np.clip((xa * ex + yw * ey) * np.float32(1 / (ex * ex + ey * ey)), 0, 1)
    dist = _norm(xa - t * ex, yw - t * ey)
    if not mirrored:   # the pinwheel's radial steps from r_in to 1 at angles 0 and 2 pi / k
        for ang in (0.0, wedge):
            ux, uy = np.float32(np.cos(ang)), np.float32(np.sin(ang))
            along = np.clip(xw * ux + yw * uy, r_in, 1)
            np.minimum(dist, _norm(xw - along * ux, yw - along * uy), out=dist)
    outside = xa * ey - yw * ex > 0                          # far side of line AB
    return np.where(outside, dist, -dist)


def _render_cells(px, py, a, occupied, kind):
    """Intensity of cells holding shape ``kind``; ``px, py``: (B, G, cell, cell) offsets.

    Only pixels within ``radius + 1.5`` of an occupied cell's centre are evaluated (the rest
    are 0): about half of the pixels.
    """
    f32 = np.float32
    theta = np.deg2rad(a["angle"]).astype(f32)
    inv_r = (1 / a["radius"]).astype(f32)
    c, s = np.cos(theta) * inv_r, np.sin(theta) * inv_r
    x = px * c + py * s                                      # rotate by -theta, scale by 1/R
    y = py * c - px * s
    if a["reflected"].any():
        y *= np.where(a["reflected"], f32(-1), f32(1))
    reach = ((a["radius"] + 1.5) * inv_r) ** 2
    near = (x * x + y * y < reach) & occupied
    x, y = x[near], y[near]                                  # (P,) the pixels that matter
    param = {key: np.broadcast_to(a[key], near.shape)[near] for key in ("radius", "fill", "level")}
    sdf = _signed_distance(x, y, kind) * param["radius"].astype(f32)   # back to pixels
    value = np.clip(f32(0.5) - sdf, 0, 1)
    outline = param["fill"] == 0
    if outline.any():
        value = np.where(outline, np.clip(f32(0.5 + _STROKE / 2) - np.abs(sdf), 0, 1), value)
    img = np.zeros(near.shape, f32)
    img[near] = value * param["level"].astype(f32)
    return img


def render(attrs, *, dtype=np.float32, chunk=256):
    """Render images from attributes as ``dtype`` in [0, 1] (or uint8 in [0, 255]).

    Shape: (N, 1, size, size). Each grid cell is rendered over its own pixels only, so the cost
    per image is one distance evaluation per pixel, whatever the count.
    """
    size, n = attrs["size"], len(attrs["shape"])
    out = np.zeros((n, size, size), np.float32)
    g_of = _GRID[attrs["count"]]
    for g in np.unique(g_of):
        cell = size // g
        off = (size - g * cell) // 2
        cells = np.arange(g * g)
        pix = np.arange(cell, dtype=np.float32) + 0.5
        xs = (off + (cells % g) * cell)[:, None, None] + pix[None, None, :]   # (G, 1, cell)
        ys = (off + (cells // g) * cell)[:, None, None] + pix[None, :, None]  # (G, cell, 1)
        for kind in np.unique(attrs["shape"][g_of == g]):
            group = np.flatnonzero((g_of == g) & (attrs["shape"] == kind))
            for idx in np.array_split(group, -(-len(group) // chunk)):
                out[idx, off:off + g * cell, off:off + g * cell] = _render_group(
                    attrs, idx, g, cell, off, xs, ys, SHAPES[kind])
    out = out[:, None]
    if np.dtype(dtype) == np.uint8:
        return np.round(out * 255).astype(np.uint8)
    return out.astype(dtype, copy=False)


def _render_group(attrs, idx, g, cell, off, xs, ys, kind):
    """Images ``idx`` (same grid g and shape kind): (B, g*cell, g*cell)."""
    B = len(idx)
    centers = attrs["centers"][idx]                              # (B, 6, 2)
    col = np.floor((centers[..., 0] - off) / cell)
    row = np.floor((centers[..., 1] - off) / cell)
    present = ~np.isnan(col)
    b, j = np.nonzero(present)
    slot = (row[b, j] * g + col[b, j]).astype(np.int64)
    cx = np.zeros((B, g * g), np.float32)                        # centre per cell
    cy = np.zeros((B, g * g), np.float32)
    occupied = np.zeros((B, g * g), bool)
    cx[b, slot], cy[b, slot], occupied[b, slot] = centers[b, j, 0], centers[b, j, 1], True
    e = (slice(None), slice(None), None, None)
    px = xs[None] - cx[e]                                        # (B, G, cell, cell)
    py = cy[e] - ys[None]                                        # y up
    a = {key: attrs[key][idx][:, None, None, None]
         for key in ("radius", "angle", "reflected", "fill", "level")}
    img = _render_cells(px, py, a, occupied[e], kind)
    img = img.reshape(B, g, g, cell, cell).transpose(0, 1, 3, 2, 4)
    return img.reshape(B, g * cell, g * cell)


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
