"""Losses: golden values, gradient checks for every option, extreme logits, errors."""

import numpy as np
import pytest

from handgrad import gradcheck_loss
from handgrad import layers as L
from handgrad import losses as Ls


def labels(rng, N=5, C=4):
    return rng.integers(0, C, N)


def probs(rng, N=5, C=4):
    return rng.dirichlet(np.ones(C), N)


def one_hot(rng, N=5, C=4):
    return np.eye(C)[rng.integers(0, C, N)]


def normal(shape):
    return lambda rng: rng.standard_normal(shape)


def softmax_rows(rng, N=5, C=4):
    return rng.dirichlet(np.ones(C), N) * 0.9 + 0.1 / C   # probabilities kept away from 0


GRADCHECK_CASES = [
    # id, loss, prediction(rng), target(rng)
    ("ce-labels-mean", Ls.CrossEntropyLoss(), normal((5, 4)), labels),
    ("ce-labels-sum", Ls.CrossEntropyLoss(reduction="sum"), normal((5, 4)), labels),
    ("ce-smoothing", Ls.CrossEntropyLoss(label_smoothing=0.15), normal((5, 4)), labels),
    ("ce-probs", Ls.CrossEntropyLoss(), normal((5, 4)), probs),
    ("ce-probs-smoothing-sum", Ls.CrossEntropyLoss("sum", label_smoothing=0.3), normal((5, 4)), probs),
    ("ce-onehot", Ls.CrossEntropyLoss(), normal((5, 4)), one_hot),
    ("cce-labels", Ls.CategoricalCrossEntropy(), softmax_rows, labels),
    ("cce-probs-sum", Ls.CategoricalCrossEntropy(reduction="sum"), softmax_rows, probs),
    ("mse-mean", Ls.MSELoss(), normal((5, 3)), lambda rng: rng.standard_normal((5, 3))),
    ("mse-sum-3d", Ls.MSELoss("sum"), normal((2, 3, 4)), lambda rng: rng.standard_normal((2, 3, 4))),
    ("bce-mean", Ls.BCEWithLogitsLoss(), normal((5, 3)), lambda rng: rng.uniform(0, 1, (5, 3))),
    ("bce-sum-binary", Ls.BCEWithLogitsLoss("sum"), normal((6,)), lambda rng: rng.integers(0, 2, 6) * 1.0),
]


@pytest.mark.parametrize("loss, make_pred, make_target", [c[1:] for c in GRADCHECK_CASES],
                         ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck(loss, make_pred, make_target):
    rng = np.random.default_rng(5)
    report = gradcheck_loss(loss, make_pred(rng), make_target(rng))
    assert report.passed


def test_cross_entropy_golden():
    # logits 0 everywhere: p = 1/4, loss = log 4; grad = (p - onehot) / N
    loss = Ls.CrossEntropyLoss()
    assert loss(np.zeros((2, 4)), np.array([0, 3])) == pytest.approx(np.log(4), rel=1e-15)
    expected = (np.full((2, 4), 0.25) - np.eye(4)[[0, 3]]) / 2
    np.testing.assert_allclose(loss.backward(), expected, rtol=1e-15)
    # logits [0, ln 3]: p = [1/4, 3/4]; label 1 gives -log(3/4) = log(4/3)
    assert loss(np.array([[0.0, np.log(3)]]), np.array([1])) == pytest.approx(np.log(4 / 3), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[0.25, -0.25]], rtol=1e-14)


def test_label_smoothing_golden():
    # C = 2, eps = 0.2: target for label 1 is [0.1, 0.9]; p = [1/4, 3/4]
    loss = Ls.CrossEntropyLoss(label_smoothing=0.2)
    value = loss(np.array([[0.0, np.log(3)]]), np.array([1]))
    assert value == pytest.approx(-(0.1 * np.log(0.25) + 0.9 * np.log(0.75)), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), [[0.25 - 0.1, 0.75 - 0.9]], rtol=1e-13)


def test_labels_and_one_hot_agree_and_sum_is_n_times_mean():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    a, b, s = Ls.CrossEntropyLoss(), Ls.CrossEntropyLoss(), Ls.CrossEntropyLoss("sum")
    assert a(z, y) == pytest.approx(b(z, np.eye(5)[y]), rel=1e-15)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-15)
    assert s(z, y) == pytest.approx(6 * a(z, y), rel=1e-14)


def test_softmax_then_categorical_cross_entropy_equals_fused_loss():
    rng = np.random.default_rng(1)
    z, y = rng.standard_normal((4, 6)), rng.integers(0, 6, 4)
    softmax, cce, ce = L.Softmax(), Ls.CategoricalCrossEntropy(), Ls.CrossEntropyLoss()
    assert cce(softmax(z), y) == pytest.approx(ce(z, y), rel=1e-13)
    np.testing.assert_allclose(softmax.backward(cce.backward()), ce.backward(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1], ids=["plain", "smooth"])
def test_cross_entropy_extreme_logits(dtype, smoothing):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype)
    loss = Ls.CrossEntropyLoss(label_smoothing=smoothing)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        right = loss(z, np.array([0, 1]))
        grad = loss.backward()
        wrong = loss(z, np.array([1, 0]))
    assert grad.dtype == dtype and np.isfinite(grad).all() and np.isfinite([right, wrong]).all()
    if smoothing == 0.0:
        # sample 0 is certain (loss 0); sample 1 splits between two tied classes (loss log 2)
        assert right == pytest.approx(np.log(2) / 2, rel=1e-6)
        assert wrong == pytest.approx((2e4 + 2e4 + np.log(2)) / 2, rel=1e-6)


