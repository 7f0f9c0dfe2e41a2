"""The catalogue of bad inputs to the Python API: each gets the error type and message it
should, or the correct result. Grouped as the issue's categories (optimizers and schedules,
dtypes, layer calls in the wrong order or with wrong gradients, losses, predict/fit, data).

Each row: id, a function that makes the call, the exception class and a regex on its message.
"""

import math

import numpy as np
import pytest

import handgrad as hg
from handgrad import losses as Ls
from handgrad import optim
from handgrad.data import DataLoader, IDXError, train_val_split
from handgrad.data.idx import parse_idx
from handgrad.training import TrainingError, fit, predict

from .forge import idx_header, tiny_model


def _p():
    return {"w": hg.Parameter(np.zeros(3, np.float32))}


def _linear_after_forward(dtype=np.float32):
    layer = hg.Linear(10, 10, rng=0, dtype=dtype)
    layer(np.ones((4, 10), dtype))
    return layer


def _backward_twice(layer, x):
    y = layer(x)
    layer.backward(np.ones_like(y))
    return layer.backward(np.ones_like(y))


def _lr_assignment():
    opt = optim.SGD(_p(), lr=0.1)
    opt.lr = math.inf


def _fit_diverging():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 2, 64)
    model = tiny_model()
    fit(model, Ls.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e6), (x, y), epochs=3,
        batch_size=16, rng=0, verbose=False)


def _fit_nan_data():
    x = np.full((8, 4), np.nan, np.float32)
    model = tiny_model()
    fit(model, Ls.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, np.zeros(8, np.int64)),
        epochs=1, batch_size=4, rng=0, verbose=False)


