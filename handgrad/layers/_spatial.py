"""What convolution and pooling layers share: input layouts for messages, JSON configs."""

#: the input layout named in error messages, per number of spatial dimensions
LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def as_json(value):
    """Tuples -> lists (nested), so that a layer's config is a JSON value."""
    return [as_json(v) for v in value] if isinstance(value, (tuple, list)) else value


class FixedDims:
    """Mixin for the fixed-dimension wrappers (``Conv2d``, ``MaxPool2d``, ...): the class
    attribute ``fixed_dims`` is passed as the N-d class's first argument,
    ``num_spatial_dims``; every other argument is the N-d class's."""

    fixed_dims = None

    def __init__(self, *args, **kwargs):
        super().__init__(self.fixed_dims, *args, **kwargs)
