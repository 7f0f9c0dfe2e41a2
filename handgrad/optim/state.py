"""Split an optimizer or schedule state dict into JSON metadata and named arrays.

Checkpoints store arrays in an ``.npz`` file and everything else in JSON, never with
pickle. :func:`split_state` walks a nested dict and replaces every ``ndarray`` by a
reference ``{"__array__": key}`` while collecting the array under ``key`` (the dict
path joined by ``"/"``); :func:`join_state` reverses it.

Examples
--------
>>> import numpy as np
>>> meta, arrays = split_state({"step": 3, "state": {"0.weight": {"exp_avg": np.ones(2)}}},
...                            prefix="optimizer")
>>> meta
{'step': 3, 'state': {'0.weight': {'exp_avg': {'__array__': 'optimizer/state/0.weight/exp_avg'}}}}
>>> sorted(arrays)
['optimizer/state/0.weight/exp_avg']
>>> join_state(meta, arrays)["state"]["0.weight"]["exp_avg"]
array([1., 1.])
"""

import numpy as np

_REF = "__array__"


def split_state(state, prefix=""):
    """Return ``(meta, arrays)``: a JSON-friendly copy of ``state`` and ``{key: ndarray}``.

    Parameters
    ----------
    state : dict
        Nested dicts of str keys whose leaves are ndarrays, numbers, strings, bools,
        None or lists of those (as returned by ``Optimizer.state_dict()``).
    prefix : str
        Prepended to every array key (e.g. ``"optimizer"``).
    """
    arrays = {}

    def walk(node, path):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if not isinstance(key, str) or "/" in key:
                    raise ValueError(f"split_state expected str keys without '/', got {key!r} at {path!r}")
                out[key] = walk(value, f"{path}/{key}" if path else key)
            return out
        if isinstance(node, np.ndarray):
            arrays[path] = node
            return {_REF: path}
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{path}/{i}") for i, v in enumerate(node)]
        if isinstance(node, np.generic):
            return node.item()
        return node

    return walk(state, prefix), arrays


def join_state(meta, arrays):
    """Inverse of :func:`split_state`: put the arrays back in place of their references."""

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {_REF}:
                key = node[_REF]
                if key not in arrays:
                    raise ValueError(f"join_state: array {key!r} is missing from the archive")
                return np.asarray(arrays[key])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(meta)
