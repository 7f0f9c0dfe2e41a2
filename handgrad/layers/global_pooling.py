r"""Global pooling: one value per channel, over all spatial dimensions.  Math: docs/pooling.md."""

import numpy as np

from .._checks import check_input
from .base import Layer


class GlobalAvgPool(Layer):
    r"""Mean over every spatial dimension: ``(N, C, *spatial) -> (N, C)``.

    Shape
    -----
    - Input: ``(N, C, *spatial)`` with at least one spatial dimension
    - Output: ``(N, C)``

    Notes
    -----
    With :math:`S` spatial positions,

    .. math::
        y_{nc} = \frac{1}{S} \sum_i x_{nci}, \qquad
        \frac{\partial L}{\partial x_{nci}} = \frac{g_{nc}}{S} .

    Examples
    --------
    >>> import numpy as np
    >>> GlobalAvgPool()(np.ones((8, 32, 7, 7), np.float32)).shape
    (8, 32)
    """

    def forward(self, x):
        check_input(x, "GlobalAvgPool", ndim=range(3, 33), layout="(N, C, *spatial)")
        N, C = x.shape[:2]
        y = x.reshape(N, C, -1).mean(axis=2)                # (N, C)
        self._cache = x.shape
        return y

    def backward(self, grad_out):
        x_shape = self._saved()
        N, C = x_shape[:2]
        S = int(np.prod(x_shape[2:]))
        share = (grad_out / S).reshape(N, C, 1)              # (N, C, 1)
        return np.broadcast_to(share, (N, C, S)).reshape(x_shape).copy()


class GlobalMaxPool(Layer):
    r"""Maximum over every spatial dimension: ``(N, C, *spatial) -> (N, C)``.

    Shape
    -----
    As :class:`GlobalAvgPool`: input ``(N, C, *spatial)``, output ``(N, C)``.

    Notes
    -----
    .. math::
        y_{nc} = \max_i x_{nci}, \qquad
        \frac{\partial L}{\partial x_{nci}} = g_{nc}\,[i = a_{nc}] ,

    where :math:`a_{nc}` is the first maximum in C order (ties go to the first).

    Examples
    --------
    >>> import numpy as np
    >>> GlobalMaxPool()(np.arange(8.0).reshape(1, 2, 2, 2)).tolist()
    [[3.0, 7.0]]
    """

    def forward(self, x):
        check_input(x, "GlobalMaxPool", ndim=range(3, 33), layout="(N, C, *spatial)")
        N, C = x.shape[:2]
        flat = x.reshape(N, C, -1)                           # (N, C, S)
        arg = flat.argmax(axis=2)[..., None]                 # (N, C, 1), first maximum
        self._cache = arg, x.shape
        return np.take_along_axis(flat, arg, axis=2)[..., 0]

    def backward(self, grad_out):
        arg, x_shape = self._saved()
        N, C = x_shape[:2]
        gx = np.zeros((N, C, int(np.prod(x_shape[2:]))), grad_out.dtype)
        np.put_along_axis(gx, arg, grad_out[..., None], axis=2)
        return gx.reshape(x_shape)
