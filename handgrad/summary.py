"""Model summary: per layer the output shape, parameter count and multiply-accumulates.

The figures come from one forward pass of the whole model on a zero batch
``(1, *input_shape)`` in eval mode. The model's tree is walked through
``named_children()`` (any container, not only ``Sequential``) to find its leaf layers;
while the model runs, each leaf's ``forward`` is observed and records one row, in the
order the leaves actually run, with ``macs(input_shape, output_shape)`` for one sample
(shapes without the batch axis). Nested layers get dotted names (``"2.0"``).

This module imports only :mod:`handgrad.parameter`: it relies on the layer contract
(``forward``, ``named_children``, ``num_parameters``, ``macs``, ``extra_repr``,
``parameters``, ``train``), so :meth:`handgrad.layers.Layer.summary` may call it.
"""

from dataclasses import dataclass

import numpy as np

from .parameter import model_dtype


@dataclass
class SummaryRow:
    name: str          # dotted position in the model, e.g. "3" or "1.0"
    layer: str         # type name and arguments, e.g. "Linear(in_features=4, ...)"
    output_shape: tuple
    params: int
    macs: int


class Summary:
    """Rows per layer plus totals; ``str(summary)`` is the printed table.

    ``total_params`` counts the model's parameters (each once); ``total_macs`` is the sum
    over the rows.
    """

    def __init__(self, input_shape, rows, total_params=None):
        self.input_shape, self.rows = tuple(input_shape), rows
        self.total_params = sum(r.params for r in rows) if total_params is None else int(total_params)
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


def leaves(model, prefix=""):
    """``(dotted name, layer)`` for each layer without children in ``model``'s tree, depth first."""
    children = list(model.named_children())
    if not children:
        yield prefix or type(model).__name__, model
    for name, child in children:
        yield from leaves(child, f"{prefix}.{name}" if prefix else name)


def _recorder(name, layer, forward, rows):
    """A stand-in for ``layer.forward`` that runs it and appends the row it produced."""
    def record(x):
        y = forward(x)
        in_shape, out_shape = tuple(np.shape(x)[1:]), tuple(np.shape(y)[1:])
        rows.append(SummaryRow(name, f"{type(layer).__name__}({layer.extra_repr()})", out_shape,
                               layer.num_parameters(), int(layer.macs(in_shape, out_shape))))
        return y
    return record


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
        dtype = model_dtype(model)
    named = {}
    for name, layer in leaves(model):
        named.setdefault(id(layer), (name, layer))
    rows, observed = [], []
    was_training = model.training
    model.eval()
    try:
        for name, layer in named.values():
            observed.append((layer, vars(layer).get("forward")))
            layer.forward = _recorder(name, layer, layer.forward, rows)   # shadows the method
        model.forward(np.zeros((1, *input_shape), dtype=dtype))
    finally:
        for layer, own in observed:
            if own is None:
                del layer.forward
            else:
                layer.forward = own
        model.train(was_training)
    return Summary(input_shape, rows, total_params=model.num_parameters())


def print_summary(model, input_shape, file=None):
    """Print :func:`summary`'s table and return the :class:`Summary`."""
    result = summary(model, input_shape)
    print(result, file=file)
    return result
