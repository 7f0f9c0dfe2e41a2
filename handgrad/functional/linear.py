r"""The dense (fully connected) layer, the reference: with rows as samples and
:math:`G = \partial L / \partial Y` (docs/linear.md),

.. math::
    Y = X W^\top + b, \qquad
    \frac{\partial L}{\partial X} = G W, \qquad
    \frac{\partial L}{\partial W} = G^\top X, \qquad
    \frac{\partial L}{\partial b} = \textstyle\sum_n G_n .
"""


def linear_forward(x, w, b):
    """``y = x @ w.T + b`` for ``x (M, in)``, ``w (out, in)``, ``b (out,)`` or None."""
    y = x @ w.T                                          # (M, out)
    if b is not None:
        y += b
    return y


def linear_backward(grad_y, x, w, input_grad=True):
    """``(dx, dw, db)`` for ``grad_y (M, out)``: ``G @ w``, ``G.T @ x`` and the column sums
    of ``G``; ``dx`` is None without ``input_grad``."""
    dw = grad_y.T @ x                                    # (out, in)
    db = grad_y.sum(axis=0)                              # (out,)
    return (grad_y @ w if input_grad else None), dw, db
