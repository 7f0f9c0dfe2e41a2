"""The flat unfolding of stride-1 convolutions equals im2col/col2im on the padded grid."""

import numpy as np
import pytest

from handgrad.functional.flat_unfold import flat_unfold, fold_flat, unfold_flat
from handgrad.functional.im2col import col2im, im2col
from handgrad.functional.windows import pad_into, unpad


def random_case(rng):
    """Spatial sizes, kernel, dilation and pads for which the flat unfolding applies."""
    d = int(rng.integers(1, 4))
    kernel = tuple(int(v) for v in rng.integers(1, 5, d))
    dilation = tuple(int(v) for v in rng.integers(1, 3, d))
    spatial = tuple(int(v) for v in rng.integers(1, 8, d))
    spatial = (max(spatial[0], dilation[0] * (kernel[0] - 1) + 1),) + spatial[1:]   # fits unpadded
    spatial = spatial[:1] + tuple(max(n, dl * (k - 1) + 1) for n, k, dl in    # "valid" fits too
                                  zip(spatial[1:], kernel[1:], dilation[1:]))
    pads = [(int(rng.integers(0, 4)), int(rng.integers(0, 4)))]          # first dim: any padding
    for k, dl in zip(kernel[1:], dilation[1:]):                             # later dims do not grow
        total = int(rng.integers(0, dl * (k - 1) + 1))
        before = int(rng.integers(0, total + 1))
        pads.append((before, total - before))
    return spatial, kernel, dilation, tuple(pads)


@pytest.mark.parametrize("seed", range(60))
def test_unfold_and_fold_equal_im2col_and_col2im(seed):
    rng = np.random.default_rng(seed)
    spatial, kernel, dilation, pads = random_case(rng)
    first_out = spatial[0] + sum(pads[0]) - dilation[0] * (kernel[0] - 1)
    plan = flat_unfold(spatial, kernel, dilation, pads)
    out = tuple(n + a + b - dl * (k - 1) for n, k, dl, (a, b) in zip(spatial, kernel, dilation, pads))
    assert plan is not None and plan.out == out and out[0] == first_out
    assert plan.grid == out[:1] + spatial[1:]
    n, C, K, d = 3, 2, int(np.prod(kernel)), len(spatial)
    x = rng.standard_normal((n, C) + spatial)
    padded = tuple(s + a + b for s, (a, b) in zip(spatial, pads))
    xp = pad_into(x, pads, np.zeros((C, n) + padded), lead=(1, 0))
    expected = im2col(xp, kernel, (1,) * d, dilation, plan.out, np.empty((C,) + kernel + (n,) + plan.out))

    buf = np.zeros((C, n, plan.length))
    on_grid = (C,) + kernel + (n,) + plan.grid
    cols = unfold_flat(x, plan, buf, np.full((C, K, n, plan.run), np.nan))
    np.testing.assert_array_equal(cols.reshape(on_grid)[plan.valid()], expected)
    cols = unfold_flat(2 * x, plan, buf, cols)                              # buffer reused
    np.testing.assert_array_equal(cols.reshape(on_grid)[plan.valid()], 2 * expected)

    dcols = rng.standard_normal(expected.shape)
    dxp = col2im(dcols, kernel, (1,) * d, dilation, plan.out, np.zeros((C, n) + padded))
    dcols_grid = np.zeros(on_grid)                                          # junk columns: zero
    dcols_grid[plan.valid()] = dcols
    garbage = np.full((C, n, plan.length), np.nan)                          # any content on entry
    got = fold_flat(dcols_grid.reshape(C, K, n, plan.run), plan, garbage)
    np.testing.assert_allclose(got.reshape((C, n) + spatial), unpad(dxp, pads, spatial), rtol=1e-12, atol=1e-12)
    assert np.isfinite(garbage).all()                                       # padding zeroed too


SAME = [((14, 14), (3, 3), (1, 1), ((1, 1), (1, 1))), ((7, 7), (3, 3), (1, 1), ((1, 1), (1, 1))),
        ((4, 3, 5), (3, 1, 5), (1, 1, 1), ((1, 1), (0, 0), (2, 2))), ((9,), (5,), (1,), ((2, 2),))]


@pytest.mark.parametrize("case", list(range(20)) + SAME)
def test_fold_gives_the_sums_of_zero_then_add_every_tap_bit_for_bit(case):
    """The first tap is copied onto a buffer zeroed around its run: the same additions in
    the same order as the obvious col2im, so training runs do not change by a rounding."""
    rng = np.random.default_rng(100 + (case if isinstance(case, int) else 0))
    plan = flat_unfold(*(random_case(rng) if isinstance(case, int) else case))
    n, C, K = 2, 3, len(plan.starts)
    dcols = rng.standard_normal((C, K, n, plan.run)).astype(np.float32)
    obvious = np.zeros((C, n, plan.length), np.float32)
    grid = (C, n) + plan.grid
    for tap, start in enumerate(plan.starts):
        block = dcols[:, tap].copy()
        for index in plan.fixups[tap]:
            block.reshape(grid)[index] = 0
        obvious[:, :, start:start + plan.run] += block
    got = fold_flat(dcols.copy(), plan, np.full((C, n, plan.length), 1e30, np.float32))
    np.testing.assert_array_equal(got, obvious[:, :, plan.first:plan.first + plan.size])


@pytest.mark.parametrize("pads", [((1, 1), (2, 1)), ((1, 1), (2, 2))])
def test_not_applicable_when_a_later_dimension_grows(pads):
    assert flat_unfold((5, 5), (3, 3), (1, 1), pads) is None
