"""Fuzzing the two readers of untrusted files: the IDX reader and the model-file loader.

Random bytes, and random mutations of valid files (bytes flipped, cut, inserted, spliced;
forged architectures), must end in a result or in the documented error (IDXError,
HandgradFileError), never in another exception, a hang (each example has a deadline) or a
large allocation (the peak traced by tracemalloc stays under :data:`MEMORY_BOUND`).

The example counts keep each test to a few seconds; raise them locally with
``HANDGRAD_FUZZ_EXAMPLES=5000``.
"""

import gzip
import json
import os
import tempfile
import tracemalloc

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import handgrad as hg  # noqa: E402
from handgrad.data import IDXError, encode_idx, read_idx  # noqa: E402
from handgrad.data.idx import parse_idx  # noqa: E402
from handgrad.io import HandgradFileError  # noqa: E402

from .forge import forged_model, tiny_model  # noqa: E402

EXAMPLES = int(os.environ.get("HANDGRAD_FUZZ_EXAMPLES", "150"))
MEMORY_BOUND = 64 << 20
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def bounded(fn, *args):
    """``fn(*args)`` with the peak of traced memory asserted under MEMORY_BOUND."""
    tracemalloc.start()
    try:
        return fn(*args)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MEMORY_BOUND, f"peak {peak} bytes"


@st.composite
def mutated(draw, valid):
    """``valid`` bytes with a few random flips, cuts, insertions or repeated runs."""
    data = bytearray(draw(st.sampled_from(valid)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif kind == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 32))] * draw(st.integers(1, 8))
    return bytes(data)


# -- the IDX reader --------------------------------------------------------------------
_rng = np.random.default_rng(0)
VALID_IDX = [encode_idx(a) for a in (
    _rng.integers(0, 256, (3, 5, 4), dtype=np.uint8),
    (np.arange(7) % 10).astype(np.uint8),
    _rng.standard_normal((2, 3)).astype(np.float32),
    _rng.integers(-1000, 1000, (4, 2), dtype=np.int32),
)]


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield d


def _read_idx_bytes(folder, raw, compress):
    path = os.path.join(folder, "f-idx.gz" if compress else "f-idx")
    with open(path, "wb") as f:
        f.write(gzip.compress(raw, mtime=0) if compress else raw)
    try:
        return read_idx(path)
    except IDXError:
        return None


@FUZZ
@given(raw=st.binary(max_size=300) | mutated(VALID_IDX), compress=st.booleans())
def test_idx_reader_on_random_and_mutated_files(scratch, raw, compress):
    out = bounded(_read_idx_bytes, scratch, raw, compress)
    if out is not None:                                  # accepted: it must be what the bytes say
        assert encode_idx(out) == raw


@FUZZ
@given(raw=mutated([gzip.compress(v, mtime=0) for v in VALID_IDX]))
def test_idx_reader_on_mutated_gzip_streams(scratch, raw):
    path = os.path.join(scratch, "g-idx.gz")
    with open(path, "wb") as f:
        f.write(raw)
    try:
        bounded(read_idx, path)
    except IDXError:
        pass


@FUZZ
@given(raw=st.binary(max_size=100) | mutated(VALID_IDX))
def test_parse_idx_bytes(raw):
    try:
        out = bounded(parse_idx, raw)
    except IDXError:
        return
    assert encode_idx(out) == raw


# -- the model-file loader ---------------------------------------------------------------
def _valid_model_files():
    with tempfile.TemporaryDirectory() as d:
        files = []
        for model in (tiny_model(), hg.Sequential(hg.Conv2d(1, 2, 3, rng=0), hg.BatchNorm2d(2), hg.Flatten())):
            path = os.path.join(d, "m.npz")
            hg.save(model, path)
            files.append(open(path, "rb").read())
        return files


VALID_MODELS = _valid_model_files()


def _load_bytes(folder, raw):
    path = os.path.join(folder, "m.npz")
    with open(path, "wb") as f:
        f.write(raw)
    try:
        return hg.load(path)
    except HandgradFileError:
        return None


