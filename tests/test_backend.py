"""handgrad.backend: names, choice by call or environment variable, fallback to the reference."""

import numpy as np
import pytest

import handgrad.functional as reference
from handgrad import backend
from handgrad.layers import Conv2d


@pytest.fixture
def restore():
    before = backend.get()
    yield
    backend.set_backend(before)


def test_reference_first_and_always_available():
    names = backend.available()
    assert names[0] == "numpy"
    assert backend.ops("numpy").conv_forward is reference.conv_forward


def test_every_operation_present_in_every_backend():
    for name in backend.available():
        ops = backend.ops(name)
        assert ops.name == name
        for op in backend.OPERATIONS:
            assert callable(getattr(ops, op)), (name, op)


def test_set_backend_rejects_unknown_names(restore):
    with pytest.raises(ValueError, match=r"set_backend expected one of \['numpy', 'numba'\], got 'cuda'"):
        backend.set_backend("cuda")


def test_environment_variable_chooses_the_default(monkeypatch, restore):
    monkeypatch.setattr(backend, "_state", {"name": None, "ops": {}})
    monkeypatch.setenv("HANDGRAD_BACKEND", "numpy")
    assert backend.get() == "numpy"
    monkeypatch.setattr(backend, "_state", {"name": None, "ops": {}})
    monkeypatch.setenv("HANDGRAD_BACKEND", "fortran")
    with pytest.raises(ValueError, match="HANDGRAD_BACKEND expected one of"):
        backend.get()


def test_default_is_the_fastest_installed(monkeypatch):
    monkeypatch.setattr(backend, "_state", {"name": None, "ops": {}})
    monkeypatch.delenv("HANDGRAD_BACKEND", raising=False)
    assert backend.get() == backend.available()[-1]


def test_layer_keeps_the_backend_of_its_forward(restore):
    """A backward runs the backend its forward ran, whatever was chosen in between."""
    rng = np.random.default_rng(0)
    conv = Conv2d(2, 3, 3, padding=1, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 5, 5))
    for first in backend.available():
        for second in backend.available():
            backend.set_backend(first)
            conv.zero_grad()
            y = conv(x)
            backend.set_backend(second)
            dx = conv.backward(np.ones_like(y))
            backend.set_backend("numpy")
            conv.zero_grad()
            conv(x)
            np.testing.assert_allclose(dx, conv.backward(np.ones_like(y)), rtol=1e-12)
