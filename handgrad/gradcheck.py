"""Numerical gradient checking: compare a layer's backward with central differences.

For a layer ``f`` and a random upstream gradient ``g`` (same shape as the output),
the scalar ``L = sum(g * f(x))`` has ``dL/dx = backward(g)``.  Each entry of the input
and of every parameter is perturbed by ``+-eps`` and

    dL/dθ_i ≈ (L(θ_i + eps) - L(θ_i - eps)) / (2 eps)

is compared with the analytic value. A random ``g`` matters: with ``g = 1`` some wrong
backward passes still pass the check. A softmax's outputs always sum to one, so
``L = sum(y)`` is constant, its true gradient is zero, and any backward that returns
zeros would agree with it.

Run in float64: with eps = 1e-6 the truncation error is O(eps^2) and the rounding
error about 1e-16 * |L| / eps, both far below the tolerances used here.
"""

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_rng


@dataclass
class TensorCheck:
    name: str
    shape: tuple
    checked: int          # entries compared
    max_abs_err: float    # max |analytic - numeric|
    max_rel_err: float    # max_abs_err / max(|numeric|, |analytic|) over the tensor
    passed: bool


@dataclass
class GradcheckReport:
    """Per-tensor results of :func:`gradcheck`; ``str(report)`` is a table."""

    target: str
    tensors: list = field(default_factory=list)

    @property
    def passed(self):
        return all(t.passed for t in self.tensors)

    @property
    def max_rel_err(self):
        return max((t.max_rel_err for t in self.tensors), default=0.0)

    def __str__(self):
        rows = [f"gradcheck {self.target}: {'ok' if self.passed else 'FAILED'}",
                f"  {'tensor':<16} {'shape':<18} {'checked':>8} {'max abs err':>12} {'max rel err':>12}"]
        for t in self.tensors:
            flag = "" if t.passed else "  <-- mismatch"
            rows.append(f"  {t.name:<16} {str(t.shape):<18} {t.checked:>8} "
                        f"{t.max_abs_err:>12.2e} {t.max_rel_err:>12.2e}{flag}")
        return "\n".join(rows)


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numeric one."""


def _compare(name, shape, analytic, numeric, rtol, atol):
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    err = np.abs(a - n)
    scale = max(float(np.max(np.abs(n), initial=0.0)), float(np.max(np.abs(a), initial=0.0)), 1e-300)
    max_abs = float(err.max(initial=0.0))
    ok = bool(np.all(err <= atol + rtol * np.abs(n)))
    return TensorCheck(name, tuple(shape), a.size, max_abs, max_abs / scale, ok)


def _pick(size, max_entries, rng):
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def _numeric(f, array, flat_idx, eps):
    """Central differences of the scalar function f() w.r.t. array.flat[flat_idx]."""
    flat = array.reshape(-1)  # a view: array must be contiguous
    out = np.empty(len(flat_idx))
    for j, i in enumerate(flat_idx):
        orig = flat[i]
        flat[i] = orig + eps
        fp = f()
        flat[i] = orig - eps
        fm = f()
        flat[i] = orig
        out[j] = (fp - fm) / (2 * eps)
    return out


def _require_float64(name, arr):
    if arr.dtype != np.float64:
        raise TypeError(f"gradcheck needs float64 tensors, but {name} is {arr.dtype}; "
                        f"build the layer with dtype=np.float64 and pass a float64 input")


def gradcheck(layer, x, *, rng=None, eps=1e-6, rtol=1e-5, atol=1e-7, max_entries=None,
              before_forward=None, raise_on_failure=True):
    """Check ``layer.backward`` (input and every parameter) against central differences.

    Parameters
    ----------
    layer : Layer
        A layer or a whole model, built with ``dtype=np.float64``.
    x : ndarray, float64
    rng : Generator or int, optional
        Draws the upstream gradient and, with ``max_entries``, the entries checked.
    eps : float
        Perturbation size.
    rtol, atol : float
        An entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    max_entries : int, optional
        Check at most this many randomly chosen entries per tensor (for big tensors).
    before_forward : callable, optional
        Called before every forward pass, e.g. to re-seed a dropout layer so that
        every evaluation uses the same mask.
    raise_on_failure : bool
        Raise :class:`GradcheckError` (with the table) if any tensor fails.

    Returns
    -------
    GradcheckReport
    """
    rng = as_rng(rng)
    x = np.ascontiguousarray(x)
    _require_float64("the input", x)
    params = layer.parameters()
    for name, p in params.items():
        _require_float64(f"parameter {name!r}", p.data)
    call = before_forward or (lambda: None)

    # analytic gradients
    call()
    y = layer.forward(x)
    g = rng.standard_normal(y.shape)
    layer.zero_grad()
    grad_x = layer.backward(g.copy())
    analytic = {name: p.grad.copy() for name, p in params.items()}

    def loss():
        call()
        return float(np.sum(g * layer.forward(x)))

    report = GradcheckReport(type(layer).__name__)
    idx = _pick(x.size, max_entries, rng)
    num = _numeric(loss, x, idx, eps)
    report.tensors.append(_compare("input", x.shape, grad_x.reshape(-1)[idx], num, rtol, atol))
    for name, p in params.items():
        idx = _pick(p.size, max_entries, rng)
        num = _numeric(loss, p.data, idx, eps)
        report.tensors.append(_compare(name, p.shape, analytic[name].reshape(-1)[idx], num, rtol, atol))
    if raise_on_failure and not report.passed:
        raise GradcheckError(str(report))
    return report


def gradcheck_loss(loss, prediction, target, *, eps=1e-6, rtol=1e-5, atol=1e-7,
                   max_entries=None, rng=None, raise_on_failure=True):
    """Check ``loss.backward()`` (dL/dprediction) against central differences.

    A loss returns a scalar, so the upstream gradient is the scalar 1; the check
    covers every entry of ``prediction`` (or ``max_entries`` random ones).
    """
    rng = as_rng(rng)
    prediction = np.ascontiguousarray(prediction)
    _require_float64("the prediction", prediction)
    loss.forward(prediction, target)
    analytic = np.array(loss.backward(), dtype=np.float64)

    def f():
        return float(loss.forward(prediction, target))

    idx = _pick(prediction.size, max_entries, rng)
    num = _numeric(f, prediction, idx, eps)
    report = GradcheckReport(type(loss).__name__)
    report.tensors.append(_compare("prediction", prediction.shape, analytic.reshape(-1)[idx], num, rtol, atol))
    if raise_on_failure and not report.passed:
        raise GradcheckError(str(report))
    return report
