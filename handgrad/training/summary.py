"""Model summary: per layer the output shape, parameter count and multiply-accumulates.

The figures come from one forward pass of a zero batch ``(1, *input_shape)`` in eval
mode: each leaf layer reports ``macs(input_shape, output_shape)`` for one sample
(shapes without the batch axis); the sub-layers of a ``Sequential`` are listed one by
one (nested ones with dotted names).
"""

from dataclasses import dataclass

import numpy as np

from ..layers import Sequential


@dataclass
class SummaryRow:
    name: str          # dotted position in the model, e.g. "3" or "1.0"
    layer: str         # type name and arguments, e.g. "Linear(in_features=4, ...)"
    output_shape: tuple
    params: int
    macs: int


class Summary:
    """Rows per layer plus totals; ``str(summary)`` is the printed table."""

    def __init__(self, input_shape, rows):
        self.input_shape, self.rows = tuple(input_shape), rows
        self.total_params = sum(r.params for r in rows)
        self.total_macs = sum(r.macs for r in rows)

    @property
    def output_shape(self):
        return self.rows[-1].output_shape if self.rows else self.input_shape

    def __str__(self):
        head = ("layer", "type", "output shape", "params", "MACs")
        body = [(r.name, r.layer, str(r.output_shape), f"{r.params:,}", f"{r.macs:,}") for r in self.rows]
        foot = ("total", "", f"input {self.input_shape}", f"{self.total_params:,}", f"{self.total_macs:,}")
        widths = [max(len(row[i]) for row in [head, *body, foot]) for i in range(5)]

        def line(row):
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

        rule = "-" * len(line(head))
        return "\n".join([line(head), rule, *map(line, body), rule, line(foot)])

    def __repr__(self):
        return f"Summary(params={self.total_params}, macs={self.total_macs})"


def _leaves(layer, prefix):
    """(dotted name, layer) for each layer of nested Sequentials, in order of execution."""
    if isinstance(layer, Sequential):
        for name, child in layer.named_children():
            yield from _leaves(child, f"{prefix}.{name}" if prefix else name)
    else:
        yield prefix or type(layer).__name__, layer


def summary(model, input_shape, dtype=None):
    """Summarize ``model`` for one sample of shape ``input_shape`` (without the batch axis).

    Examples
    --------
    >>> import handgrad
    >>> net = handgrad.Sequential(handgrad.Linear(4, 8, rng=0), handgrad.ReLU(), handgrad.Linear(8, 2, rng=0))
    >>> s = summary(net, (4,))
    >>> s.total_params, s.total_macs
    (58, 48)
    """
    if dtype is None:
        params = list(model.parameters().values())
        dtype = params[0].dtype if params else np.float32
    was_training = model.training
    model.eval()
    rows = []
    try:
        x = np.zeros((1, *input_shape), dtype=dtype)
        for name, layer in _leaves(model, ""):
            y = layer.forward(x)
            rows.append(SummaryRow(name, f"{type(layer).__name__}({layer.extra_repr()})", tuple(y.shape[1:]),
                                   layer.num_parameters(), int(layer.macs(tuple(x.shape[1:]), tuple(y.shape[1:])))))
            x = y
    finally:
        model.train(was_training)
    return Summary(input_shape, rows)


def print_summary(model, input_shape, file=None):
    """Print :func:`summary`'s table and return the :class:`Summary`."""
    result = summary(model, input_shape)
    print(result, file=file)
    return result
