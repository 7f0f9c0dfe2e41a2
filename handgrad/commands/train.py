"""``handgrad train``: command line -> :class:`~handgrad.config.TrainConfig` -> a trained model.

With no arguments it trains the default CNN (``fast-cnn``) on MNIST with the recipe that
meets the accuracy floor (>= 99.3% test accuracy in a few minutes on a 2-core CPU).
Everything the run produces goes into one folder (``runs/<dataset>-<model>-<time>``):

========================  ==================================================
``model.npz``             the trained model (``handgrad.load``)
``checkpoint.npz``        the last epoch's resumable checkpoint (``--resume``)
``history.csv/.json``     per-epoch loss, metrics, learning rate and time
``config.json``           the exact configuration used
``metrics.json``          the final test metrics
``test_outputs.npz``      test labels and predictions, the misclassified images, one probe image
``*.png``                 curves, confusion matrix, filters, feature maps, misclassified images
``report.html``           one page with all of it (``handgrad report RUN_DIR`` redraws it)
========================  ==================================================

Nothing is lost: every file is written atomically, a folder that already holds a run is
refused (unless ``--overwrite``, which first removes the old run's files, or ``--resume``
of that run), and a diverged run stops with exit status 1 keeping its last good checkpoint.
"""

import json
import os
import time

import numpy as np

from .._files import atomic_open
from ..config import DATASETS, OPTIMIZER_ALIASES, OPTIMIZERS, SCHEDULES, TrainConfig, choices
from ._common import CommandError
from ._run_folder import check_run_folder, create_run_folder


