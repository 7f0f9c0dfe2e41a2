"""The layer contract and the Sequential container.

A layer is an object with

* ``forward(x) -> y``: computes the output and keeps exactly what ``backward`` needs;
* ``backward(grad_out) -> grad_x``: returns dL/dx and adds (``+=``) dL/dparam into
  each ``Parameter.grad``. It never mutates ``grad_out`` or the cache.

Parameters are ``Parameter`` attributes; sub-layers are ``Layer`` attributes (or the
items of a ``Sequential``). ``parameters()`` names them with dotted paths such as
``"0.weight"``; optimizers and save/load are keyed by these names.

A layer instance appears once in a model: it keeps the cache of one forward pass, so a
second use would overwrite what the first one's backward needs. ``Sequential`` (and
``fit``) refuse a model that holds the same instance twice (:func:`check_distinct_layers`).

The order of calls is checked here, once for every layer: :class:`Layer` wraps each
subclass's ``forward`` and ``backward`` (see :func:`_checked_forward`) so that ``backward``

* before any ``forward`` raises ``RuntimeError``;
* a second time after one ``forward`` raises ``RuntimeError`` (it would add the
  parameter gradients twice);
* with ``grad_out`` of another shape or dtype than the last output raises
  ``ValueError`` / ``TypeError``.

The checks cost a comparison of two tuples per call; a layer's own code never repeats them.
"""

import functools

import numpy as np

from ..parameter import Parameter
from ..summary import print_summary


def forward_done(layer, y):
    """Record that ``layer``'s forward returned ``y``: its shape and dtype, and one ``backward``
    armed (what every ``forward`` does through :func:`_checked_forward`; a fused forward of
    two layers, :meth:`Layer.forward_fused`, calls it for both)."""
    if isinstance(y, np.ndarray):
        layer._out_spec = (y.shape, y.dtype)
    layer._backward_armed = True


def check_backward_call(layer, grad_out):
    """Raise unless ``layer.backward(grad_out)`` may run now: after a forward and once only,
    with ``grad_out`` of the last output's shape and dtype. Changes nothing."""
    name = type(layer).__name__
    armed = getattr(layer, "_backward_armed", None)
    if armed is None:
        raise RuntimeError(f"{name}.backward() was called before forward(); run forward on a batch first")
    if not armed:
        raise RuntimeError(f"{name}.backward() was called twice after one forward(); it would add the "
                           f"parameter gradients again. Run forward on the batch before each backward")
    spec = getattr(layer, "_out_spec", None)
    if spec is not None:
        shape, dtype = spec
        if not isinstance(grad_out, np.ndarray):
            raise TypeError(f"{name}.backward expected grad_out to be a NumPy array of shape {shape}, "
                            f"got {type(grad_out).__name__}")
        if grad_out.shape != shape:
            raise ValueError(f"{name}.backward expected grad_out of shape {shape} (the last "
                             f"output's), got {grad_out.shape}")
        if grad_out.dtype != dtype:
            raise TypeError(f"{name}.backward expected grad_out of dtype {dtype} (the last "
                            f"output's), got {grad_out.dtype}; cast it with .astype(np.{dtype})")


def runs_own(layer, cls, names=("forward", "backward", "backward_params")):
    """Whether ``layer`` runs ``cls``'s own methods ``names``: neither its class (a subclass)
    nor the instance itself (as :func:`handgrad.summary.summary` does, to observe a layer)
    replaces one. Only then may a fused operation stand in for them."""
    own, kind = vars(layer), type(layer)
    for n in names:                      # a plain loop: every forward and backward asks (steps())
        if n in own or getattr(kind, n) is not getattr(cls, n):
            return False
    return True


def _checked_forward(forward):
    """``forward`` that records the output's shape and dtype and arms one ``backward``."""
    @functools.wraps(forward)
    def wrapper(self, x):
        y = forward(self, x)
        forward_done(self, y)
        return y
    wrapper._handgrad_checked = True
    return wrapper