def test_bce_golden_and_extremes():
    loss = Ls.BCEWithLogitsLoss()
    # z = 0: s = 1/2, loss log 2 for either target; grad = (s - t) / 2
    assert loss(np.array([0.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(np.log(2), rel=1e-15)
    np.testing.assert_allclose(loss.backward(), [-0.25, 0.25], rtol=1e-15)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss(np.array([1e4, -1e4]), np.array([0.0, 0.0]))
        grad = loss.backward()
    assert value == pytest.approx(1e4 / 2) and np.isfinite(grad).all()


def test_mse_golden():
    loss = Ls.MSELoss()
    # (1 + 4) / 2 elements = 2.5; grad = 2 (p - t) / 2 = [1, 2]
    assert loss(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])) == 2.5
    np.testing.assert_allclose(loss.backward(), [[1.0, 2.0]])


def test_categorical_cross_entropy_clips_zero_probability():
    loss = Ls.CategoricalCrossEntropy(eps=1e-7)
    value = loss(np.array([[0.0, 1.0]]), np.array([0]))
    assert value == pytest.approx(-np.log(1e-7)) and np.isfinite(loss.backward()).all()


@pytest.mark.parametrize("loss, pred, target", [
    (Ls.CrossEntropyLoss(), np.zeros((2, 3), np.float32), np.array([0, 1])),
    (Ls.MSELoss(), np.zeros((2, 3), np.float32), np.ones((2, 3))),
    (Ls.BCEWithLogitsLoss(), np.zeros(4, np.float32), np.ones(4)),
    (Ls.CategoricalCrossEntropy(), np.full((2, 3), 1 / 3, np.float32), np.array([0, 1])),
], ids=["ce", "mse", "bce", "cce"])
def test_gradient_has_prediction_dtype(loss, pred, target):
    loss(pred, target)
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("loss, pred, target, error, match", [
    (Ls.CrossEntropyLoss(), np.zeros((3, 10)), np.array([0, 12, 3]), ValueError,
     r"labels must be in \[0, 10\), got min 0 and max 12"),
    (Ls.CrossEntropyLoss(), np.zeros((2, 10)), np.array([-1, 3]), ValueError, "got min -1"),
    (Ls.CrossEntropyLoss(), np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError,
     "integer labels must have an integer dtype, got float64"),
    (Ls.CrossEntropyLoss(), np.zeros((2, 3)), np.array([0, 1, 2]), ValueError, "expected 2 labels"),
    (Ls.CrossEntropyLoss(), np.zeros((2, 3)), np.zeros((2, 4)), ValueError,
     r"target of the prediction's shape \(2, 3\), got \(2, 4\)"),
    (Ls.CrossEntropyLoss(), np.zeros(3), np.array([0]), ValueError, r"prediction of shape \(N, C\), got \(3,\)"),
    (Ls.CrossEntropyLoss(), np.array([[0.0, np.nan]]), np.array([0]), ValueError,
     r"prediction with NaN or inf values \(1 of 2 entries\)"),
    (Ls.CrossEntropyLoss(), np.zeros((1, 2)), np.array([[np.inf, 0.0]]), ValueError, "target with NaN or inf"),
    (Ls.CrossEntropyLoss(), np.zeros((1, 2), np.int64), np.array([0]), TypeError, "floating-point array"),
    (Ls.CrossEntropyLoss(), np.zeros((1, 2)), [0], TypeError, "target to be a NumPy array, got list"),
    (Ls.CrossEntropyLoss(), np.zeros((1, 2)), np.zeros((1, 2, 1)), ValueError, r"labels of shape \(N,\)"),
    (Ls.CategoricalCrossEntropy(), np.array([[2.0, -1.0]]), np.array([0]), ValueError,
     r"probabilities in \[0, 1\].*use CrossEntropyLoss"),
    (Ls.MSELoss(), np.zeros((2, 3)), np.zeros((2, 1)), ValueError, r"prediction's shape \(2, 3\), got \(2, 1\)"),
    (Ls.MSELoss(), np.array([np.inf]), np.zeros(1), ValueError, "prediction with NaN or inf"),
    (Ls.BCEWithLogitsLoss(), np.zeros(2), np.array(["a", "b"]), TypeError, "numeric target"),
], ids=["label-too-big", "label-negative", "float-labels", "label-count", "target-shape", "rank",
        "nan-prediction", "inf-target", "int-prediction", "list-target", "target-rank", "cce-logits",
        "mse-shape", "mse-inf", "bce-string-target"])
def test_bad_input(loss, pred, target, error, match):
    with pytest.raises(error, match=match):
        loss(pred, target)


@pytest.mark.parametrize("make, error, match", [
    (lambda: Ls.MSELoss(reduction="none"), ValueError, r"reduction to be one of \['mean', 'sum'\], got 'none'"),
    (lambda: Ls.CrossEntropyLoss(label_smoothing=1.5), ValueError, r"label_smoothing in \[0, 1\]"),
    (lambda: Ls.CategoricalCrossEntropy(eps=0), ValueError, r"eps in \(0, 1\)"),
], ids=["reduction", "smoothing", "eps"])
def test_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("loss", [Ls.CrossEntropyLoss(), Ls.CategoricalCrossEntropy(), Ls.MSELoss(),
                                  Ls.BCEWithLogitsLoss()], ids=lambda loss: type(loss).__name__)
def test_backward_before_forward(loss):
    with pytest.raises(RuntimeError, match="backward\\(\\) was called before forward\\(\\)"):
        loss.backward()


def test_repr_and_config():
    loss = Ls.CrossEntropyLoss("sum", label_smoothing=0.1)
    assert loss.get_config() == {"reduction": "sum", "label_smoothing": 0.1}
    assert repr(loss) == "CrossEntropyLoss(reduction='sum', label_smoothing=0.1)"
    assert repr(Ls.MSELoss()) == "MSELoss(reduction='mean')"