F32 = np.float32
X4 = np.ones((2, 4), F32)
CASES = [
    # -- optimizers and schedules: finite lr >= 0, momentum in [0, 1), eps > 0, betas in [0, 1)
    ("sgd-lr-inf", lambda: optim.SGD(_p(), lr=math.inf), ValueError, r"SGD expected lr to be a finite number, got inf"),
    ("sgd-lr-nan", lambda: optim.SGD(_p(), lr=math.nan), ValueError, r"lr to be a finite number, got nan"),
    ("sgd-lr-negative", lambda: optim.SGD(_p(), lr=-0.1), ValueError, r"lr in \[0, inf\), got -0.1"),
    ("sgd-lr-string", lambda: optim.SGD(_p(), lr="0.1"), TypeError, r"lr to be a number, got str"),
    ("sgd-momentum-1.5", lambda: optim.SGD(_p(), lr=0.1, momentum=1.5), ValueError, r"momentum in \[0, 1\), got 1.5"),
    ("sgd-momentum-1", lambda: optim.SGD(_p(), lr=0.1, momentum=1.0), ValueError, r"momentum in \[0, 1\), got 1.0"),
    ("sgd-dampening-2", lambda: optim.SGD(_p(), lr=0.1, momentum=0.5, dampening=2), ValueError,
     r"dampening in \[0, 1\], got 2.0"),
    ("sgd-lr-assigned-inf", _lr_assignment, ValueError, r"lr to be a finite number"),
    ("adam-eps-0", lambda: optim.Adam(_p(), eps=0), ValueError, r"Adam expected eps in \(0, inf\), got 0.0"),
    ("adam-eps-underflows-float32", lambda: optim.Adam(_p(), eps=1e-300), ValueError,
     r"eps representable in float32 \(parameter 'w'\), got 1e-300, which rounds to 0"),
    ("adam-beta1-1", lambda: optim.Adam(_p(), betas=(1.0, 0.9)), ValueError, r"betas\[0\] in \[0, 1\), got 1.0"),
    ("adam-beta2-negative", lambda: optim.Adam(_p(), betas=(0.9, -0.1)), ValueError, r"betas\[1\] in \[0, 1\)"),
    ("adam-weight-decay-inf", lambda: optim.Adam(_p(), weight_decay=math.inf), ValueError,
     r"weight_decay to be a finite number"),
    ("adamw-lr-nan", lambda: optim.AdamW(_p(), lr=math.nan), ValueError, r"AdamW expected lr to be a finite"),
    ("rmsprop-eps-0", lambda: optim.RMSprop(_p(), eps=0.0), ValueError, r"RMSprop expected eps in \(0, inf\)"),
    ("rmsprop-momentum-1", lambda: optim.RMSprop(_p(), momentum=1.0), ValueError, r"momentum in \[0, 1\)"),
    ("adagrad-eps-0", lambda: optim.AdaGrad(_p(), eps=0.0), ValueError, r"AdaGrad expected eps in \(0, inf\)"),
    ("max-grad-norm-inf", lambda: optim.SGD(_p(), lr=0.1, max_grad_norm=math.inf), ValueError,
     r"max_grad_norm to be a finite number"),
    ("onecycle-1-step", lambda: optim.OneCycleLR(optim.SGD(_p(), lr=0.1), max_lr=0.1, total_steps=1),
     ValueError, r"total_steps >= 2, got 1"),
    ("steplr-gamma-inf", lambda: optim.StepLR(optim.SGD(_p(), lr=0.1), step_size=1, gamma=math.inf),
     ValueError, r"gamma to be a finite number"),
    ("plateau-metric-nan", lambda: optim.ReduceLROnPlateau(optim.SGD(_p(), lr=0.1)).step(math.nan),
     ValueError, r"metric to be a finite number, got nan"),
    # -- dtypes: float32 and float64 only
    ("linear-float16", lambda: hg.Linear(2, 2, dtype=np.float16), TypeError, r"dtype must be float32 or float64, got float16"),
    ("conv-float16", lambda: hg.Conv2d(1, 2, 3, dtype=np.float16), TypeError, r"float32 or float64, got float16"),
    ("batchnorm-int64", lambda: hg.BatchNorm2d(2, dtype=np.int64), TypeError, r"float32 or float64, got int64"),
    ("linear-complex", lambda: hg.Linear(2, 2, dtype=np.complex128), TypeError, r"float32 or float64, got complex128"),
    ("linear-dtype-name", lambda: hg.Linear(2, 2, dtype="half"), TypeError, r"float32 or float64, got float16"),
    ("loader-float16", lambda: DataLoader(X4, np.zeros(2), dtype=np.float16), TypeError,
     r"DataLoader dtype must be float32 or float64"),
    # -- layer calls: input, order, gradient shape and dtype
    ("linear-grad-shape", lambda: _linear_after_forward().backward(np.ones((2, 20), F32)), ValueError,
     r"Linear.backward expected grad_out of shape \(4, 10\) .*got \(2, 20\)"),
    ("linear-grad-float64", lambda: _linear_after_forward().backward(np.ones((4, 10))), TypeError,
     r"Linear.backward expected grad_out of dtype float32 .*got float64"),
    ("linear-grad-list", lambda: _linear_after_forward().backward([[1.0] * 10] * 4), TypeError,
     r"grad_out to be a NumPy array .*got list"),
    ("linear-backward-twice", lambda: _backward_twice(hg.Linear(4, 2, rng=0), X4), RuntimeError,
     r"Linear.backward\(\) was called twice after one forward"),
    ("sequential-backward-twice", lambda: _backward_twice(tiny_model(), X4), RuntimeError,
     r"Sequential.backward\(\) was called twice"),
    ("conv-backward-twice", lambda: _backward_twice(hg.Conv2d(1, 2, 3, rng=0), np.ones((1, 1, 5, 5), F32)),
     RuntimeError, r"Conv2d.backward\(\) was called twice"),
    ("maxpool-backward-twice", lambda: _backward_twice(hg.MaxPool2d(2), np.ones((1, 1, 4, 4), F32)),
     RuntimeError, r"MaxPool2d.backward\(\) was called twice"),
    ("relu-backward-before-forward", lambda: hg.ReLU().backward(X4), RuntimeError, r"ReLU.backward\(\) was called before forward"),
    ("batchnorm-grad-shape", lambda: (lambda bn: (bn(np.ones((3, 2), F32) + np.arange(3, dtype=F32)[:, None]),
                                                  bn.backward(np.ones((2, 2), F32))))(hg.BatchNorm1d(2)),
     ValueError, r"BatchNorm1d.backward expected grad_out of shape \(3, 2\)"),
    ("linear-int-input", lambda: hg.Linear(4, 2, rng=0)(np.ones((2, 4), np.int64)), TypeError,
     r"expected a floating-point array, got dtype int64"),
    ("linear-float64-input", lambda: hg.Linear(4, 2, rng=0)(np.ones((2, 4))), TypeError,
     r"has float32 parameters but received a float64 input"),
    ("conv-channels-last", lambda: hg.Conv2d(1, 2, 3, rng=0)(np.ones((2, 28, 28, 1), F32)), ValueError,
     r"channels-last"),
    ("batchnorm-one-sample", lambda: hg.BatchNorm1d(3)(np.ones((1, 3), F32)), ValueError,
     r"needs more than one value per channel"),
    # -- losses: empty batches, target rows, labels
    ("ce-empty-batch", lambda: Ls.CrossEntropyLoss()(np.zeros((0, 3), F32), np.zeros(0, np.int64)), ValueError,
     r"CrossEntropyLoss received an empty batch"),
    ("mse-empty-batch", lambda: Ls.MSELoss()(np.zeros((0, 2), F32), np.zeros((0, 2), F32)), ValueError,
     r"MSELoss received an empty batch"),
    ("bce-empty-batch", lambda: Ls.BCEWithLogitsLoss()(np.zeros(0, F32), np.zeros(0, F32)), ValueError,
     r"BCEWithLogitsLoss received an empty batch"),
    ("ce-rows-sum-2", lambda: Ls.CrossEntropyLoss()(np.zeros((2, 3), F32), np.ones((2, 3), F32) * 2 / 3),
     ValueError, r"probability rows .*2 rows that are not, e.g. row 0 with sum 2"),
    ("ce-rows-negative", lambda: Ls.CrossEntropyLoss()(np.zeros((1, 2), F32), np.array([[1.5, -0.5]], F32)),
     ValueError, r"probability rows .*minimum -0.5"),
    ("cce-rows-not-probabilities", lambda: Ls.CategoricalCrossEntropy()(np.full((1, 2), 0.5), np.array([[3.0, 0.0]])),
     ValueError, r"CategoricalCrossEntropy expected \(N, C\) targets to be probability rows"),
    ("ce-label-out-of-range", lambda: Ls.CrossEntropyLoss()(np.zeros((2, 3), F32), np.array([0, 3])), ValueError,
     r"labels must be in \[0, 3\), got min 0 and max 3"),
    ("ce-float-labels", lambda: Ls.CrossEntropyLoss()(np.zeros((2, 3), F32), np.array([0.0, 1.0])), TypeError,
     r"integer labels must have an integer dtype"),
    ("ce-nan-logits", lambda: Ls.CrossEntropyLoss()(np.full((2, 3), np.nan, F32), np.array([0, 1])), ValueError,
     r"NaN or inf values \(6 of 6 entries\)"),
    ("mse-shape", lambda: Ls.MSELoss()(np.zeros((2, 3), F32), np.zeros((3, 2), F32)), ValueError,
     r"target of the prediction's shape \(2, 3\), got \(3, 2\)"),
    ("loss-backward-before-forward", lambda: Ls.MSELoss().backward(), RuntimeError, r"called before forward"),
    # -- predict and fit
    ("predict-nan", lambda: predict(tiny_model(), np.full((2, 4), np.nan, F32)), ValueError,
     r"predict received NaN or inf in x \(8 of 8 values\)"),
    ("predict-inf", lambda: predict(tiny_model(), np.array([[np.inf, 0, 0, 0]], F32)), ValueError,
     r"NaN or inf in x \(1 of 4"),
    ("predict-empty", lambda: predict(tiny_model(), np.zeros((0, 4), F32)), ValueError,
     r"predict received no samples \(x of shape \(0, 4\)\)"),
    ("predict-list", lambda: predict(tiny_model(), [[0.0] * 4]), TypeError, r"predict expected a NumPy array, got list"),
    ("fit-adam-lr-1e6", _fit_diverging, TrainingError, r"training diverged at epoch 1, step \d+ of 4: the loss "),
    ("fit-nan-data", _fit_nan_data, TrainingError, r"training diverged at epoch 1, step 1 .*output holds NaN"),
    ("fit-epochs-0", lambda: fit(tiny_model(), Ls.MSELoss(), optim.SGD(tiny_model().parameters(), lr=0.1),
                                 (X4, X4[:, :2]), epochs=0, batch_size=2), ValueError, r"fit expected epochs >= 1, got 0"),
    # -- data: IDX bytes, loaders, splits
    ("idx-dims-overflow", lambda: parse_idx(idx_header(0x08, (65536,) * 4) + b"\0" * 16), IDXError,
     r"truncated IDX file: shape \(65536, 65536, 65536, 65536\) of uint8 needs 18446744073709551636 bytes"),
    ("idx-bad-magic", lambda: parse_idx(b"\x01\x00\x08\x01" + b"\0" * 8), IDXError, r"magic number starts with 0x0100"),
    ("idx-unknown-type", lambda: parse_idx(b"\x00\x00\x07\x01" + b"\0" * 8), IDXError, r"unknown IDX element type 0x07"),
    ("idx-zero-dims", lambda: parse_idx(b"\x00\x00\x08\x00"), IDXError, r"declares 0 dimensions"),
    ("idx-short-header", lambda: parse_idx(b"\x00\x00\x08\x03\x00"), IDXError, r"header needs 16 bytes for 3 dimensions"),
    ("idx-extra-bytes", lambda: parse_idx(idx_header(0x08, (2,)) + b"\1\2\3"), IDXError, r"1 unexpected bytes after"),
    ("loader-length-mismatch", lambda: DataLoader(X4, np.zeros(3)), ValueError, r"x with 2 and y with 3"),
    ("loader-batch-0", lambda: DataLoader(X4, np.zeros(2), batch_size=0), ValueError, r"batch_size >= 1, got 0"),
    ("split-fraction-0", lambda: train_val_split(X4, np.zeros(2), 0), ValueError, r"val_fraction in \(0, 1\), got 0"),
    ("data-unknown-set", lambda: hg.data.load("cifar10"), ValueError, r"unknown data set 'cifar10'; choose one of: mnist"),
]


