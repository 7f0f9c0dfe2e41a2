"""Validation shared by layers and losses: one place for the wording of errors.

Every message names what was expected and what was received.
"""

import math
import numbers

import numpy as np


#: the floating dtypes handgrad computes in (float16 lacks the range and precision for
#: training from scratch; longdouble is not portable)
SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_dtype(dtype, where="dtype"):
    """Return ``np.dtype(dtype)``, requiring float32 or float64."""
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{where} must be a NumPy floating dtype such as np.float32, got {dtype!r}") from e
    if dt not in SUPPORTED_DTYPES:
        raise TypeError(f"{where} must be float32 or float64, got {dt}")
    return dt


def check_positive_int(value, name, owner, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner} expected {name} to be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{owner} expected {name} >= {minimum}, got {value}")
    return int(value)


def check_probability(value, name, owner, *, include_one=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} expected {name} to be a number, got {type(value).__name__} {value!r}")
    upper_ok = value <= 1 if include_one else value < 1
    if not (0 <= value and upper_ok):
        bound = "[0, 1]" if include_one else "[0, 1)"
        raise ValueError(f"{owner} expected {name} in {bound}, got {value}")
    return float(value)


def check_array(x, owner):
    """Require a NumPy floating array (no silent conversion of lists or ints)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{owner} expected a NumPy array, got {type(x).__name__}")
    if x.dtype.kind != "f":                             # np.floating (np.issubdtype: 10x slower)
        raise TypeError(
            f"{owner} expected a floating-point array, got dtype {x.dtype}; "
            f"convert with x.astype(np.float32) (and scale images to [0, 1])"
        )
    return x


def check_input(x, owner, *, ndim=None, dtype=None, axis_size=None, layout=None):
    """Validate a layer input.

    Parameters
    ----------
    x : array
    owner : str
        The layer's name for messages, e.g. ``"Linear(784 -> 10)"``.
    ndim : int or tuple of int, optional
        Allowed ranks.
    dtype : np.dtype, optional
        Required dtype (the layer's parameter dtype); a different float dtype is an error.
    axis_size : (axis, size), optional
        A required size along one axis (features or channels).
    layout : str, optional
        Human-readable expected shape, e.g. ``"(N, C, H, W)"``.
    """
    check_array(x, owner)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim             # a tuple or a range
        if x.ndim not in allowed:
            want = layout or " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(f"{owner} expected input of shape {want}, got {x.shape} ({x.ndim}-D)")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{owner} has {dtype} parameters but received a {x.dtype} input; "
            f"cast the input with x.astype(np.{dtype}) or build the layer with dtype=np.{x.dtype}"
        )
    if axis_size is not None:
        axis, size = axis_size
        if x.shape[axis] != size:
            hint = ""
            if layout and x.ndim >= 3 and x.shape[-1] == size:
                hint = "; is the data channels-last? handgrad expects channels-first (NCHW)"
            raise ValueError(
                f"{owner} expected input of shape {layout or ''} with {size} at axis {axis}, "
                f"got {x.shape}{hint}"
            )
    return x


def as_rng(rng, owner="rng"):
    """Accept a Generator, an int seed, or None (fresh OS entropy; never the global state)."""
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"{owner} expected a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


def check_real(value, name, owner, *, low=None, high=None, low_open=False, high_open=False):
    """Require a finite real number (not bool) inside an interval; returns it as a float.

    ``low``/``high`` are the bounds (None: unbounded); ``*_open`` excludes the bound.
    NaN and +-inf are always refused (an infinite rate or factor is never meant).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} expected {name} to be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner} expected {name} to be a finite number, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "-inf" if low is None else f"{low:g}"
        right = "inf" if high is None else f"{high:g}"
        bracket = ("(" if low_open or low is None else "[") + f"{left}, {right}" + (
            ")" if high_open or high is None else "]")
        raise ValueError(f"{owner} expected {name} in {bracket}, got {value}")
    return value


def check_bool(value, name, owner):
    """Require a bool (or NumPy bool); returns a Python bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner} expected {name} to be a bool, got {type(value).__name__} {value!r}")
    return bool(value)
