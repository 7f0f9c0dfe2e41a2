"""Training checkpoints: everything needed to resume a run exactly.

A checkpoint file (see :mod:`handgrad.io.archive`) holds

* the model's architecture and weights/buffers (as :func:`handgrad.save` does);
* the optimizer's and the schedule's ``state_dict()``, split by
  :func:`handgrad.optim.split_state` into arrays and JSON;
* the number of finished epochs, the run configuration and the training history (as the
  plain dict ``History.to_dict()`` gives: this module knows no training classes);
* the state of every ``numpy.random.Generator`` of the run: those passed in
  ``rng_states`` (data shuffling, augmentation) and every generator held by a layer
  (an ``rng`` attribute, e.g. Dropout's), keyed by the layer's dotted name.

``bit_generator.state`` is a dict of integers and strings, so it is stored as JSON.
"""

import numpy as np

from ..optim.state import join_state, split_state
from .archive import HandgradFileError, read_archive, write_archive
from .model_file import architecture, build_checked, model_arrays, restore_model

CHECKPOINT_FORMAT = "handgrad-checkpoint"
_HEADER_KEYS = ("architecture", "epoch", "optimizer", "schedule", "rng_states", "history", "config")


def _named_layers(model, prefix=""):
    yield prefix, model
    for name, child in model.named_children():
        yield from _named_layers(child, f"{prefix}.{name}" if prefix else name)


def layer_generators(model):
    """Dict ``"layer:<dotted name>"`` -> Generator for every layer holding one as ``rng``."""
    return {f"layer:{name or '<root>'}": layer.rng for name, layer in _named_layers(model)
            if isinstance(getattr(layer, "rng", None), np.random.Generator)}


def _generator_state(g, name):
    if isinstance(g, np.random.Generator):
        return g.bit_generator.state
    if isinstance(g, dict) and "bit_generator" in g:
        return g
    raise TypeError(f"rng_states[{name!r}] must be a numpy.random.Generator or its "
                    f"bit_generator.state dict, got {type(g).__name__}")


def save_checkpoint(path, model, optimizer=None, schedule=None, epoch=0, rng_states=None,
                    history=None, config=None):
    """Atomically write a checkpoint to ``path``. Returns the path.

    Parameters
    ----------
    path : str or PathLike
    model : Layer
    optimizer, schedule : objects with ``state_dict()``, optional
    epoch : int
        Number of finished epochs (a resumed run starts at this epoch).
    rng_states : dict of name -> numpy.random.Generator (or its ``bit_generator.state``)
    history : History or dict, optional
        Stored as ``history.to_dict()`` (a dict is stored as it is).
    config : dict, optional
        JSON-able run configuration (e.g. the command-line settings).
    """
    arrays = model_arrays(model)
    generators = dict(rng_states or {})
    generators.update(layer_generators(model))
    states = {}
    for name, obj in (("optimizer", optimizer), ("schedule", schedule)):
        states[name] = None
        if obj is not None:
            states[name], more = split_state(obj.state_dict(), prefix=name)
            arrays.update(more)
    header = {
        "format": CHECKPOINT_FORMAT,
        "architecture": architecture(model),
        "epoch": int(epoch),
        "optimizer": states["optimizer"],
        "schedule": states["schedule"],
        "rng_states": {k: _generator_state(g, k) for k, g in generators.items()},
        "history": _history_dict(history),
        "config": config,
    }
    return write_archive(path, header, arrays)


def _history_dict(history):
    if history is None or isinstance(history, dict):
        return history
    if not callable(getattr(history, "to_dict", None)):
        raise TypeError(f"save_checkpoint expected history to be a History (or its to_dict()), "
                        f"got {type(history).__name__}")
    return history.to_dict()


class Checkpoint(dict):
    """What :func:`load_checkpoint` read: keys ``model, epoch, history, config, rng_states,
    optimizer_state, schedule_state``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def load_checkpoint(path, model=None, optimizer=None, schedule=None, rngs=None):
    """Read a checkpoint and restore it into the objects given, in place.

    Parameters
    ----------
    model : Layer, optional
        Receives the weights; when None a model is rebuilt from the stored architecture.
        Generators held by its layers are set to their saved states.
    optimizer, schedule : optional
        Receive their saved ``state_dict`` through ``load_state_dict``.
    rngs : dict of name -> Generator, optional
        Each is set to the saved state of the same name (a missing name is an error).

    Returns
    -------
    Checkpoint
        ``epoch`` (finished epochs), ``history`` (the dict ``History.to_dict()`` gave, or None:
        ``fit(history=...)`` takes it as it is, ``History.from_dict`` makes a History of it),
        ``config``, ``model``...
    """
    header, arrays = read_archive(path, CHECKPOINT_FORMAT)
    missing = [k for k in _HEADER_KEYS if k not in header]
    malformed = missing or [k for k, ok in (
        ("rng_states", isinstance(header["rng_states"], dict)),
        ("epoch", isinstance(header["epoch"], int) and not isinstance(header["epoch"], bool)
         and header["epoch"] >= 0),
        ("history", header["history"] is None or (isinstance(header["history"], dict) and all(
            isinstance(v, list) and all(isinstance(r, dict) for r in v) for v in header["history"].values()))),
        ("config", header["config"] is None or isinstance(header["config"], dict))) if not ok]
    if malformed:
        raise HandgradFileError(f"{path!r} is not a complete handgrad checkpoint (header entries "
                                f"missing or malformed: {malformed})")
    try:
        if model is None:
            model = build_checked(header.get("architecture"), arrays)
        restore_model(model, arrays)
    except HandgradFileError as e:
        raise HandgradFileError(f"{path!r}: {e}") from None
    saved_rngs = header["rng_states"]
    targets = dict(rngs or {})
    targets.update(layer_generators(model))
    try:                                     # a forged or foreign state is a file error, never a crash
        for name, g in targets.items():
            if name not in saved_rngs:
                raise HandgradFileError(f"checkpoint {path!r} has no state for generator {name!r}; "
                                        f"it holds {sorted(saved_rngs)}")
            g.bit_generator.state = saved_rngs[name]
        opt_state = None if header["optimizer"] is None else join_state(header["optimizer"], arrays)
        sched_state = None if header["schedule"] is None else join_state(header["schedule"], arrays)
        for obj, state, what in ((optimizer, opt_state, "optimizer"), (schedule, sched_state, "schedule")):
            if obj is not None:
                if state is None:
                    raise HandgradFileError(f"checkpoint {path!r} holds no {what} state")
                obj.load_state_dict(state)
    except HandgradFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise HandgradFileError(f"checkpoint {path!r}: its stored state does not fit "
                                f"({type(e).__name__}: {e})") from e
    return Checkpoint(model=model, epoch=header["epoch"], history=header["history"], config=header["config"],
                      rng_states=saved_rngs, optimizer_state=opt_state, schedule_state=sched_state)