@FUZZ
@given(raw=st.binary(max_size=400) | mutated(VALID_MODELS))
def test_model_loader_on_random_and_mutated_files(scratch, raw):
    model = bounded(_load_bytes, scratch, raw)
    if model is not None:
        assert isinstance(model, hg.Layer)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2 ** 40) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
LAYER_TYPES = ["Linear", "Conv2d", "ConvNd", "BatchNorm1d", "BatchNorm2d", "UntiedBias", "ReLU", "Flatten",
               "Dropout", "MaxPool2d", "AvgPoolNd", "Sequential", "Softmax", "system", "__import__"]
CONFIG_KEYS = ["in_features", "out_features", "bias", "dtype", "in_channels", "out_channels", "kernel_size",
               "num_spatial_dims", "groups", "num_features", "affine", "shape", "p", "stride", "padding"]
layer_specs = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(LAYER_TYPES),
                           "config": st.dictionaries(st.sampled_from(CONFIG_KEYS),
                                                     st.integers(-3, 10 ** 7) | json_values, max_size=6)}),
    lambda inner: st.fixed_dictionaries({"type": st.just("Sequential"), "layers": st.lists(inner, max_size=4)})
    | json_values,
    max_leaves=12)


def _load_forged(folder, arch, arrays):
    path = os.path.join(folder, "forged.npz")
    forged_model(path, arch, arrays)
    try:
        return hg.load(path)
    except HandgradFileError:
        return None


@FUZZ
@given(arch=layer_specs, weights=st.sampled_from(["none", "tiny", "linear"]))
def test_model_loader_on_forged_architectures(scratch, arch, weights):
    arrays = {"none": {}, "tiny": {f"model/{k}": v for k, v in tiny_model().state_dict().items()},
              "linear": {"model/weight": np.ones((3, 4), np.float32), "model/bias": np.zeros(3, np.float32)}}[weights]
    try:
        json.dumps(arch, allow_nan=True)
    except (ValueError, TypeError):
        return
    model = bounded(_load_forged, scratch, arch, arrays)
    if model is not None:
        assert isinstance(model, hg.Layer)


# -- checkpoints: the same reader, plus optimizer, schedule and generator states ----------
def _valid_checkpoint_header():
    from handgrad import optim
    from handgrad.io import archive
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.StepLR(opt, step_size=2)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "c.npz")
        hg.save_checkpoint(path, model, opt, sched, epoch=1, rng_states={"data": np.random.default_rng(0)})
        return archive.read_archive(path, "handgrad-checkpoint")


CHECKPOINT_HEADER, CHECKPOINT_ARRAYS = _valid_checkpoint_header()
CHECKPOINT_KEYS = ["architecture", "epoch", "optimizer", "schedule", "rng_states", "history", "config"]


def _resume_forged(folder, header):
    from handgrad import optim
    from handgrad.io import archive
    path = os.path.join(folder, "c.npz")
    text = json.dumps(header, sort_keys=True)
    payload = dict(CHECKPOINT_ARRAYS, **{archive.HEADER_KEY: np.array(text),
                                         archive.DIGEST_KEY: np.array(archive.digest(text, CHECKPOINT_ARRAYS))})
    with open(path, "wb") as f:
        np.savez(f, **payload)
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    try:
        return hg.load_checkpoint(path, model, opt, optim.StepLR(opt, step_size=2),
                                  rngs={"data": np.random.default_rng(1)})
    except HandgradFileError:
        return None


@FUZZ
@given(key=st.sampled_from(CHECKPOINT_KEYS), value=json_values, nested=st.booleans())
def test_checkpoint_loader_on_forged_headers(scratch, key, value, nested):
    header = json.loads(json.dumps(CHECKPOINT_HEADER))
    if nested and isinstance(header[key], dict) and header[key]:
        inner = sorted(header[key])[0]
        header[key][inner] = value                     # one level down: a state's field
    else:
        header[key] = value
    try:
        json.dumps(header, allow_nan=True)
    except (ValueError, TypeError):
        return
    bounded(_resume_forged, scratch, header)
