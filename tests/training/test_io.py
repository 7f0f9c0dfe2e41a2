import json
import os
import zipfile

import numpy as np
import pytest

import handgrad as hg
from handgrad.data import DataLoader
from handgrad.optim import SGD, StepLR
from handgrad.losses import CrossEntropyLoss
from handgrad.io import HandgradFileError, architecture, register_layer
from handgrad.io import registry as registry_module
from handgrad.io.registry import LAYER_NAMES
from handgrad.training import History, ModelCheckpoint, fit, generators

from ..cases import all_cases
from .helpers import blobs, mlp



def _layer_types(layer):
    yield type(layer).__name__
    for _, child in layer.named_children():
        yield from _layer_types(child)


# layer cases built only from handgrad's registered layers (cases may also define test-only layers)
CASES = [c for c in all_cases()
         if set(_layer_types(c.make(np.random.default_rng(0), np.float64))) <= set(LAYER_NAMES)]
try:
    from handgrad.models import MODELS
except ImportError:
    MODELS = {}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_save_load_round_trip_every_layer_case(case, tmp_path):
    rng = np.random.default_rng(0)
    layer = case.make(rng, np.float32)
    # perturb buffers so that they are not their initial values
    for name, b in layer.buffers().items():
        b[...] = rng.random(b.shape) + 0.5          # positive, as running variances must be
    x = case.input(rng, np.float32)
    path = hg.save(layer, tmp_path / "m.npz")
    loaded = hg.load(path)
    assert type(loaded) is type(layer) and repr(loaded) == repr(layer)
    assert loaded.get_config() == layer.get_config()
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k], v, err_msg=k)
    layer.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded(x), layer(x))


def test_every_registered_layer_has_a_round_trip_case():
    """Each layer class in the registry appears in some tests/cases layer case."""
    seen = {name for case in CASES for name in _layer_types(case.make(np.random.default_rng(0), np.float64))}
    abstract = {"ConvNd", "MaxPoolNd", "AvgPoolNd"}          # covered through their thin subclasses
    handgrad_layers = {n for n in LAYER_NAMES if hasattr(hg.layers, n)}
    missing = sorted(handgrad_layers - seen - abstract)
    assert not missing, f"no layer case (tests/cases/) builds {missing}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ready_models_round_trip(name, tmp_path):
    model = MODELS[name](rng=np.random.default_rng(0))
    loaded = hg.load(hg.save(model, tmp_path / f"{name}.npz"))
    assert repr(loaded) == repr(model)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k], v, err_msg=f"{name}: {k}")


def test_file_layout_is_json_plus_arrays_without_pickle(tmp_path):
    model = mlp(np.random.default_rng(0))
    path = hg.save(model, tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(str(npz["__handgrad__"]))
        assert sorted(npz.files) == ["__handgrad__", "__sha256__", "model/0.bias", "model/0.weight",
                                     "model/2.bias", "model/2.weight"]
    assert header == {"format": "handgrad-model", "version": 1, "architecture": {
        "type": "Sequential", "layers": [
            {"type": "Linear", "config": {"in_features": 2, "out_features": 16, "bias": True, "dtype": "float32"}},
            {"type": "ReLU", "config": {}},
            {"type": "Linear", "config": {"in_features": 16, "out_features": 3, "bias": True, "dtype": "float32"}}]}}
    assert [f for f in os.listdir(tmp_path)] == ["m.npz"]          # no temporary file left behind


def test_nested_sequential_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    model = hg.Sequential(hg.Sequential(hg.Linear(3, 4, rng=rng), hg.ReLU()), hg.Linear(4, 2, rng=rng))
    loaded = hg.load(hg.save(model, tmp_path / "m.npz"))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded(x), model(x))
    assert list(loaded.parameters()) == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]


