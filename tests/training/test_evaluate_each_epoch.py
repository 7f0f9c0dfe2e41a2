import numpy as np
import pytest

from handgrad.data import DataLoader
from handgrad.losses import CrossEntropyLoss
from handgrad.optim import SGD
from handgrad.training import EvaluateEachEpoch, JSONLogger, History, LambdaCallback, evaluate, fit

from .helpers import blobs, mlp


def test_each_epoch_record_gets_the_figures_of_the_extra_data(tmp_path):
    rng = np.random.default_rng(0)
    x, y = blobs(rng, n_per_class=30)
    held_out = blobs(np.random.default_rng(1), n_per_class=10)
    model = mlp(rng)
    loss = CrossEntropyLoss()
    after = []                                  # what the following callbacks see, and the model then
    watch = LambdaCallback(on_epoch_end=lambda state, logs: after.append(
        (dict(logs), evaluate(model, loss, held_out, batch_size=64))))
    h = fit(model, loss, SGD(model.parameters(), lr=0.1), DataLoader(x, y, 16, shuffle=True, rng=rng),
            epochs=3, verbose=False,
            callbacks=[EvaluateEachEpoch("test", held_out, loss), watch, JSONLogger(tmp_path / "h.json")])
    for record, (logs, expected) in zip(h.epochs, after):
        assert record["test_loss"] == pytest.approx(expected["loss"]) == logs["test_loss"]
        assert record["test_accuracy"] == pytest.approx(expected["accuracy"]) == logs["test_accuracy"]
    assert History.from_json(tmp_path / "h.json")["test_accuracy"] == h["test_accuracy"]


@pytest.mark.parametrize("name", ["val", "", None])
def test_name_must_not_clash_with_validation(name):
    with pytest.raises(ValueError, match="expected a name other than 'val'"):
        EvaluateEachEpoch(name, None, None)


def test_a_diverging_model_gets_nan_figures_not_an_error():
    from handgrad.layers import Linear, Sequential
    from handgrad.losses import MSELoss
    from handgrad.training import FitState
    model = Sequential(Linear(2, 1, rng=0))
    model[0].weight.data[...] = np.inf
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    state = FitState(model, None, None, History([{"epoch": 0, "loss": 1.0}]), {})
    logs = {}
    with np.errstate(invalid="ignore"):
        EvaluateEachEpoch("test", (x, y), MSELoss(), metrics=("mae",)).on_epoch_end(state, logs)
    assert np.isnan(logs["test_loss"]) and np.isnan(logs["test_mae"])
    model[0].weight.data[...] = 1.0                       # finite outputs: a ValueError is a real error
    with pytest.raises(ValueError):
        EvaluateEachEpoch("test", (x, y[:, 0]), MSELoss(), metrics=("mae",)).on_epoch_end(state, {})
