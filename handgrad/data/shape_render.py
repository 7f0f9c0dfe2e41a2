"""Rasterizing the synthetic shapes: exact signed distances, anti-aliased coverage.

A regular shape with k-fold symmetry is described in its *fundamental wedge*: rotate a point
onto the wedge whose axis is nearest (and fold it across the axis for shapes that are also
mirror-symmetric); there the boundary is a single segment A -> B from the vertex A = (R, 0) to
B = r_in (cos beta, sin beta) (beta = pi/k when mirrored, 2 pi/k for the chiral pinwheel, whose
wedges also have radial steps). The distance to that segment is the exact distance to the
boundary; its sign says which side of line AB the point is on. Coverage of a pixel is
``clip(0.5 - d, 0, 1)``, the fraction of a unit pixel inside a straight edge at distance d
(outlines: ``clip(0.5 + w/2 - |d|, 0, 1)`` for stroke width w).

Shapes are laid out on a grid (1x1 for one copy, 2x2 for 2-4, 3x3 for 5-6); each cell is
rendered over its own pixels, all images of one (grid, shape type) group at once.
"""

import numpy as np

SHAPES = ("circle", "triangle", "square", "pentagon", "hexagon", "star", "pinwheel")
SYMMETRY = {"circle": 0, "triangle": 3, "square": 4, "pentagon": 5, "hexagon": 6, "star": 5,
            "pinwheel": 4}
K = np.array([SYMMETRY[s] for s in SHAPES])
# inner radius / outer radius: edge midpoint for polygons, inner vertices for the star
INNER = np.array([1.0] + [np.cos(np.pi / k) for k in (3, 4, 5, 6)] + [0.45, 0.5])
MIRRORED = np.array([s != "pinwheel" for s in SHAPES])
GRID = np.array([0, 1, 2, 2, 2, 3, 3])          # grid side for a count of 0..6
STROKE = 1.5                                    # outline width in pixels


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
    r_in = float(INNER[SHAPES.index(kind)])
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
        value = np.where(outline, np.clip(f32(0.5 + STROKE / 2) - np.abs(sdf), 0, 1), value)
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
    g_of = GRID[attrs["count"]]
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
