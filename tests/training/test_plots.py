import numpy as np
import pytest

import handgrad as hg
from handgrad.training import History

plots = pytest.importorskip("handgrad.training.plots")
pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG


def test_history_and_confusion_plots(tmp_path):
    h = History()
    for e in range(3):
        h.append_epoch({"epoch": e, "loss": 1.0 / (e + 1), "accuracy": 0.5 + e / 10,
                        "val_loss": 1.2 / (e + 1), "val_accuracy": 0.5, "lr": 0.1 / 2 ** e, "time": 1.0})
    assert _is_png(plots.plot_history(h, tmp_path / "curves.png"))
    cm = np.array([[5, 1], [2, 7]])
    assert _is_png(plots.plot_confusion_matrix(cm, tmp_path / "sub" / "cm.png", ["a", "b"]))


def test_filters_and_misclassified(tmp_path):
    rng = np.random.default_rng(0)
    net = hg.Sequential(hg.Linear(16, 4, rng=rng), hg.ReLU())
    assert _is_png(plots.plot_filters(net, tmp_path / "filters.png"))
    images = rng.random((6, 1, 4, 4))
    y_true, y_pred = np.array([0, 1, 2, 3, 4, 5]), np.array([0, 2, 2, 1, 4, 5])
    assert _is_png(plots.plot_misclassified(images, y_true, y_pred, tmp_path / "wrong.png"))


def test_filters_error_for_an_odd_shape(tmp_path):
    net = hg.Sequential(hg.Linear(5, 4, rng=0))
    with pytest.raises(ValueError, match=r"cannot draw a first weight of shape \(4, 5\)"):
        plots.plot_filters(net, tmp_path / "f.png")


def test_missing_matplotlib_message(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"pip install matplotlib"):
        plots.plot_history(History([{"epoch": 0, "loss": 1.0}]), "x.png")


class ToMaps(hg.Layer):
    """Test-only: (N, 32) -> (N, 2, 4, 4)."""

    def forward(self, x):
        self._cache = True
        return x.reshape(len(x), 2, 4, 4)


def test_feature_maps_of_one_image(tmp_path):
    rng = np.random.default_rng(0)
    net = hg.Sequential(hg.Linear(16, 32, rng=rng), ToMaps(), hg.ReLU())
    image = rng.random((16,)).astype(np.float32)
    assert _is_png(plots.plot_feature_maps(net, image, tmp_path / "maps.png"))
    assert net.training
    with pytest.raises(ValueError, match=r"found no layer with \(N, C, H, W\) output; last shape \(1, 32\)"):
        plots.plot_feature_maps(hg.Sequential(hg.Linear(16, 32, rng=rng)), image, tmp_path / "m.png")


def test_conv_filters_and_feature_maps(tmp_path):
    rng = np.random.default_rng(0)
    net = hg.Sequential(hg.layers.Conv2d(1, 8, 3, padding=1, rng=rng), hg.ReLU())
    assert _is_png(plots.plot_filters(net, tmp_path / "filters.png"))
    image = rng.random((1, 12, 12)).astype(np.float32)
    assert _is_png(plots.plot_feature_maps(net, image, tmp_path / "maps.png"))
