"""Element-wise activation functions that layers and losses share, as plain array maths.

The sigmoid layer (:class:`handgrad.layers.Sigmoid`) and the fused binary cross-entropy
(:class:`handgrad.losses.BCEWithLogitsLoss`) both need the logistic function; it lives
here, below both, so that losses never import layers.
"""

import numpy as np


def sigmoid(x):
    r"""Logistic function :math:`s(x) = 1 / (1 + e^{-x})` of a float array, without overflow.

    Both branches exponentiate :math:`-|x| \le 0`: for :math:`x \ge 0`,
    :math:`s(x) = 1 / (1 + e^{-|x|})`, and for :math:`x < 0`,
    :math:`s(x) = e^{-|x|} / (1 + e^{-|x|})` (the same value, multiplied by
    :math:`e^{x} / e^{x}`). The output has the input's shape and dtype.

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    e = np.exp(-np.abs(x))                            # in (0, 1]
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
