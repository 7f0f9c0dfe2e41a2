"""The optimizer contract: named parameters in, in-place updates out.

An optimizer holds the ordered dict ``name -> Parameter`` returned by
``model.parameters()``. ``step()`` reads each ``p.grad`` and updates ``p.data`` in
place; ``zero_grad()`` resets the gradients. Per-parameter state (momentum buffers,
moment estimates) lives in ``self.state[name]`` and is keyed by the parameter's dotted
name, never by ``id()``, so a checkpoint taken from one process loads into another.

State-dict format
-----------------
``state_dict()`` returns plain data, safe to store without pickle (see
:func:`handgrad.optim.state.split_state` for the ``.npz`` + JSON split)::

    {
        "type": "Adam",                       # class name, checked on load
        "hyperparameters": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-08,
                            "weight_decay": 0.0, "amsgrad": False,
                            "max_grad_norm": None},
        "step": 12,                           # number of step() calls so far
        "state": {"0.weight": {"exp_avg": <ndarray>, "exp_avg_sq": <ndarray>},
                  "0.bias": {...}},
    }

Everything except the arrays under ``"state"`` is JSON-serializable (floats, ints,
bools, None, lists). ``load_state_dict`` restores all of it; the arrays are copied into
the optimizer's buffers in the parameter dtype.
"""

import numpy as np

from .._checks import check_real
from ..parameter import Parameter
from .clip import clip_grad_norm


def named_parameters(params, owner):
    """Validate ``params`` and return an ordered dict ``name -> Parameter``.

    Accepts the dict returned by ``model.parameters()`` or an iterable of
    ``(name, Parameter)`` pairs.
    """
    hint = "pass model.parameters() (a dict name -> Parameter) or (name, Parameter) pairs"
    if isinstance(params, np.ndarray) or isinstance(params, Parameter):
        raise TypeError(f"{owner} expected named parameters, got a single {type(params).__name__}; {hint}")
    items = params.items() if isinstance(params, dict) else params
    try:
        items = list(items)
    except TypeError as e:
        raise TypeError(f"{owner} expected named parameters, got {type(params).__name__}; {hint}") from e
    out = {}
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2
                and isinstance(item[0], str) and isinstance(item[1], Parameter)):
            raise TypeError(
                f"{owner} expected (name, Parameter) pairs, got an element of type "
                f"{type(item).__name__}; {hint}"
            )
        name, p = item
        if name in out:
            raise ValueError(f"{owner} received the parameter name {name!r} twice")
        out[name] = p
    if not out:
        raise ValueError(f"{owner} received an empty parameter list")
    seen = {}
    for name, p in out.items():
        if id(p) in seen:
            raise ValueError(f"{owner} received the same Parameter as {seen[id(p)]!r} and {name!r}")
        seen[id(p)] = name
    return out


