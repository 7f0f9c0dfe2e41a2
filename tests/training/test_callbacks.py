import numpy as np
import pytest

import handgrad as hg
from handgrad.data import DataLoader
from handgrad.optim import SGD
from handgrad.losses import CrossEntropyLoss
from handgrad.training import CSVLogger, History, JSONLogger, LambdaCallback, ModelCheckpoint, fit, generators

from .helpers import blobs, mlp


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    x, y = blobs(rng, n_per_class=30)
    model = mlp(rng)
    loader = DataLoader(x, y, 16, shuffle=True, rng=rng)
    return model, SGD(model.parameters(), lr=0.1, momentum=0.9), loader, (x, y)


def test_csv_and_json_loggers_write_the_history_each_epoch(tmp_path):
    model, opt, loader, _ = _setup()
    sizes = []
    watch = LambdaCallback(on_epoch_end=lambda state, logs: sizes.append(len(History.from_json(tmp_path / "h.json"))))
    h = fit(model, CrossEntropyLoss(), opt, loader, epochs=3, verbose=False,
            callbacks=[CSVLogger(tmp_path / "h.csv", tmp_path / "steps.csv"), JSONLogger(tmp_path / "h.json"), watch])
    assert sizes == [1, 2, 3]
    assert History.from_json(tmp_path / "h.json") == h
    assert History.from_csv(tmp_path / "h.csv", tmp_path / "steps.csv") == h


def test_model_checkpoint_best_only_follows_the_monitor(tmp_path):
    model, opt, loader, (x, y) = _setup()
    scores = iter([0.9, 0.5, 0.7, 0.4])
    score = LambdaCallback(on_epoch_end=lambda state, logs: logs.__setitem__("score", next(scores)))
    ckpt = ModelCheckpoint(tmp_path / "best-{epoch}.npz", monitor="score", save_best_only=True,
                           config={"seed": 0})
    fit(model, CrossEntropyLoss(), opt, loader, epochs=4, callbacks=[score, ckpt], verbose=False)
    assert [p.rsplit("-", 1)[1] for p in ckpt.saved] == ["1.npz", "2.npz", "4.npz"]
    last = hg.load_checkpoint(ckpt.saved[-1])
    assert last.epoch == 4 and last.config == {"seed": 0}
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(last.model.state_dict()[k], v)


def test_callback_argument_errors():
    with pytest.raises(ValueError, match="EarlyStopping expected mode 'min' or 'max', got 'best'"):
        hg.training.EarlyStopping(mode="best")
    with pytest.raises(ValueError, match="EarlyStopping expected patience >= 0, got -1"):
        hg.training.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="LambdaCallback: unknown hook 'on_step'"):
        LambdaCallback(on_step=print)


def test_generators_of_a_run():
    model, opt, loader, (x, y) = _setup()
    fit_rng = np.random.default_rng(5)
    assert generators(loader, fit_rng) == {"data": loader.rng, "fit": fit_rng}
    assert generators(loader, loader.rng) == {"data": loader.rng}
    assert generators((x, y), fit_rng) == {"data": fit_rng}
