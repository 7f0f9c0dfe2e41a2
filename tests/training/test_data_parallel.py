"""DataParallel: shards of a batch in threads give the single-threaded forward and gradients."""

import numpy as np
import pytest

import handgrad.layers as L
from handgrad._blas import blas_threads, get_blas_threads
from handgrad.data import DataLoader
from handgrad.losses import CrossEntropyLoss, MSELoss
from handgrad.optim import SGD
from handgrad.training import DataParallel, fit

F64 = dict(dtype=np.float64)


def _cnn(seed, dropout=0.0):
    rng = np.random.default_rng(seed)
    layers = [L.Conv2d(2, 4, 3, padding=1, rng=rng, **F64), L.ReLU(), L.MaxPool2d(3, 2, 1),
              L.Conv2d(4, 6, 3, rng=rng, **F64), L.Tanh(), L.Flatten(),
              L.Linear(6 * 2 * 2, 5, rng=rng, **F64)]
    if dropout:
        layers.insert(-1, L.Dropout(dropout, rng=rng))
    return L.Sequential(*layers)


def _grads(model):
    return {k: p.grad.copy() for k, p in model.parameters().items()}


@pytest.mark.parametrize("batch,workers", [(7, 2), (8, 3), (2, 4), (1, 2)])
def test_forward_and_gradients_equal_the_single_threaded_model(batch, workers):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 2, 8, 8))
    g = rng.standard_normal((batch, 5))
    single, wrapped = _cnn(1), _cnn(1)
    dp = DataParallel(wrapped, workers)

    y1, y2 = single.forward(x), dp.forward(x)
    np.testing.assert_allclose(y2, y1, rtol=1e-12, atol=1e-14)
    dx1, dx2 = single.backward(g), dp.backward(g)
    np.testing.assert_allclose(dx2, dx1, rtol=1e-12, atol=1e-14)
    g1, g2 = _grads(single), _grads(wrapped)
    assert g1.keys() == g2.keys() == dp.parameters().keys()
    for k in g1:
        np.testing.assert_allclose(g2[k], g1[k], rtol=1e-11, atol=1e-13, err_msg=k)


def test_gradients_accumulate_like_any_layer_and_replicas_see_updated_weights():
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((6, 2, 8, 8)), rng.standard_normal((6, 5))
    single, wrapped = _cnn(3), _cnn(3)
    dp = DataParallel(wrapped, 2)
    for _ in range(2):                                  # two backwards without zero_grad: sums
        single.forward(x), single.backward(g)
        dp.forward(x), dp.backward(g)
    for k, v in _grads(single).items():
        np.testing.assert_allclose(wrapped.parameters()[k].grad, v, rtol=1e-11, err_msg=k)
    for m in (single, wrapped):                          # an in-place update reaches every replica
        SGD(m.parameters(), lr=0.1).step()
    np.testing.assert_allclose(dp.forward(x), single.forward(x), rtol=1e-12, atol=1e-14)
    assert dp.state_dict().keys() == wrapped.state_dict().keys()


@pytest.mark.parametrize("loss,batch,workers", [
    (CrossEntropyLoss(), 7, 2), (CrossEntropyLoss(label_smoothing=0.1), 8, 3),
    (MSELoss(reduction="sum"), 5, 2), (MSELoss(), 3, 4)])
def test_forward_backward_equals_forward_loss_backward(loss, batch, workers):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((batch, 2, 8, 8))
    t = rng.integers(0, 5, batch) if isinstance(loss, CrossEntropyLoss) else rng.standard_normal((batch, 5))
    single, wrapped = _cnn(13), _cnn(13)
    y1 = single.forward(x)
    v1 = loss.forward(y1, t)
    single.backward(loss.backward())
    loss._cache = None
    y2, v2 = DataParallel(wrapped, workers).forward_backward(x, t, loss)
    np.testing.assert_allclose(y2, y1, rtol=1e-12, atol=1e-14)
    assert v2 == pytest.approx(v1, rel=1e-12)
    for k, g in _grads(single).items():
        np.testing.assert_allclose(wrapped.parameters()[k].grad, g, rtol=1e-11, atol=1e-13, err_msg=k)
    assert loss._cache is None                           # each worker used its own copy


