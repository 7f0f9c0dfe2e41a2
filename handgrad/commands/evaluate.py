"""``handgrad evaluate MODEL``: test-set loss and metrics of a saved model."""

import numpy as np

from ..config import DATASETS
from ..parameter import model_dtype
from ._common import CommandError, load_dataset, load_model_file, report


def add_parser(sub):
    p = sub.add_parser("evaluate", help="evaluate a saved model on a data set's test split",
                       description="Load a model saved by handgrad (a .npz file or a run folder) "
                                   "and print its loss and metrics on a test split.")
    p.add_argument("model", metavar="MODEL", help="model file (model.npz) or run folder")
    p.add_argument("--dataset", default="mnist", help=f"one of: {', '.join(DATASETS)} (default mnist)")
    p.add_argument("--split", default="test", choices=("train", "test"), help="which split (default test)")
    p.add_argument("--data-dir", default=None, help="folder holding the data sets (default: HANDGRAD_DATA or cache)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N images")
    return p


def evaluate_model(model, dataset, split="test", data_dir=None, batch_size=256, limit=None):
    """Dict of test figures of ``model`` on ``dataset``'s ``split`` (as ``handgrad train`` prints)."""
    from ..losses import CrossEntropyLoss, MSELoss
    from ..training import predict
    from ._artifacts import test_metrics

    if dataset not in DATASETS:
        raise CommandError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    for name, value in (("--batch-size", batch_size), ("--limit", limit)):
        if value is not None and value < 1:
            raise CommandError(f"{name} must be >= 1, got {value}")
    if dataset == "shapes" and split != "test":
        raise CommandError("the shapes data set is evaluated on its test split only")
    x, y = load_dataset(dataset, split, data_dir, model_dtype(model), limit=limit)
    try:
        outputs = predict(model, x, batch_size=batch_size)
    except ValueError as e:
        raise CommandError(f"the model does not accept {dataset} images {x.shape[1:]}: {e}") from e
    if dataset == "shapes":
        if outputs.ndim != 2 or outputs.shape[1] != y.shape[1]:
            raise CommandError(f"the model has outputs of shape {outputs.shape[1:]}; the shapes data set "
                               f"is evaluated with {y.shape[1]} regression outputs (a shapes-regressor)")
        return test_metrics(dataset, MSELoss(), outputs, y.astype(outputs.dtype), limit)
    from ..data import num_classes
    classes = num_classes(dataset)
    if outputs.ndim != 2 or outputs.shape[1] != classes:
        raise CommandError(f"the model has outputs of shape {outputs.shape[1:]} but {dataset} has "
                           f"{classes} classes; was it trained on another data set?")
    return test_metrics(dataset, CrossEntropyLoss(), outputs, y)


def run(args):
    try:
        model = load_model_file(args.model)
        results = evaluate_model(model, args.dataset, args.split, args.data_dir, args.batch_size, args.limit)
    except CommandError as e:
        return report("evaluate", e)
    for name, value in results.items():
        print(f"{args.split}_{name}: {np.round(value, 6)}")
    return 0
