import math

import numpy as np
import pytest

import handgrad as hg
from handgrad.data import DataLoader
from handgrad.optim import SGD, ReduceLROnPlateau, StepLR
from handgrad.losses import CrossEntropyLoss, MSELoss
from handgrad.training import Callback, EarlyStopping, TrainingError, evaluate, fit, predict

from .helpers import blobs, mlp


def _setup(seed=0, n=60, batch_size=16, momentum=0.9):
    rng = np.random.default_rng(seed)
    x, y = blobs(rng, n_per_class=n)
    model = mlp(rng)
    opt = SGD(model.parameters(), lr=0.1, momentum=momentum)
    return model, opt, DataLoader(x, y, batch_size, shuffle=True, rng=rng), (x, y)


def test_fit_learns_blobs_and_records_history():
    model, opt, loader, (x, y) = _setup()
    rng = np.random.default_rng(1)
    xv, yv = blobs(rng, n_per_class=50)
    history = fit(model, CrossEntropyLoss(), opt, loader, epochs=5, val_data=(xv, yv), verbose=False)
    assert len(history) == 5
    assert history.keys() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert history["val_accuracy"][-1] > 0.95
    assert history["loss"][-1] < history["loss"][0]
    assert len(history.steps) == 5 * len(loader)
    # evaluate agrees with the last validation record (the model did not change since)
    final = evaluate(model, CrossEntropyLoss(), (xv, yv), batch_size=32)
    assert final["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)
    assert final["accuracy"] == history["val_accuracy"][-1]


def test_predict_is_batched_eval_mode_and_restores_mode():
    model, *_, (x, _) = _setup()
    whole = model(x)
    model.train()
    out = predict(model, x, batch_size=7)
    np.testing.assert_allclose(out, whole, rtol=1e-6)
    assert model.training
    model.eval()
    predict(model, x)
    assert not model.training


def test_evaluate_metrics_by_hand():
    model = hg.Sequential(hg.Linear(2, 2, bias=False, rng=0, dtype=np.float64))
    model[0].weight.data[...] = np.eye(2)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    y = np.array([0, 0, 0, 1])
    result = evaluate(model, None, (x, y), metrics=("accuracy", "top5_accuracy"), batch_size=3)
    assert result == {"accuracy": 0.75, "top5_accuracy": 1.0}


def test_nan_loss_names_epoch_and_step():
    model, opt, loader, _ = _setup()
    opt.lr = 1e30
    with np.errstate(all="ignore"), \
            pytest.raises(TrainingError, match=r"diverged at epoch \d+, step \d+ of 12: the (loss is|model's output)"):
        fit(model, CrossEntropyLoss(), opt, loader, epochs=3, verbose=False)
    assert issubclass(TrainingError, FloatingPointError)


def test_nan_input_is_caught_at_its_step():
    model, opt, loader, (x, y) = _setup()
    x = x.copy()
    x[20] = np.nan                                 # the second batch of 16 in order
    with pytest.raises(TrainingError, match=r"at epoch 1, step 2 of 12: the model's output holds NaN"):
        fit(model, CrossEntropyLoss(), opt, DataLoader(x, y, 16), epochs=1, verbose=False)


def test_training_is_bitwise_reproducible_for_a_seed():
    def run():
        model, opt, loader, _ = _setup(seed=3)
        fit(model, CrossEntropyLoss(), opt, loader, epochs=2, verbose=False)
        return model.state_dict()

    a, b = run(), run()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_schedule_stepped_per_epoch_and_per_step():
    model, opt, loader, _ = _setup()
    sched = StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, CrossEntropyLoss(), opt, loader, epochs=3, schedule=sched, verbose=False)
    assert h["lr"] == [0.1, 0.05, 0.025]
    model, opt, loader, _ = _setup()
    sched = StepLR(opt, step_size=len(loader), gamma=0.5)
    h = fit(model, CrossEntropyLoss(), opt, loader, epochs=2, schedule=sched,
            schedule_interval="step", verbose=False)
    assert h["lr"] == [0.1, 0.05]
    assert h.steps[-1]["lr"] == 0.025


def test_the_optimizers_max_grad_norm_clips_the_step_in_fit():
    model, opt, loader, _ = _setup(momentum=0.0)
    opt.max_grad_norm = 1e-3                       # clipping has one place: the optimizer's step
    before = model.state_dict()
    x, y = next(iter(loader))
    fit(model, CrossEntropyLoss(), opt, DataLoader(x, y, len(x)), epochs=1, verbose=False)
    change = math.sqrt(sum(np.sum((p.data - before[k]) ** 2) for k, p in model.parameters().items()))
    assert change == pytest.approx(opt.lr * 1e-3, rel=1e-3)


def test_regression_metrics_in_history():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32))
    model = hg.Sequential(hg.Linear(3, 1, rng=rng))
    opt = SGD(model.parameters(), lr=0.1, momentum=0.0)
    h = fit(model, MSELoss(), opt, DataLoader(x, y, 16, shuffle=True, rng=rng), epochs=30,
            metrics=("mae", "rmse"), verbose=False)
    assert h["rmse"][-1] < 0.05 and h["mae"][-1] <= h["rmse"][-1]