def test_forward_backward_reports_non_finite_outputs_and_falls_back_for_other_losses():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((6, 2, 8, 8))
    x[5, 0, 0, 0] = np.nan                               # the second shard's outputs turn NaN
    out, value = DataParallel(_cnn(15), 2).forward_backward(x, rng.integers(0, 5, 6), CrossEntropyLoss())
    assert np.isnan(value) and np.isnan(out[5]).all() and np.isfinite(out[:3]).all()

    class Halved:                                        # a duck-typed loss: the plain path
        def forward(self, y, t):
            self.y = y
            return float(0.5 * np.sum(y * t))

        def backward(self):
            return 0.5 * np.ones_like(self.y) * self.t

    x, t = rng.standard_normal((6, 2, 8, 8)), rng.standard_normal((6, 5))
    halved = Halved()
    halved.t = t
    single, wrapped = _cnn(16), _cnn(16)
    single.forward(x)
    single.backward(0.5 * t)
    _, value = DataParallel(wrapped, 2).forward_backward(x, t, halved)
    assert value == pytest.approx(0.5 * np.sum(single.forward(x) * t), rel=1e-12)
    for k, g in _grads(single).items():
        np.testing.assert_allclose(wrapped.parameters()[k].grad, g, rtol=1e-11, atol=1e-13, err_msg=k)


def test_fit_with_two_workers_matches_one_worker():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((48, 2, 8, 8))
    y = rng.integers(0, 5, 48)
    models = []
    for workers in (1, 2):
        model = _cnn(5)
        loader = DataLoader(x, y, 16, shuffle=True, rng=np.random.default_rng(6), dtype=np.float64)
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.05, momentum=0.9), loader,
            epochs=3, verbose=False, workers=workers)
        models.append(model)
    for k, p in models[0].parameters().items():
        np.testing.assert_allclose(models[1].parameters()[k].data, p.data, rtol=1e-9, atol=1e-12, err_msg=k)


def test_batchnorm_normalizes_per_shard_and_averages_running_statistics():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 3)) * 2 + 1
    bn, ref = L.BatchNorm1d(3, **F64), L.BatchNorm1d(3, **F64)
    y = DataParallel(bn, 2).forward(x)
    halves = [ref.forward(x[:4]).copy(), L.BatchNorm1d(3, **F64).forward(x[4:])]
    np.testing.assert_allclose(y, np.concatenate(halves), rtol=1e-12)
    # the mean of the replicas' running means is the whole batch's update (equal shards)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(0), rtol=1e-12)
    var = (x[:4].var(0, ddof=1) + x[4:].var(0, ddof=1)) / 2
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * var, rtol=1e-12)


def test_dropout_masks_differ_between_shards_and_repeat_for_a_seed():
    x = np.ones((8, 2, 8, 8))
    outs = []
    for _ in range(2):
        model = L.Sequential(L.Flatten(), L.Dropout(0.5, rng=11))
        outs.append(DataParallel(model, 2).forward(x))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0][:4], outs[0][4:])      # replica 1 has its own masks


def test_eval_mode_reaches_the_replicas():
    model = _cnn(8, dropout=0.5)
    dp = DataParallel(model, 2)
    x = np.random.default_rng(9).standard_normal((6, 2, 8, 8))
    dp.forward(x)
    dp.eval()
    assert not model.training and all(not r.training for r in dp._replicas)
    np.testing.assert_allclose(dp.forward(x), model.forward(x), rtol=1e-12)


def test_bad_arguments_and_backward_before_forward():
    with pytest.raises(ValueError, match="workers to be a positive int, got 0"):
        DataParallel(_cnn(0), 0)
    with pytest.raises(TypeError, match="expected a Layer to wrap, got list"):
        DataParallel([L.ReLU()], 2)
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward"):
        DataParallel(_cnn(0), 2).backward(np.zeros((2, 5)))


def test_blas_threads_restores_the_previous_count():
    before = get_blas_threads()
    if before is None:
        pytest.skip("no OpenBLAS found in this process")
    with blas_threads(1):
        assert get_blas_threads() == 1
    assert get_blas_threads() == before


@pytest.mark.parametrize("n,workers", [(7, 2), (8, 3), (2, 4), (1, 2), (10, 1), (64, 5)])
def test_shard_bounds_split_like_array_split(n, workers):
    from handgrad._shards import shard_bounds
    x = np.arange(n)
    expected = np.array_split(x, max(1, min(workers, n)))
    got = [x[a:b] for a, b in shard_bounds(n, workers)]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


def test_worker_threads_follow_the_callers_numpy_error_state():
    """np.errstate is per thread: an overflow the caller silenced (a diverging run) must not
    warn from a worker thread either, and one the caller turned into an error must raise."""
    import warnings

    rng = np.random.default_rng(0)
    model = L.Sequential(L.Linear(4, 3, rng=rng))
    model[0].weight.data[...] = 1.0
    net = DataParallel(model, workers=2)
    x = np.full((8, 4), 1e38, np.float32)                   # x @ W.T = 4e38 overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore", invalid="ignore"):
            net.forward(x)
    with np.errstate(over="raise", invalid="raise"), pytest.raises(FloatingPointError):
        net.forward(x)
