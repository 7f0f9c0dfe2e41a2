r"""A convolution directly followed by a ReLU, as one operation; the reference is the two
references in turn.

.. math::
    z = W \star x + b, \quad y = \max(z, 0), \qquad
    \frac{\partial L}{\partial z} = \frac{\partial L}{\partial y}\,[z > 0]

and then the convolution's backward with :math:`\partial L / \partial z`. Nothing new in
the math: what fusing saves is passes over memory. A compiled backend clamps and writes the
mask in the pass that writes the convolution's output, and applies the mask in the pass
that reads its gradient, so the ReLU's own two passes over the activation (each way) are
gone. :class:`handgrad.layers.Sequential` runs a ``ConvNd`` followed by a ``ReLU`` through
this operation (handgrad/layers/fusion.py); each layer keeps the cache its own forward
would have left.
"""

from .conv import conv_backward, conv_forward
from .relu import relu_backward, relu_forward


def conv_relu_forward(x, w, b, stride, pads, dilation, groups):
    """``(y, mask, cache)``: ``y = max(conv(x), 0)``, the ReLU's mask ``conv(x) > 0`` and
    the convolution's cache (arguments as :func:`handgrad.functional.conv.conv_forward`)."""
    z, cache = conv_forward(x, w, b, stride, pads, dilation, groups)
    y, mask = relu_forward(z)
    return y, mask, cache


def conv_relu_backward(grad_y, mask, cache, input_grad=True):
    """``(dx, dw, db)`` for ``grad_y = dL/dy`` (as :func:`handgrad.functional.conv.conv_backward`)."""
    return conv_backward(relu_backward(grad_y, mask), cache, input_grad)
