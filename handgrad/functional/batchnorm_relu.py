r"""Batch normalization (training mode) directly followed by a ReLU, as one operation; the
reference is the two references in turn (as :mod:`handgrad.functional.conv_relu` is for a
convolution): :math:`y = \max(\gamma \hat x + \beta, 0)`, and backward the batch norm's
backward of :math:`\partial L/\partial y\,[y > 0]`. A compiled backend clamps and writes the
mask in the pass that writes the normalized output, and masks the gradient in the pass that
starts the backward, so the ReLU's own passes are gone.
"""

from .batchnorm import batch_norm_backward, batch_norm_forward
from .relu import relu_backward, relu_forward


def batch_norm_relu_forward(x, weight, bias, eps):
    """``(y, mask, mean, var, cache)``: ``y`` = the ReLU of the batch norm, its mask, and
    what :func:`handgrad.functional.batchnorm.batch_norm_forward` returns besides its output."""
    z, mean, var, cache = batch_norm_forward(x, weight, bias, eps)
    y, mask = relu_forward(z)
    return y, mask, mean, var, cache


def batch_norm_relu_backward(grad_y, mask, cache):
    """``(dx, dweight, dbias)`` for ``grad_y = dL/dy``."""
    return batch_norm_backward(relu_backward(grad_y, mask), cache)
