"""Which implementation of each array operation runs: the NumPy reference or compiled kernels.

Every operation the layers call (convolution and batch normalization, each also fused with
the ReLU after it, pooling, dense layers, ReLU, softmax cross-entropy) has a
reference in :mod:`handgrad.functional`, pure NumPy, always present and complete. A
compiled backend supplies its own version of some of them (handgrad/kernels/<name>/),
each tested equal to the reference; the operations it does not supply fall back to the
reference.

- ``"numpy"``: the reference.
- ``"numba"``: loop kernels compiled by Numba (parallel over the batch, cached on disk).

The default is the fastest backend installed (``"numba"`` when Numba imports, else
``"numpy"``); the environment variable ``HANDGRAD_BACKEND`` or :func:`set_backend`
choose another. A compiled operation called from the main thread splits its work over
:func:`threads` threads (every core by default; ``HANDGRAD_THREADS`` or
:func:`set_threads` choose fewer); results do not depend on the count.

Examples
--------
>>> import handgrad.backend as backend
>>> backend.available()[0]
'numpy'
>>> previous = backend.get()
>>> backend.set_backend("numpy")
>>> backend.get()
'numpy'
>>> backend.set_backend(previous)
"""

import importlib
import importlib.util
import os
from types import SimpleNamespace

from . import functional
from ._threads import set_threads, threads  # noqa: F401  (part of this module's API)

#: the operations a backend may supply, all present in handgrad.functional
OPERATIONS = (
    "batch_norm_forward", "batch_norm_backward", "batch_norm_relu_forward", "batch_norm_relu_backward",
    "conv_forward", "conv_backward",
    "conv_relu_forward", "conv_relu_backward", "max_pool_forward", "max_pool_backward", "avg_pool_forward", "avg_pool_backward",
    "linear_forward", "linear_backward", "relu_forward", "relu_backward", "softmax_cross_entropy",
)

#: backend name -> module holding its kernels (None: the reference itself), fastest last
_MODULES = {"numpy": None, "numba": "handgrad.kernels.numba"}
_REQUIRES = {"numba": "numba"}

_state = {"name": None, "ops": {}}


def available():
    """Names of the backends that can run here, the reference ``"numpy"`` first."""
    return [name for name in _MODULES
            if name not in _REQUIRES or importlib.util.find_spec(_REQUIRES[name]) is not None]


def _default():
    requested = os.environ.get("HANDGRAD_BACKEND", "").strip().lower()
    if requested:
        _check(requested, "the environment variable HANDGRAD_BACKEND")
        return requested
    return available()[-1]


def _check(name, what):
    if not isinstance(name, str) or name not in _MODULES:
        raise ValueError(f"{what} expected one of {list(_MODULES)}, got {name!r}")
    if name not in available():
        raise ValueError(f"{what} asked for the {name!r} backend, but {_REQUIRES[name]!r} is not "
                         f"installed (pip install {_REQUIRES[name]}); available: {available()}")


def get():
    """The name of the backend in use."""
    if _state["name"] is None:
        _state["name"] = _default()
    return _state["name"]


def set_backend(name):
    """Use backend ``name`` (one of :func:`available`) from now on."""
    _check(name, "set_backend")
    _state["name"] = name


def ops(name=None):
    """The operations of backend ``name`` (default: the one in use), as attributes."""
    name = get() if name is None else name
    table = _state["ops"].get(name)
    if table is None:
        kernels = importlib.import_module(_MODULES[name]) if _MODULES[name] else None
        table = SimpleNamespace(name=name, **{
            op: getattr(kernels, op, None) or getattr(functional, op) for op in OPERATIONS})
        _state["ops"][name] = table
    return table