def test_early_stopping_stops_and_restores_best():
    model, opt, loader, (x, y) = _setup()
    scripted = iter([1.0, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1])

    class ScriptedLoss(Callback):
        """Overwrites the monitored value with a script, to make the stopping epoch known."""

        def on_epoch_end(self, state, logs):
            logs["score"] = next(scripted)
            if logs["epoch"] == 1:
                self.best_weights = state.model.state_dict()

    script = ScriptedLoss()
    stop = EarlyStopping(monitor="score", patience=2, restore_best=True)
    h = fit(model, CrossEntropyLoss(), opt, loader, epochs=7, callbacks=[script, stop], verbose=False)
    assert len(h) == 4 and stop.best_epoch == 1 and stop.stopped_epoch == 3
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, script.best_weights[k])


def test_early_stopping_unknown_monitor_message():
    model, opt, loader, _ = _setup()
    with pytest.raises(ValueError, match="monitors 'val_loss' but the epoch record has only"):
        fit(model, CrossEntropyLoss(), opt, loader, epochs=1, callbacks=[EarlyStopping()], verbose=False)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "fit expected epochs >= 1, got 0"),
    ({"epochs": 2.0}, TypeError, "fit expected epochs to be an int, got float 2.0"),
    ({"epochs": 1, "schedule_interval": "batch"}, ValueError, "schedule_interval 'epoch' or 'step', got 'batch'"),
    ({"epochs": 1, "callbacks": [print]}, TypeError, "Callback instances in callbacks, got builtin_function"),
], ids=["epochs-zero", "epochs-float", "interval", "callback-type"])
def test_fit_argument_errors(kwargs, error, match):
    model, opt, loader, _ = _setup()
    with pytest.raises(error, match=match):
        fit(model, CrossEntropyLoss(), opt, loader, verbose=False, **kwargs)


def test_tuple_train_data_needs_batch_size():
    model, opt, _, (x, y) = _setup()
    with pytest.raises(ValueError, match="pass batch_size= too"):
        fit(model, CrossEntropyLoss(), opt, (x, y), epochs=1, verbose=False)
    with pytest.raises(TypeError, match="must be an \\(x, y\\) tuple or a loader"):
        fit(model, CrossEntropyLoss(), opt, 3, epochs=1, verbose=False)


def test_verbose_prints_one_line_per_epoch_when_not_a_terminal(capsys):
    model, opt, loader, _ = _setup()
    fit(model, CrossEntropyLoss(), opt, loader, epochs=2, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2 loss ") and "samples/s" in lines[1]
    fit(model, CrossEntropyLoss(), opt, loader, epochs=1)
    assert capsys.readouterr().out == ""


def test_progress_bars_on_a_terminal(capsys, monkeypatch):
    import sys
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    model, opt, loader, _ = _setup()
    fit(model, CrossEntropyLoss(), opt, loader, epochs=2)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "epoch 1/2" in captured.err and "epoch 2/2" in captured.err and "12/12" in captured.err
    assert "loss" in captured.err and "accuracy" in captured.err


def test_reduce_on_plateau_receives_the_validation_loss():
    model, opt, loader, (x, y) = _setup(momentum=0.0)
    opt.lr = 0.01                              # small steps: the validation loss keeps falling
    # mode="max" on a falling val_loss: every epoch after the first is "worse", so lr halves
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0)
    h = fit(model, CrossEntropyLoss(), opt, loader, epochs=4, val_data=(x, y), schedule=sched, verbose=False)
    assert all(a > b for a, b in zip(h["val_loss"], h["val_loss"][1:]))
    assert h["lr"] == [0.01, 0.01, 0.005, 0.0025]
    with pytest.raises(ValueError, match="ReduceLROnPlateau needs a metric once per epoch"):
        fit(model, CrossEntropyLoss(), opt, loader, epochs=1, schedule=sched, schedule_interval="step")


def test_tuple_data_is_batched_by_a_seeded_dataloader_and_uint8_is_scaled():
    rng = np.random.default_rng(0)
    x8 = rng.integers(0, 256, (40, 6), dtype=np.uint8)
    y = (x8[:, 0] > 127).astype(np.int64)

    def run():
        model = mlp(np.random.default_rng(1), sizes=(6, 8, 2))
        opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        h = fit(model, CrossEntropyLoss(), opt, (x8, y), batch_size=8, rng=5, epochs=2, verbose=False)
        return model, h

    (a, ha), (b, hb) = run(), run()
    assert ha["loss"] == hb["loss"] and len(ha.steps) == 2 * 5
    np.testing.assert_array_equal(predict(a, x8), predict(b, x8))
    np.testing.assert_allclose(predict(a, x8), a(x8.astype(np.float32) / 255), rtol=1e-5)
