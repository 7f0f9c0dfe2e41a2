"""Element-wise activations (and Softmax). Math: docs/activations.md."""

import numbers

import numpy as np

from .. import backend
from .._checks import check_array
from ..functional.activation_math import sigmoid
from .base import Layer


class ReLU(Layer):
    r"""Rectified linear unit, ``y = max(x, 0)``.

    Shape: any; output has the input's shape and dtype.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,[x > 0]

    (the subgradient at 0 is taken as 0, as PyTorch does).

    Examples
    --------
    >>> import numpy as np
    >>> ReLU()(np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def forward(self, x):
        check_array(x, "ReLU")
        ops = backend.ops()
        y, mask = ops.relu_forward(x)                     # mask: x > 0, one byte per value
        self._cache = ops, mask
        return y

    def backward(self, grad_out):
        ops, mask = self._saved()
        if np.shape(grad_out) != mask.shape:
            raise ValueError(f"ReLU.backward expected grad_out of shape {mask.shape}, "
                             f"got {np.shape(grad_out)}")
        return ops.relu_backward(grad_out, mask)


def _check_slope(value, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} expected negative_slope to be a number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{owner} expected a finite negative_slope, got {value}")
    return float(value)


class LeakyReLU(Layer):
    r"""Leaky rectifier, ``y = x`` for ``x > 0`` and ``y = negative_slope * x`` otherwise.

    Parameters
    ----------
    negative_slope : float
        Slope :math:`a` for negative inputs (default 0.01).

    Shape: any; output has the input's shape and dtype.

    Notes
    -----
    .. math::
        y = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}, \qquad
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}
        \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}

    Math: docs/activations.md.

    Examples
    --------
    >>> import numpy as np
    >>> LeakyReLU(0.1)(np.array([-2.0, 3.0])).tolist()
    [-0.2, 3.0]
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = _check_slope(negative_slope, "LeakyReLU")

    def forward(self, x):
        check_array(x, "LeakyReLU")
        positive = x > 0
        self._cache = positive
        return np.where(positive, x, x * x.dtype.type(self.negative_slope))

    def backward(self, grad_out):
        positive = self._saved()
        slope = grad_out.dtype.type(self.negative_slope)
        return np.where(positive, grad_out, grad_out * slope)

    def get_config(self):
        return {"negative_slope": self.negative_slope}

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Layer):
    r"""Logistic function ``y = 1 / (1 + exp(-x))``, computed without overflow.

    Shape: any; output has the input's shape and dtype.

    Notes
    -----
    With :math:`e = \exp(-|x|) \in (0, 1]` the two branches
    :math:`y = 1/(1+e)` (:math:`x \ge 0`) and :math:`y = e/(1+e)` (:math:`x < 0`)
    never overflow, even for :math:`|x| = 10^4`.

    .. math:: \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, y (1 - y)

    Math: docs/activations.md.

    Examples
    --------
    >>> import numpy as np
    >>> Sigmoid()(np.array([0.0, -1e4, 1e4])).tolist()
    [0.5, 0.0, 1.0]
    """

    def forward(self, x):
        check_array(x, "Sigmoid")
        y = sigmoid(x)
        self._cache = y
        return y

    def backward(self, grad_out):
        y = self._saved()
        return grad_out * (y * (1 - y))


class Tanh(Layer):
    r"""Hyperbolic tangent ``y = tanh(x)``.

    Shape: any; output has the input's shape and dtype.

    Notes
    -----
    .. math:: \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, (1 - y^2)

    Math: docs/activations.md.

    Examples
    --------
    >>> import numpy as np
    >>> Tanh()(np.array([0.0])).tolist()
    [0.0]
    """

    def forward(self, x):
        check_array(x, "Tanh")
        y = np.tanh(x)
        self._cache = y
        return y

    def backward(self, grad_out):
        y = self._saved()
        return grad_out * (1 - y * y)


class Softmax(Layer):
    r"""Softmax along ``axis``: ``y_i = exp(x_i) / sum_j exp(x_j)``.

    Use it as the last layer together with :class:`handgrad.losses.CategoricalCrossEntropy`;
    for training on logits prefer :class:`handgrad.losses.CrossEntropyLoss`, which fuses
    log-softmax and the loss (more accurate, gradient ``p - y``).

    Parameters
    ----------
    axis : int
        Axis along which the outputs sum to one (default -1, the class axis of ``(N, C)``).

    Shape: any with ``ndim > axis``; output has the input's shape and dtype.

    Notes
    -----
    The maximum along ``axis`` is subtracted first (softmax is shift invariant), so inputs
    of size 1e4 do not overflow. The Jacobian is :math:`J = \mathrm{diag}(y) - y y^\top`,
    and the backward pass is the Jacobian-vector product, never forming :math:`J`:

    .. math::
        \frac{\partial L}{\partial x} = J^\top g = y \odot \left(g - \textstyle\sum_j g_j y_j\right)

    Math: docs/activations.md.

    Examples
    --------
    >>> import numpy as np
    >>> Softmax()(np.array([[0.0, 0.0], [1e4, 0.0]])).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """

    def __init__(self, axis=-1):
        super().__init__()
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Softmax expected axis to be an int, got {type(axis).__name__} {axis!r}")
        self.axis = int(axis)

    def forward(self, x):
        check_array(x, "Softmax")
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError(f"Softmax(axis={self.axis}) needs an input with at least "
                             f"{self.axis + 1 if self.axis >= 0 else -self.axis} dimensions, got shape {x.shape}")
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))   # entries in (0, 1]
        y = e / e.sum(axis=self.axis, keepdims=True)
        self._cache = y
        return y

    def backward(self, grad_out):
        y = self._saved()
        return y * (grad_out - np.sum(grad_out * y, axis=self.axis, keepdims=True))

    def get_config(self):
        return {"axis": self.axis}

    def extra_repr(self):
        return f"axis={self.axis}"
