"""One panel of a Raven matrix: five discrete attributes, rendered by the shapes renderer.

A panel is a row of five integers, columns :data:`ATTRS`:

=========  ======  ===========================================================================
``type``   0-5     index into :data:`TYPES` (triangle, square, pentagon, hexagon, circle, star)
``count``  0-8     ``count + 1`` copies (1-9) on a grid: 1x1 for one, 2x2 for 2-4, 3x3 for 5-9
``size``   0-5     circumradius :data:`SIZE_FRACTION` ``[size]`` of the largest that fits a cell
``colour`` 0-7     0: white outline; c >= 1: solid at grey level 0.4 + 0.1 (c - 1) (7: white)
``angle``  0-7     rotation by ``45 * angle`` degrees counterclockwise
=========  ======  ===========================================================================

Only some rotations can be seen: a shape with k-fold symmetry looks the same after 360/k
degrees, so a panel shows the *view* ``angle mod VIEWS[type]`` (8 views for the triangle,
pentagon and star, 4 for the hexagon, 2 for the square, 1 for the circle).

Rendering goes through :func:`handgrad.data.shape_render.render`, which lays out up to six
copies. Up to six copies are drawn in one call (unused centre slots repeat a used one, which
draws the same pixels again); seven to nine copies are the pixel-wise maximum of two calls
on the same 3x3 grid.
"""

import numpy as np

from ..data.shape_render import SHAPES as _RENDER_SHAPES
from ..data.shape_render import render

ATTRS = ("type", "count", "size", "colour", "angle")
TYPE, COUNT, SIZE, COLOUR, ANGLE = range(5)
TYPES = ("triangle", "square", "pentagon", "hexagon", "circle", "star")
DOMAIN = np.array([6, 9, 6, 8, 8])               # number of values of each attribute
VIEWS = np.array([8, 2, 8, 4, 1, 8])              # distinct rotations of each type (45-degree steps)
FULL_VIEW_TYPES = np.flatnonzero(VIEWS == 8)      # types whose 8 rotations all look different
SIZE_FRACTION = np.array([0.55, 0.64, 0.73, 0.82, 0.91, 1.0])
_RENDER_INDEX = np.array([_RENDER_SHAPES.index(t) for t in TYPES])


def grid_side(count):
    """Grid side for attribute value ``count`` (0-8, i.e. 1-9 copies): 1, 2 or 3."""
    c = np.asarray(count) + 1
    return np.where(c == 1, 1, np.where(c <= 4, 2, 3))


def view(panels):
    """The visible rotation ``angle mod VIEWS[type]`` of panels ``(..., 5)``: ``(...)``."""
    panels = np.asarray(panels)
    return panels[..., ANGLE] % VIEWS[panels[..., TYPE]]


def visible(panels):
    """Panels with the angle replaced by the view: two panels look alike iff these are equal."""
    out = np.array(panels, copy=True)
    out[..., ANGLE] = view(panels)
    return out


def random_panels(n, rng):
    """``n`` panels with every attribute uniform over its domain: int64 ``(n, 5)``."""
    return np.stack([rng.integers(0, d, n) for d in DOMAIN], axis=1).astype(np.int64)


def check_panels(panels, where="panels"):
    """Validate an int array ``(..., 5)`` of attribute values; returns it as int64."""
    p = np.asarray(panels)
    if p.ndim < 1 or p.shape[-1] != len(ATTRS) or not np.issubdtype(p.dtype, np.integer):
        raise ValueError(f"{where} expected integers of shape (..., {len(ATTRS)}) (columns {ATTRS}), "
                         f"got {p.dtype} of shape {p.shape}")
    bad = (p < 0) | (p >= DOMAIN)
    if bad.any():
        col = int(np.argwhere(bad)[0][-1])
        raise ValueError(f"{where} expected {ATTRS[col]} in [0, {DOMAIN[col] - 1}], "
                         f"got {int(p[..., col][bad[..., col]].ravel()[0])}")
    return p.astype(np.int64, copy=False)


def _layout(panels, size, rng):
    """Renderer attributes for panels ``(N, 5)``: cells, radii, jittered centres (N, 9, 2)."""
    n = len(panels)
    count = panels[:, COUNT] + 1
    g = grid_side(panels[:, COUNT])
    cell = size // g
    radius = SIZE_FRACTION[panels[:, SIZE]] * (cell / 2 - 1.0)
    # distinct cells: the first `count` of a random permutation of the g*g cells
    keys = np.where(np.arange(9)[None, :] < (g * g)[:, None], rng.random((n, 9)), 2.0)
    order = np.argsort(keys, axis=1)                                 # (N, 9)
    slack = np.maximum(cell / 2 - radius - 1.0, 0.0)
    jitter = rng.uniform(-1, 1, (n, 9, 2)) * slack[:, None, None]
    offset = (size - g * cell) // 2
    col, row = order % g[:, None], order // g[:, None]
    centers = (np.stack([col, row], -1) * cell[:, None, None] + cell[:, None, None] / 2
               + offset[:, None, None] + jitter)                     # (N, 9, 2)
    colour = panels[:, COLOUR]
    attrs = {"shape": _RENDER_INDEX[panels[:, TYPE]], "angle": 45.0 * panels[:, ANGLE],
             "reflected": np.zeros(n, bool), "fill": np.where(colour == 0, 0, 2),
             "level": np.where(colour == 0, 1.0, 0.4 + 0.1 * (colour - 1)), "radius": radius,
             "size": size}
    return attrs, centers, count, g


def _slots(centers, count, first, last):
    """Centres ``first .. min(count, last) - 1`` in 6 slots, the rest repeating the first used."""
    n = len(centers)
    idx = np.arange(first, first + 6)[None, :].repeat(n, 0)          # (N, 6)
    idx = np.where(idx < np.minimum(count, last)[:, None], idx, first)
    return centers[np.arange(n)[:, None], idx]


def render_panels(panels, rng, *, size=40):
    """Render panels ``(..., 5)`` as uint8 images ``(..., size, size)`` in [0, 255].

    ``rng`` places the copies (random cells, jitter within the cell); everything else is set
    by the attributes.
    """
    panels = check_panels(panels)
    lead = panels.shape[:-1]
    flat = panels.reshape(-1, len(ATTRS))
    if len(flat) == 0:
        return np.zeros(lead + (size, size), np.uint8)
    attrs, centers, count, g = _layout(flat, size, rng)
    # the renderer picks its grid from the count: 1 -> 1x1, 4 -> 2x2, 6 -> 3x3
    attrs["count"] = np.array([0, 1, 4, 6])[g]
    attrs["centers"] = _slots(centers, count, 0, 6)
    img = render(attrs)[:, 0]                                        # (N, size, size) float32
    more = np.flatnonzero(count > 6)
    if len(more):
        extra = {k: (v[more] if isinstance(v, np.ndarray) else v) for k, v in attrs.items()}
        extra["centers"] = _slots(centers[more], count[more], 6, 9)
        img[more] = np.maximum(img[more], render(extra)[:, 0])
    return np.round(img * 255).astype(np.uint8).reshape(lead + (size, size))