def _checked_backward(backward):
    """``backward`` that checks the call order and ``grad_out`` against the last output."""
    @functools.wraps(backward)
    def wrapper(self, grad_out):
        if getattr(self, "_in_backward", False):        # a subclass calling super().backward
            return backward(self, grad_out)
        check_backward_call(self, grad_out)
        self._backward_armed = False
        self._in_backward = True
        try:
            return backward(self, grad_out)
        finally:
            self._in_backward = False
    wrapper._handgrad_checked = True
    return wrapper


class Layer:
    """Base class of every layer. Subclasses implement ``forward`` and ``backward``.

    Every subclass's ``forward`` and ``backward`` are wrapped with the shared checks of
    the call order and of ``grad_out`` (module docstring); a failed ``backward`` check
    leaves the layer as it was.
    """

    #: names of non-trainable array attributes saved with the model (e.g. running stats)
    buffer_names = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, wrap in (("forward", _checked_forward), ("backward", _checked_backward)):
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "_handgrad_checked", False):
                setattr(cls, name, wrap(method))

    def __init__(self):
        self.training = True
        self._cache = None

    # -- computation ---------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def backward_params(self, grad_out):
        """``backward`` for a layer whose input is data: adds into each ``param.grad`` and
        returns None, skipping dL/dx where the layer can (training calls this on the
        model, so the first layer never computes the gradient of the data batch)."""
        self.backward(grad_out)

    def __call__(self, x):
        return self.forward(x)

    # -- fusion with the next layer (used by Sequential) -----------------------
    def fuses_with(self, layer):
        """Whether this layer and ``layer``, the next one in a Sequential, can run as one
        operation (:meth:`forward_fused`, :meth:`backward_fused`); by default none can."""
        return False

    def forward_fused(self, x, layer):
        """``layer.forward(self.forward(x))`` as one operation, leaving both layers the state
        their own forwards would have left (so that either can also run backward alone)."""
        raise NotImplementedError

    def backward_fused(self, grad_out, layer, input_grad=True):
        """``self.backward(layer.backward(grad_out))`` as one operation (``input_grad=False``:
        as ``backward_params``, returning None)."""
        raise NotImplementedError

    def _saved(self):
        """The cache written by ``forward``; raises if ``forward`` has not run."""
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(); "
                f"run forward on a batch first"
            )
        return self._cache

    # -- structure -----------------------------------------------------------
    def named_children(self):
        """Yield ``(name, layer)`` for each direct sub-layer, in definition order."""
        for name, value in vars(self).items():
            if isinstance(value, Layer):
                yield name, value

    def parameters(self):
        """Ordered dict of dotted name -> Parameter, this layer's then its children's."""
        out = {}
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                out[name] = value
        for cname, child in self.named_children():
            for pname, p in child.parameters().items():
                out[f"{cname}.{pname}"] = p
        return out

    def buffers(self):
        """Ordered dict of dotted name -> non-trainable array (e.g. BatchNorm running mean)."""
        out = {name: getattr(self, name) for name in self.buffer_names}
        for cname, child in self.named_children():
            for bname, b in child.buffers().items():
                out[f"{cname}.{bname}"] = b
        return out

    def state_dict(self):
        """Copies of every parameter and buffer, keyed by dotted name."""
        state = {name: p.data.copy() for name, p in self.parameters().items()}
        state.update({name: np.array(b, copy=True) for name, b in self.buffers().items()})
        return state

    def load_state_dict(self, state):
        """Copy arrays from ``state`` into this model's parameters and buffers, in place."""
        params, buffers = self.parameters(), self.buffers()
        expected = list(params) + list(buffers)
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in params and k not in buffers]
        if missing or unexpected:
            raise ValueError(
                f"load_state_dict: state does not match the model; "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        for name, target in [(n, p.data) for n, p in params.items()] + list(buffers.items()):
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(
                    f"load_state_dict: {name!r} expected shape {target.shape}, got {value.shape}"
                )
            target[...] = value

    def num_parameters(self):
        return sum(p.size for p in self.parameters().values())

    # -- modes and gradients -------------------------------------------------
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode, recursively. Returns self."""
        self.training = bool(mode)
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters().values():
            p.zero_grad()

    # -- description ---------------------------------------------------------
    def get_config(self):
        """Constructor arguments as JSON-friendly values (used to save the architecture)."""
        return {}

    def macs(self, input_shape, output_shape):
        """Multiply-accumulates of one forward pass for one sample (shapes without N)."""
        return 0

    def extra_repr(self):
        return ""

    def summary(self, input_shape):
        """Print and return the per-layer output shapes, parameters and MACs (see :mod:`handgrad.summary`)."""
        return print_summary(self, input_shape)

    def __repr__(self):
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


def check_distinct_layers(model, owner):
    """Raise ValueError when one layer instance appears twice in ``model``'s tree.

    A layer keeps the cache of its last forward pass (one cache, not a stack), so a layer
    used at two places of a model would hand its first use's backward the second use's
    cache: a wrong gradient. Each use needs its own instance.
    """
    seen = {}

    def walk(layer, name):
        if id(layer) in seen:
            raise ValueError(
                f"{owner}: the same {type(layer).__name__}({layer.extra_repr()}) instance is used twice "
                f"in one model, at {seen[id(layer)]!r} and {name!r}; a layer keeps the cache of one "
                f"forward pass, so give each use its own layer (copy.deepcopy(layer) starts from the "
                f"same weights; sharing weights between two places is not supported)")
        seen[id(layer)] = name
        for child_name, child in layer.named_children():
            walk(child, f"{name}.{child_name}" if name != "<model>" else child_name)

    walk(model, "<model>")


class Sequential(Layer):
    """Layers applied one after another; backward runs them in reverse.

    Parameters are named by position: ``"0.weight"``, ``"2.bias"``, ...
    Each layer instance may appear once (a ValueError names a repeated one).

    Examples
    --------
    >>> import numpy as np
    >>> from handgrad import Sequential, Linear, ReLU
    >>> rng = np.random.default_rng(0)
    >>> net = Sequential(Linear(4, 8, rng=rng), ReLU(), Linear(8, 2, rng=rng))
    >>> net(np.ones((3, 4), np.float32)).shape
    (3, 2)
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential expected Layer instances, got {type(layer).__name__} at position {i}"
                )
        self.layers = list(layers)
        check_distinct_layers(self, "Sequential")

    def named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def steps(self):
        """The layers grouped as forward runs them: a layer and the next one form one step
        when the first :meth:`~Layer.fuses_with` the second (a convolution and the ReLU
        after it), every other layer is a step of its own."""
        out, i = [], 0
        while i < len(self.layers):
            pair = self.layers[i:i + 2]
            if len(pair) == 2 and pair[0].fuses_with(pair[1]):
                out.append(tuple(pair))
                i += 2
            else:
                out.append((self.layers[i],))
                i += 1
        return out

    def forward(self, x):
        for step in self.steps():
            x = step[0].forward(x) if len(step) == 1 else step[0].forward_fused(x, step[1])
        return x

    def backward(self, grad_out):
        return self._backward(grad_out, input_grad=True)

    def backward_params(self, grad_out):
        self._backward(grad_out, input_grad=False)

    def _backward(self, grad_out, input_grad):
        steps = self.steps()
        for i, step in enumerate(reversed(steps)):
            last = i == len(steps) - 1                  # the first layer: dL/dx only if asked
            if len(step) == 2:
                grad_out = step[0].backward_fused(grad_out, step[1], input_grad or not last)
            elif last and not input_grad:
                step[0].backward_params(grad_out)
            else:
                grad_out = step[0].backward(grad_out)
        return grad_out if input_grad else None

    def append(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.append expected a Layer, got {type(layer).__name__}")
        self.layers.append(layer)
        try:
            check_distinct_layers(self, "Sequential.append")
        except ValueError:
            self.layers.pop()
            raise
        return self

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)
