"""DataLoader, Standardize, train_val_split and the augmentations."""

import numpy as np
import pytest

from handgrad.data import (Compose, DataLoader, RandomFlip, RandomRotation, RandomShift,
                           Standardize, to_float, train_val_split)


def _data(n=103):
    x = np.arange(n * 4, dtype=np.uint8).reshape(n, 1, 2, 2)
    return x, np.arange(n)


@pytest.mark.parametrize("drop_last", [False, True], ids=["keep-last", "drop-last"])
@pytest.mark.parametrize("shuffle", [False, True], ids=["ordered", "shuffled"])
def test_every_sample_once_per_epoch(shuffle, drop_last):
    x, y = _data()
    loader = DataLoader(x, y, batch_size=10, shuffle=shuffle, rng=0, drop_last=drop_last)
    assert len(loader) == (10 if drop_last else 11)
    seen = np.concatenate([yb for _, yb in loader])
    assert len(seen) == (100 if drop_last else 103) and len(np.unique(seen)) == len(seen)
    if not drop_last:
        assert sorted(seen) == list(range(103))
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


def test_batches_are_float_scaled_and_match_targets():
    x, y = _data()
    for xb, yb in DataLoader(x, y, batch_size=16, shuffle=True, rng=1):
        assert xb.dtype == np.float32 and xb.max() <= 1
        np.testing.assert_allclose(xb, x[yb] / np.float32(255), rtol=1e-6)


def test_order_is_deterministic_for_a_seed_and_changes_each_epoch():
    x, y = _data()
    a = DataLoader(x, y, batch_size=7, shuffle=True, rng=np.random.default_rng(5))
    b = DataLoader(x, y, batch_size=7, shuffle=True, rng=np.random.default_rng(5))
    epoch = lambda loader: np.concatenate([yb for _, yb in loader])
    first_a, first_b = epoch(a), epoch(b)
    np.testing.assert_array_equal(first_a, first_b)
    second_a = epoch(a)
    assert not np.array_equal(first_a, second_a)
    np.testing.assert_array_equal(second_a, epoch(b))


def test_loader_does_not_copy_the_dataset():
    x, y = _data()
    loader = DataLoader(x, y, batch_size=8, shuffle=True, rng=0)
    assert loader.x is x and loader.y is y


def test_float64_and_transform():
    x, y = _data(10)
    seen = []
    loader = DataLoader(x, y, batch_size=4, dtype=np.float64,
                        transform=lambda xb, rng: seen.append(xb.dtype) or xb * 2)
    xb, _ = next(iter(loader))
    assert xb.dtype == np.float64 and seen == [np.float64]
    np.testing.assert_allclose(xb, x[:4] / 255 * 2)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, "DataLoader expected batch_size >= 1, got 0"),
    ({"batch_size": 2.5}, TypeError, "DataLoader expected batch_size to be an int"),
    ({"dtype": np.int32}, TypeError, "DataLoader dtype must be float32 or float64, got int32"),
    ({"rng": "seed"}, TypeError, "DataLoader rng expected a numpy.random.Generator"),
])
def test_loader_validation(kwargs, error, match):
    x, y = _data(4)
    with pytest.raises(error, match=match):
        DataLoader(x, y, **kwargs)


def test_loader_length_mismatch():
    with pytest.raises(ValueError, match="got x with 4 and y with 3"):
        DataLoader(np.zeros((4, 1)), np.zeros(3))


def test_standardize_fits_on_training_data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (500, 2, 4, 4)).astype(np.uint8)
    s = Standardize().fit(x, chunk=64)                               # chunked == whole
    xf = to_float(x, np.float64)
    np.testing.assert_allclose(s.mean, xf.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(s.std, xf.std(axis=(0, 2, 3)), rtol=1e-9)
    z = s(to_float(x))
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-4)


def test_standardize_before_fit():
    with pytest.raises(RuntimeError, match="before fit"):
        Standardize()(np.zeros((1, 1, 2, 2), np.float32))


@pytest.mark.parametrize("stratify", [False, True], ids=["random", "stratified"])
def test_train_val_split(stratify):
    y = np.repeat(np.arange(4), [100, 200, 300, 400])
    x = np.arange(1000) * 10
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.1, rng=3, stratify=stratify)
    assert len(xv) == 100 and len(xt) == 900
    assert sorted(np.concatenate([xt, xv]).tolist()) == x.tolist()   # a partition
    np.testing.assert_array_equal(y[xv // 10], yv)                     # pairs kept together
    np.testing.assert_array_equal(y[xt // 10], yt)
    if stratify:
        assert np.bincount(yv).tolist() == [10, 20, 30, 40]
    (xt2, _), (xv2, _) = train_val_split(x, y, 0.1, rng=3, stratify=stratify)
    np.testing.assert_array_equal(xv, xv2)


@pytest.mark.parametrize("fraction, error, match", [
    (0, ValueError, r"val_fraction in \(0, 1\), got 0"),
    (1.0, ValueError, r"val_fraction in \[0, 1\), got 1.0"),
    ("0.1", TypeError, "val_fraction to be a number"),
])
def test_train_val_split_validation(fraction, error, match):
    with pytest.raises(error, match=match):
        train_val_split(np.zeros(10), np.zeros(10), fraction)


AUGMENTS = [RandomShift(3), RandomRotation(15), RandomRotation(15, mode="nearest"),
            RandomFlip(), RandomFlip(horizontal=False, vertical=True, p=1.0),
            Compose(RandomShift(2), RandomRotation(10), RandomFlip())]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("augment", AUGMENTS, ids=repr)
def test_augmentation_keeps_shape_and_dtype_and_is_seeded(augment, dtype):
    x = (np.random.default_rng(0).random((9, 2, 12, 10)) * 200).astype(dtype)
    before = x.copy()
    a = augment(x, np.random.default_rng(7))
    b = augment(x, np.random.default_rng(7))
    assert a.shape == x.shape and a.dtype == x.dtype
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, before)                          # input untouched


def test_shift_moves_content_and_fills():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 2] = 1
    out = RandomShift(2)(np.repeat(x, 200, 0), np.random.default_rng(0))
    rows, cols = np.nonzero(out[:, 0].sum(0))
    assert set(rows) == set(range(5)) and set(cols) == set(range(5))  # every offset in +-2
    assert (out.reshape(200, -1).sum(1) == 1).all()                    # nothing lost in range


def test_rotation_by_zero_is_identity_and_small_angles_keep_mass():
    x = np.random.default_rng(0).random((4, 1, 9, 9))
    np.testing.assert_allclose(RandomRotation(0)(x, np.random.default_rng(0)), x, atol=1e-12)
    blob = np.zeros((8, 1, 21, 21))
    blob[:, 0, 8:13, 8:13] = 1
    out = RandomRotation(20)(blob, np.random.default_rng(1))
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), 25, rtol=0.05)


def test_flip_probability_one_flips_everything():
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 1, 3, 4)
    np.testing.assert_array_equal(RandomFlip(p=1.0)(x, 0), x[..., ::-1])


@pytest.mark.parametrize("make, match", [
    (lambda: RandomShift(-1), "RandomShift expected max_shift >= 0"),
    (lambda: RandomRotation(5, mode="cubic"), "mode 'bilinear' or 'nearest', got 'cubic'"),
    (lambda: RandomFlip(p=2), r"RandomFlip expected p in \[0, 1\], got 2"),
    (lambda: RandomShift(1)(np.zeros((2, 3, 4)), 0), r"expected a batch of shape \(N, C, H, W\)"),
])
def test_augmentation_validation(make, match):
    with pytest.raises(ValueError, match=match):
        make()