class Optimizer:
    """Base class: parameter bookkeeping, ``zero_grad``, clipping and state dicts.

    Parameters
    ----------
    params : dict of str -> Parameter, or iterable of (str, Parameter)
        Usually ``model.parameters()``. The names key the optimizer state.
    lr : float
        Learning rate, >= 0. A public attribute: schedules assign ``optimizer.lr``.
    max_grad_norm : float, optional
        If given, ``step()`` first rescales all gradients so that their global L2 norm
        is at most ``max_grad_norm`` (see :func:`clip_grad_norm`); the norm before
        clipping is kept in ``last_grad_norm``.

    Notes
    -----
    Subclasses list their hyperparameters in ``hyperparameter_names``, validate them
    in ``_check_hyperparameters`` and implement ``_update(name, p, grad)``, which
    changes ``p.data`` in place. ``self.step_count`` is already incremented (1 on the
    first step) when ``_update`` runs.
    """

    #: constructor arguments besides lr and max_grad_norm, saved in state_dict()
    hyperparameter_names = ()

    def __init__(self, params, lr, *, max_grad_norm=None):
        owner = type(self).__name__
        self.params = named_parameters(params, owner)
        self.lr = lr
        self.max_grad_norm = max_grad_norm
        self.step_count = 0
        self.last_grad_norm = None
        self.state = {name: {} for name in self.params}
        self._scratch = {}

    # -- hyperparameters -----------------------------------------------------
    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_real(value, "lr", type(self).__name__, low=0.0)

    @property
    def max_grad_norm(self):
        return self._max_grad_norm

    @max_grad_norm.setter
    def max_grad_norm(self, value):
        if value is not None:
            value = check_real(value, "max_grad_norm", type(self).__name__, low=0.0, low_open=True)
        self._max_grad_norm = value

    def _check_hyperparameters(self):
        """Raise ValueError/TypeError for invalid hyperparameters (override)."""

    def _check_eps(self, eps):
        """``eps`` > 0 that stays > 0 in every parameter's dtype (1e-50 is 0 in float32, and
        a zero denominator turns a zero gradient into NaN); returns it."""
        eps = check_real(eps, "eps", type(self).__name__, low=0.0, low_open=True)
        for name, p in self.params.items():
            if p.data.dtype.type(eps) == 0:
                raise ValueError(f"{type(self).__name__} expected eps representable in {p.data.dtype} "
                                 f"(parameter {name!r}), got {eps:g}, which rounds to 0; use "
                                 f"eps >= {float(np.finfo(p.data.dtype).tiny):g}")
        return eps

    def hyperparameters(self):
        """JSON-friendly dict of lr, max_grad_norm and the subclass's hyperparameters."""
        out = {"lr": self.lr}
        for name in self.hyperparameter_names:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        out["max_grad_norm"] = self.max_grad_norm
        return out

    # -- the training-step API -----------------------------------------------
    def zero_grad(self):
        """Set every parameter's gradient to zero (in place)."""
        for p in self.params.values():
            p.grad[...] = 0

    def step(self):
        """Clip (if ``max_grad_norm``) and apply one update to every parameter."""
        if self.max_grad_norm is not None:
            self.last_grad_norm = clip_grad_norm(self.params, self.max_grad_norm)
        self.step_count += 1
        for name, p in self.params.items():
            self._update(name, p, p.grad)

    def _update(self, name, p, grad):
        raise NotImplementedError

    # -- helpers for subclasses ----------------------------------------------
    def _buffer(self, name, key, p, fill=0.0):
        """The state array ``self.state[name][key]``, created (filled) on first use."""
        st = self.state[name]
        if key not in st:
            st[key] = np.full_like(p.data, fill)
        return st[key]

    def _tmp(self, name, p, k=0):
        """A reusable scratch array shaped like ``p`` (not part of the state)."""
        key = (name, k)
        buf = self._scratch.get(key)
        if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
            buf = self._scratch[key] = np.empty_like(p.data)
        return buf

    def _decayed_grad(self, name, p, grad, weight_decay):
        """``grad + weight_decay * p`` (L2 penalty) without touching ``p.grad``."""
        if weight_decay == 0:
            return grad
        g = self._tmp(name, p, "wd")
        np.multiply(p.data, weight_decay, out=g)
        g += grad
        return g

    # -- checkpoints ---------------------------------------------------------
    def state_dict(self):
        """Hyperparameters, step count and per-name state (copies); see module docstring."""
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "step": int(self.step_count),
            "state": {name: {k: v.copy() for k, v in st.items()} for name, st in self.state.items()},
        }

    def load_state_dict(self, state_dict):
        """Restore hyperparameters, step count and buffers saved by :meth:`state_dict`."""
        owner = type(self).__name__
        kind = state_dict.get("type")
        if kind != owner:
            raise ValueError(f"{owner}.load_state_dict received the state of a {kind} optimizer")
        saved = state_dict["state"]
        missing = [n for n in self.params if n not in saved]
        unexpected = [n for n in saved if n not in self.params]
        if missing or unexpected:
            raise ValueError(
                f"{owner}.load_state_dict: parameter names do not match; "
                f"missing {missing}, unexpected {unexpected}"
            )
        new_state = {}
        for name, p in self.params.items():
            new_state[name] = {}
            for key, value in saved[name].items():
                value = np.asarray(value)
                if value.shape != p.data.shape:
                    raise ValueError(
                        f"{owner}.load_state_dict: state {name!r}/{key!r} expected shape "
                        f"{p.data.shape}, got {value.shape}"
                    )
                new_state[name][key] = value.astype(p.data.dtype, copy=True)
        hyper = dict(state_dict["hyperparameters"])
        old = self.hyperparameters()
        try:
            self.lr = hyper.pop("lr")
            self.max_grad_norm = hyper.pop("max_grad_norm", None)
            for key in self.hyperparameter_names:
                value = hyper[key]
                setattr(self, key, tuple(value) if isinstance(value, list) else value)
            self._check_hyperparameters()
        except Exception:
            for key, value in old.items():  # leave the optimizer as it was
                setattr(self, key, tuple(value) if isinstance(value, list) else value)
            raise
        self.step_count = int(state_dict["step"])
        self.state = new_state

    def extra_repr(self):
        return ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items())

    def __repr__(self):
        return f"{type(self).__name__}({len(self.params)} parameters, {self.extra_repr()})"
