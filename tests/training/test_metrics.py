import numpy as np
import pytest

from handgrad.training import metrics as M


def test_accuracy_labels_and_one_hot():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.4, 0.1], [0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])
    y = np.array([1, 1, 2, 0])
    assert M.accuracy(scores, y) == 0.75
    assert M.accuracy(scores, np.eye(3)[y]) == 0.75


def test_top_k_by_hand():
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.4, 0.1], [0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])
    y = np.array([0, 2, 0, 1])
    # top-2 sets: {1,2}, {0,1}, {2,1}, {0, 1 or 2}: only the last may hold its label 1
    assert M.top_k_accuracy(scores[:3], y[:3], k=2) == 0.0
    assert M.top_k_accuracy(scores, y, k=3) == 1.0
    assert M.top_k_accuracy(scores, y, k=1) == M.accuracy(scores, y) == 0.0


def test_confusion_matrix_precision_recall_by_hand():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 0, 1, 2, 2])
    cm = M.confusion_matrix(y_true, y_pred, num_classes=4)
    np.testing.assert_array_equal(cm, [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    precision, recall = M.precision_recall(cm)
    np.testing.assert_allclose(precision, [1.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(recall, [2 / 3, 0.5, 1.0, 0.0])


def test_regression_errors_per_output_by_hand():
    pred = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 33.0]])
    y = np.array([[1.0, 12.0], [4.0, 20.0], [3.0, 30.0]])
    np.testing.assert_allclose(M.mae_per_output(pred, y), [2 / 3, 5 / 3])
    np.testing.assert_allclose(M.rmse_per_output(pred, y), [np.sqrt(4 / 3), np.sqrt(13 / 3)])
    assert M.METRICS["mae"](pred, y) == pytest.approx(7 / 6)


def test_unknown_metric_lists_choices():
    with pytest.raises(ValueError, match=r"unknown metric 'f1'; choose from \['accuracy', 'mae'"):
        M.compute_metrics(["f1"], np.zeros((1, 2)), np.zeros(1))


def test_custom_metric_function():
    def half(out, y):
        return 0.5

    assert M.compute_metrics([half], None, None, prefix="val_") == {"val_half": 0.5}