@pytest.mark.parametrize("make, error, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_catalogue_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# -- correct results where an odd input has a defined answer ---------------------
def test_refused_backward_changes_no_gradient():
    layer = _linear_after_forward()
    g = np.ones((4, 10), F32)
    layer.backward(g)
    before = layer.weight.grad.copy()
    with pytest.raises(RuntimeError):
        layer.backward(g)
    np.testing.assert_array_equal(layer.weight.grad, before)


def test_backward_once_per_forward_is_unchanged():
    """The checks do not change results: forward/backward twice accumulates exactly twice."""
    layer = hg.Linear(4, 3, rng=0)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(F32)
    g = np.ones((5, 3), F32)
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once, rtol=1e-6)


def test_adam_with_tiny_eps_keeps_zero_gradients_finite():
    """eps must be > 0 in the parameters' dtype: then a zero gradient's update is zero."""
    p = _p()
    opt = optim.Adam(p, lr=0.1, eps=1e-40)
    opt.step()
    assert np.isfinite(p["w"].data).all() and not p["w"].data.any()


def test_predict_scales_uint8_and_batches():
    model = tiny_model()
    x = np.arange(8, dtype=np.uint8).reshape(2, 4)
    np.testing.assert_allclose(predict(model, x, batch_size=1), model(x.astype(F32) / 255), rtol=1e-6)


def test_probability_rows_within_tolerance_are_accepted():
    rows = np.array([[0.2, 0.3, 0.5 + 1e-4]], F32)
    value = Ls.CrossEntropyLoss()(np.zeros((1, 3), F32), rows)
    assert math.isclose(value, math.log(3) * rows.sum(), rel_tol=1e-5)