def test_not_a_handgrad_file(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(HandgradFileError, match="is not a handgrad model file"):
        hg.load(tmp_path / "text.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(HandgradFileError, match="not a handgrad model file .no '__handgrad__' header"):
        hg.load(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        hg.load(tmp_path / "absent.npz")


def test_checkpoint_is_not_a_model_file(tmp_path):
    model = mlp(np.random.default_rng(0))
    hg.save_checkpoint(tmp_path / "c.npz", model)
    with pytest.raises(HandgradFileError, match="is not a handgrad model file .it holds format 'handgrad-checkpoint'"):
        hg.load(tmp_path / "c.npz")


def _rewrite_entry(path, name, array):
    """Copy the archive replacing one entry (as a corruption or a hand edit would)."""
    with np.load(path, allow_pickle=False) as npz:
        entries = {k: npz[k] for k in npz.files}
    entries[name] = array
    np.savez(path, **entries)


def test_corrupted_file_is_detected(tmp_path):
    model = mlp(np.random.default_rng(0))
    path = hg.save(model, tmp_path / "m.npz")
    w = model.state_dict()["0.weight"]
    w[0, 0] += 1
    _rewrite_entry(path, "model/0.weight", w)
    with pytest.raises(HandgradFileError, match="is corrupted: its sha256 does not match"):
        hg.load(path)


def test_truncated_file_is_detected(tmp_path):
    path = hg.save(mlp(np.random.default_rng(0)), tmp_path / "m.npz")
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(HandgradFileError, match="not a handgrad model file .could not read it"):
        hg.load(path)


def test_unknown_layer_type_and_version(tmp_path):
    path = hg.save(mlp(np.random.default_rng(0)), tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(str(npz["__handgrad__"]))
    from handgrad.io.archive import write_archive
    header["architecture"]["layers"][1]["type"] = "Swish"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if not k.startswith("__")}
    write_archive(tmp_path / "swish.npz", header, arrays)
    with pytest.raises(ValueError, match="unknown layer type 'Swish' in the saved architecture; known types: "):
        hg.load(tmp_path / "swish.npz")
    path = hg.save(mlp(np.random.default_rng(0)), tmp_path / "v.npz")
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(str(npz["__handgrad__"]))
    header["version"] = 99
    _rewrite_entry(path, "__handgrad__", np.array(json.dumps(header, sort_keys=True)))
    with pytest.raises(HandgradFileError, match="has handgrad file version 99; this handgrad reads version 1"):
        hg.load(path)


def test_unregistered_layer_cannot_be_saved_until_registered(tmp_path, monkeypatch):
    monkeypatch.setattr(registry_module, "_EXTRA", dict(registry_module._EXTRA))   # undone after
    class Twice(hg.Layer):
        def forward(self, x):
            self._cache = True
            return 2 * x

    model = hg.Sequential(hg.Linear(2, 2, rng=0), Twice())
    with pytest.raises(ValueError, match="unknown layer type 'Twice' cannot be saved; known types"):
        hg.save(model, tmp_path / "m.npz")
    register_layer(Twice)
    x = np.ones((1, 2), np.float32)
    np.testing.assert_array_equal(hg.load(hg.save(model, tmp_path / "m.npz"))(x), model(x))
    with pytest.raises(TypeError, match="register_layer expected a Layer subclass"):
        register_layer(int)


def test_failed_write_leaves_the_old_file_in_place(tmp_path):
    model = mlp(np.random.default_rng(0))
    path = hg.save(model, tmp_path / "m.npz")
    before = open(path, "rb").read()
    with pytest.raises(TypeError, match="cannot save the file header as JSON"):
        hg.save_checkpoint(path, model, config={"bad": object()})
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["m.npz"]


# -- checkpoints and exact resume ------------------------------------------------------

def _recipe(name, model):
    """(optimizer, schedule, schedule_interval) of a named training recipe."""
    if name == "sgd-steplr":
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
        return opt, StepLR(opt, step_size=1, gamma=0.7), "epoch"
    opt = hg.optim.Adam(model.parameters(), lr=0.01)
    return opt, hg.optim.CosineAnnealingLR(opt, T_max=24), "step"


def _run(tmp_path, epochs, *, recipe="sgd-steplr", interrupt_after=None, resume_from=None, workers=1):
    """Train an MLP with dropout (and batch norm); optionally checkpoint every epoch and stop,
    or resume a checkpoint."""
    rng = np.random.default_rng(7)
    x, y = blobs(rng, n_per_class=40)
    layers = mlp(rng).layers
    model = hg.Sequential(layers[0], hg.Dropout(0.3, rng=np.random.default_rng(8)), *layers[1:])
    if recipe != "sgd-steplr":
        model.layers.insert(1, hg.BatchNorm1d(16))
    opt, sched, interval = _recipe(recipe, model)
    loader = DataLoader(x, y, 16, shuffle=True, rng=np.random.default_rng(9))
    start, history = 0, None
    if resume_from is not None:
        ckpt = hg.load_checkpoint(resume_from, model, opt, sched, rngs=generators(loader))
        start, history = ckpt.epoch, ckpt.history
    callbacks = [ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", save_best_only=False)]
    history = fit(model, CrossEntropyLoss(), opt, loader, epochs=interrupt_after or epochs, schedule=sched,
                  schedule_interval=interval, callbacks=callbacks, verbose=False, start_epoch=start,
                  history=history, workers=workers)
    return model, history


@pytest.mark.parametrize("recipe,workers", [("sgd-steplr", 1), ("adam-cosine-per-step-batchnorm", 1),
                                            ("adam-cosine-per-step-batchnorm", 2)])
def test_resume_after_interruption_is_exact(tmp_path, recipe, workers):
    full, _ = _run(tmp_path / "a", epochs=3, recipe=recipe, workers=workers)
    _run(tmp_path / "b", epochs=3, recipe=recipe, interrupt_after=1, workers=workers)
    resumed, history = _run(tmp_path / "c", epochs=3, recipe=recipe, workers=workers,
                            resume_from=tmp_path / "b" / "ckpt-1.npz")
    for k, v in full.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v, err_msg=k)
    uninterrupted = History.from_dict(hg.load_checkpoint(tmp_path / "a" / "ckpt-3.npz").history)
    assert history["loss"] == uninterrupted["loss"] and history["lr"] == uninterrupted["lr"]


def test_checkpoint_contents(tmp_path):
    model, _ = _run(tmp_path, epochs=2)
    ckpt = hg.load_checkpoint(tmp_path / "ckpt-2.npz")
    assert ckpt.epoch == 2 and len(ckpt.history["epochs"]) == 2
    assert sorted(ckpt.rng_states) == ["data", "layer:1"]
    assert ckpt.schedule_state["type"] == "StepLR" and ckpt.schedule_state["last_step"] == 2
    assert ckpt.optimizer_state["step"] == 2 * 8                     # 2 epochs of 8 batches
    assert sorted(ckpt.optimizer_state["state"]) == sorted(model.parameters())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(ckpt.model.state_dict()[k], v)


def test_checkpoint_missing_generator_message(tmp_path):
    model = mlp(np.random.default_rng(0))
    hg.save_checkpoint(tmp_path / "c.npz", model, epoch=1)
    with pytest.raises(ValueError, match="has no state for generator 'data'"):
        hg.load_checkpoint(tmp_path / "c.npz", model, rngs={"data": np.random.default_rng()})
    with pytest.raises(ValueError, match="holds no optimizer state"):
        hg.load_checkpoint(tmp_path / "c.npz", model, optimizer=SGD(model.parameters(), lr=0.1))


def test_archive_is_a_zip_of_npy_files(tmp_path):
    path = hg.save(mlp(np.random.default_rng(0)), tmp_path / "m.npz")
    assert zipfile.is_zipfile(path)
    assert architecture(hg.load(path)) == architecture(mlp(np.random.default_rng(1)))


def test_saved_file_gets_the_usual_mode_not_mkstemps_private_one(tmp_path):
    from handgrad._files import default_file_mode

    model = hg.Sequential(hg.Linear(3, 2, rng=0))
    path = tmp_path / "model.npz"
    hg.save(model, path)
    assert os.stat(path).st_mode & 0o777 == default_file_mode()
    old = os.umask(0o077)
    try:
        assert default_file_mode() == 0o600
    finally:
        os.umask(old)
