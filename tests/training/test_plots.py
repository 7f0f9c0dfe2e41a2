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


def _history_with_steps(epochs=3, steps=5):
    h = History()
    for e in range(epochs):
        for s in range(steps):
            h.append_step({"epoch": e, "step": s, "loss": 2.0 / (1 + e * steps + s), "lr": 0.01 * (s + 1)})
        h.append_epoch({"epoch": e, "loss": 1.0 / (e + 1), "accuracy": 0.5 + e / 10, "val_loss": 1.1 / (e + 1),
                        "val_accuracy": 0.55, "test_loss": 1.2 / (e + 1), "test_accuracy": 0.5 + e / 20,
                        "lr": 0.01, "time": 1.0})
    return h


def test_training_curves_per_step_and_per_epoch(tmp_path):
    assert _is_png(plots.plot_training(_history_with_steps(), tmp_path / "curves.png", title="run"))
    no_steps = History([{"epoch": 0, "loss": 1.0, "accuracy": 0.5}, {"epoch": 1, "loss": 0.5, "accuracy": 0.7}])
    assert _is_png(plots.plot_training(no_steps, tmp_path / "epochs.png"))      # an old history


def test_epoch_ends_are_found_from_the_step_records():
    from handgrad.training.plots.curves import _epoch_ends
    steps = _history_with_steps(epochs=3, steps=4).steps
    np.testing.assert_array_equal(_epoch_ends(steps, 3), [4, 8, 12])
    resumed = [s for s in steps if s["epoch"] >= 1]                               # a resumed run's steps
    np.testing.assert_array_equal(_epoch_ends(resumed, 2), [4, 8])


def test_smooth_is_a_bias_corrected_moving_average():
    values = np.array([4.0, 0.0, 2.0])
    beta = 0.5
    m1 = 0.5 * 4.0
    m2 = 0.5 * m1 + 0.5 * 0.0
    m3 = 0.5 * m2 + 0.5 * 2.0
    expected = [m1 / (1 - beta), m2 / (1 - beta ** 2), m3 / (1 - beta ** 3)]
    np.testing.assert_allclose(plots.smooth(values, beta), expected)


def test_feature_stages_follow_each_convolution_block(tmp_path):
    rng = np.random.default_rng(0)
    L = hg.layers
    net = hg.Sequential(L.Conv2d(1, 4, 3, padding=1, rng=rng), L.BatchNorm2d(4), L.ReLU(), L.MaxPool2d(2),
                        L.Conv2d(4, 6, 3, rng=rng), L.ReLU(), L.Flatten(), L.Linear(6 * 4 * 4, 3, rng=rng))
    image = rng.random((1, 12, 12)).astype(np.float32)
    stages = plots.feature_stages(net, image)
    assert [label for label, _ in stages] == ["layer 0: Conv2d + BatchNorm2d + ReLU", "layer 4: Conv2d + ReLU"]
    assert [maps.shape for _, maps in stages] == [(4, 12, 12), (6, 4, 4)]
    net.eval()
    expected = net[2].forward(net[1].forward(net[0].forward(image[None])))[0]
    np.testing.assert_allclose(stages[0][1], expected)
    assert (stages[1][1] >= 0).all()                                              # after the ReLU
    assert _is_png(plots.plot_feature_maps(net, image, tmp_path / "maps.png"))


def test_filters_share_one_symmetric_colour_scale(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    net = hg.Sequential(hg.layers.Conv2d(1, 5, 3, rng=rng))
    net[0].weight.data[2, 0, 1, 1] = -3.0                                         # the largest magnitude
    seen = []
    import matplotlib.axes
    real = matplotlib.axes.Axes.imshow
    monkeypatch.setattr(matplotlib.axes.Axes, "imshow",
                        lambda self, img, **kw: seen.append((kw["vmin"], kw["vmax"])) or real(self, img, **kw))
    assert _is_png(plots.plot_filters(net, tmp_path / "filters.png"))
    assert seen == [(-3.0, 3.0)] * 5


def test_confusion_matrix_needs_one_name_per_class(tmp_path):
    with pytest.raises(ValueError, match="expected 2 class names, got 3"):
        plots.plot_confusion_matrix(np.eye(2, dtype=int), tmp_path / "cm.png", ["a", "b", "c"])


def test_a_failed_plot_leaves_no_file(tmp_path, monkeypatch):
    import matplotlib.figure

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.plot_training(_history_with_steps(), tmp_path / "curves.png")
    assert list(tmp_path.iterdir()) == []