def add_parser(sub):
    d = TrainConfig()
    p = sub.add_parser("train", help="train a model and write a run folder (model, history, plots)",
                       description="Train a model and write the run folder: model.npz, checkpoint.npz, "
                                   "history.csv/json, config.json, metrics.json and PNG plots. With no "
                                   "arguments: the default CNN (fast-cnn) on MNIST, meeting the 99.3% floor.")
    p.add_argument("--dataset", default=d.dataset, help=f"one of: {choices(DATASETS)} (default {d.dataset})")
    p.add_argument("--model", default=None,
                   help="a name from handgrad.models.MODELS (default fast-cnn; shapes-regressor for shapes)")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"(default {d.epochs})")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"(default {d.batch_size})")
    p.add_argument("--optimizer", default=d.optimizer, help=f"one of: {choices(OPTIMIZERS, OPTIMIZER_ALIASES)} (default {d.optimizer})")
    p.add_argument("--lr", type=float, default=None, help="learning rate (peak rate for onecycle; default per optimizer)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--schedule", default=d.schedule, help=f"one of: {choices(SCHEDULES)} (default {d.schedule})")
    p.add_argument("--warmup", type=int, default=d.warmup, metavar="EPOCHS", help="linear warm-up epochs (default 0)")
    p.add_argument("--augment", action="store_true", help="random rotations (up to 10 degrees) and shifts (up to 2 pixels)")
    p.add_argument("--val-split", type=float, default=d.val_split, help="fraction of training data held out")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--workers", type=int, default=d.workers, metavar="N",
                   help="threads that each train on a slice of every batch (data parallelism; "
                        "batch norm then normalizes per slice; default 1)")
    p.add_argument("--distributed", action="store_true",
                   help="one rank of an MPI job (mpirun -n W handgrad train --distributed ...): each rank "
                        "trains on its shard of every batch; rank 0 prints and writes the run folder "
                        "(pip install \"handgrad[mpi]\"; see docs/distributed.md)")
    p.add_argument("--data-dir", default=None, help="folder holding the data set's files, or <name>/ folders of them "
                        "(default HANDGRAD_DATA or the cache)")
    p.add_argument("--out", default=None, metavar="DIR", help="run folder (default runs/<dataset>-<model>-<time>)")
    p.add_argument("--resume", default=None, metavar="CKPT",
                   help="continue an interrupted run from its checkpoint.npz, with the run's saved "
                        "configuration (only --out, --data-dir and --verbose/--quiet apply)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="use only the first N training images (quick runs; shapes: generate N, default 10000)")
    p.add_argument("--test-limit", type=int, default=None, metavar="N",
                   help="test on only the first N test images (quick runs; shapes: generate N)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (its files are removed first)")
    v = p.add_mutually_exclusive_group()
    v.add_argument("--verbose", dest="verbose", action="store_true", default=None, help="progress bars")
    v.add_argument("--quiet", dest="verbose", action="store_false", help="no progress bars")
    return p


def run(args):
    """Errors propagate to handgrad.cli.main, which prints them as one line; under MPI
    (``--distributed``) every rank reports its own error naming the rank and aborts the job."""
    from ._distributed import launched_ranks, run_rank
    if getattr(args, "distributed", False):                     # MPI: errors stop every rank
        return run_rank(args, lambda world: _run(args, world))
    if launched_ranks() > 1:
        raise CommandError(f"started as one of {launched_ranks()} MPI ranks without --distributed "
                           f"(every rank would train alone); add --distributed")
    _run(args)
    return 0


def _run(args, world=None):
    cfg = TrainConfig.from_namespace(args)
    if cfg.resume is not None:
        cfg = resumed_config(cfg)
    train(cfg, world, overwrite=getattr(args, "overwrite", False))


def resumed_config(cfg):
    """The configuration saved in ``cfg.resume``'s checkpoint, with this call's --out (default:
    the checkpoint's folder), --data-dir and --verbose/--quiet: a resumed run continues the
    same run (same epochs, schedule, seed) so that it ends exactly where an uninterrupted one would."""
    from ..io import load_checkpoint

    if not os.path.exists(cfg.resume):
        raise CommandError(f"no such checkpoint: {cfg.resume!r}")
    saved = load_checkpoint(cfg.resume).config
    if not isinstance(saved, dict) or "dataset" not in saved:
        raise CommandError(f"{cfg.resume!r} holds no handgrad train configuration; "
                           f"resume only checkpoints written by handgrad train")
    keep = {"out": cfg.out or os.path.dirname(os.path.abspath(cfg.resume)), "data_dir": cfg.data_dir, "verbose": cfg.verbose, "resume": cfg.resume,
            "distributed": cfg.distributed}
    return TrainConfig(**{**saved, **keep})


def train(cfg, world=None, overwrite=False):
    """Run the whole training described by ``cfg``; returns ``(model, history, test_metrics, run_dir)``.

    ``overwrite`` allows ``cfg.out`` to hold another run (its files are removed first).
    With ``world`` (a :class:`handgrad.distributed.World`) this process is one rank of an
    MPI job: only rank 0 writes the run folder and tests; other ranks return
    ``(model, history, None, None)`` after training.
    """
    from .. import backend, data
    from ..io import load_checkpoint, save
    from ..training import (CSVLogger, EvaluateEachEpoch, JSONLogger, ModelCheckpoint, TrainingError, fit,
                            generators, predict)
    from . import _artifacts, _distributed, _recipe, _run_info

    started = time.perf_counter()
    if cfg.resume is not None and not os.path.exists(cfg.resume):
        raise CommandError(f"no such checkpoint: {cfg.resume!r}")
    _recipe.check_model_kind(cfg)
    _recipe.check_run_length(cfg)
    writer = world is None or world.rank == 0                      # MPI: rank 0 writes the run folder
    old_run = check_run_folder(cfg.out, resume=cfg.resume, overwrite=overwrite) if writer else None  # before any data
    rng = np.random.default_rng(cfg.seed)                         # the one seed of the run

    # -- data, model, loss, optimizer, schedule ------------------------------
    train_xy, val, test = _recipe.prepare_data(cfg, np.float32)
    scaling = None
    if cfg.is_regression:
        scaling = _recipe.TargetScaling(train_xy[1])
        train_xy, val = scaling.apply(train_xy), scaling.apply(val)
    model = _recipe.build_model(cfg, *train_xy, rng)
    loss = _recipe.build_loss(cfg)
    optimizer = _recipe.build_optimizer(cfg, model)
    drop_last = _recipe.drop_last_batch(cfg, model, len(train_xy[0]))
    loader = data.DataLoader(*train_xy, batch_size=cfg.batch_size, shuffle=True, rng=rng,
                             transform=_recipe.augmentation(cfg), drop_last=drop_last)
    schedule, interval = _recipe.build_schedule(cfg, optimizer, len(loader))

    # -- run folder and callbacks ---------------------------------------------
    default_dir = os.path.join("runs", f"{cfg.dataset}-{cfg.model_name}-{time.strftime('%Y%m%d-%H%M%S')}")
    run_dir = create_run_folder(cfg.out, default_dir, old_run) if writer else (cfg.out or default_dir)
    if writer:
        cfg.to_json(os.path.join(run_dir, "config.json"))
    metrics = ("mae",) if cfg.is_regression else ("accuracy",)
    checkpoint = ModelCheckpoint(os.path.join(run_dir, "checkpoint.npz"), config=cfg.to_dict())
    test_curve = EvaluateEachEpoch("test", scaling.apply(test) if scaling else test, loss, metrics)
    callbacks = [] if not writer else [test_curve,               # first: the loggers record its figures
                                       checkpoint,
                                       CSVLogger(os.path.join(run_dir, "history.csv")),
                                       JSONLogger(os.path.join(run_dir, "history.json"))]

    # -- resume: weights, optimizer and schedule state, generators, history ---
    start_epoch, history = 0, None
    if cfg.resume is not None:
        ckpt = load_checkpoint(cfg.resume, model, optimizer, schedule, rngs=generators(loader))
        start_epoch, history = ckpt.epoch, ckpt.history
        if start_epoch >= cfg.epochs:
            raise CommandError(f"checkpoint {cfg.resume!r} already finished all {cfg.epochs} epochs "
                               f"of its run; nothing to resume")
        print(f"resuming from {cfg.resume} after epoch {start_epoch}")

    # -- train ---------------------------------------------------------------
    print(f"training {cfg.model_name} on {cfg.dataset} ({len(train_xy[0])} images, {cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''}, "
          f"{cfg.optimizer} lr {cfg.learning_rate:g}, schedule {cfg.schedule}"
          f"{f', {cfg.workers} workers' if cfg.workers > 1 else ''}"
          f"{f', {world.size} MPI ranks' if world is not None else ''})")
    print(_run_info.compute_line(cfg.workers, backend=backend.get()))
    print(f"model: {_run_info.parameter_count(model):,} parameters ({cfg.model_name})")
    print(f"run folder: {run_dir}", flush=True)
    try:                                      # overflow shows as a TrainingError, not a warning too
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = fit(model, loss, optimizer, loader, epochs=cfg.epochs, val_data=val,
                          batch_size=cfg.batch_size, schedule=schedule, schedule_interval=interval,
                          callbacks=callbacks, metrics=metrics, verbose=cfg.verbose,
                          start_epoch=start_epoch, history=history, workers=cfg.workers,
                          distributed=None if world is None else _distributed.wrap(model, world))
    except TrainingError as e:                                   # exit status 1, the last good epoch kept
        if not writer:
            raise
        raise CommandError(f"{e}. {_kept(checkpoint, start_epoch, cfg.resume)}", status=1) from e
    if not writer:
        return model, history, None, None

    # -- test (one pass over the test set), save, pictures ---------------------
    if scaling is not None:
        scaling.fold_into(model)                                 # outputs in the targets' units
    outputs = predict(model, test[0])
    results = _artifacts.test_metrics(cfg.dataset, loss, outputs, test[1], cfg.test_limit)
    results["wall_time_s"] = time.perf_counter() - started
    save(model, os.path.join(run_dir, "model.npz"))
    with atomic_open(os.path.join(run_dir, "metrics.json")) as f:
        json.dump({k: np.asarray(v).tolist() for k, v in results.items()}, f, indent=2)
    print("test " + ", ".join(f"{k}: {_fmt(v)}" for k, v in results.items()), flush=True)
    notes = _artifacts.write_plots(cfg, model, history, test, outputs, run_dir)
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {run_dir} (open {os.path.join(run_dir, 'report.html')})")
    return model, history, results, run_dir


def _kept(checkpoint, start_epoch, resume):
    """What a diverged run leaves behind, for its error message."""
    if checkpoint.saved:
        return (f"The last checkpoint, after epoch {len(checkpoint.saved) + start_epoch} (all its losses finite), is kept "
                f"in {checkpoint.saved[-1]}; no model.npz was written")
    if resume is not None:
        return f"The checkpoint it resumed from, {resume}, is unchanged"
    return "No epoch finished, so no checkpoint was written"


def _fmt(v):
    v = np.asarray(v)
    return f"{float(v):.4f}" if v.ndim == 0 else "[" + ", ".join(f"{x:.4f}" for x in v.ravel()) + "]"
