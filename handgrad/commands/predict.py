"""``handgrad predict MODEL IMAGE...``: top-k classes (or regression outputs) for image files.

Images may be PNG/JPEG (read with Pillow, the optional extra ``handgrad[image]``) or ``.npy``
arrays. Colour images are converted to grayscale; an image whose size differs from the
model's input is resized (with a note on stderr) or, with ``--no-resize``, refused.
"""

import os
import sys

import numpy as np

from ..parameter import model_dtype
from ._common import CommandError, images_to_float, load_model_file, report

#: the largest image read (pixels): the header is checked before anything is decoded
MAX_PIXELS = 1 << 24


def add_parser(sub):
    p = sub.add_parser("predict", help="classify image files (PNG/JPEG/NPY) with a saved model",
                       description="Print the top-k classes and probabilities of a saved model for each image.")
    p.add_argument("model", metavar="MODEL", help="model file (model.npz) or run folder")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="PNG/JPEG/NPY files")
    p.add_argument("--top-k", type=int, default=3, help="how many classes to print (default 3)")
    p.add_argument("--size", type=int, default=28, help="side of the model's square input (default 28)")
    p.add_argument("--invert", action="store_true",
                   help="invert gray levels (for dark digits on a light background; MNIST is light on dark)")
    p.add_argument("--raw", action="store_true",
                   help="print the raw outputs (for regression models such as shapes-regressor)")
    p.add_argument("--dataset", default=None, metavar="NAME",
                   help="the data set the model was trained on: its class count is checked and its "
                        "class names printed (e.g. fashion-mnist: 'Sneaker')")
    p.add_argument("--no-resize", dest="resize", action="store_false",
                   help="refuse images of the wrong size instead of resizing them")
    return p


def _read_pixels(path):
    """The image at ``path`` as a 2-D array (grayscale), uint8 or float."""
    if not os.path.exists(path):
        raise CommandError(f"no such image file: {path!r}")
    if path.lower().endswith(".npy"):
        try:                                        # mapped: a forged shape allocates nothing
            a = np.load(path, allow_pickle=False, mmap_mode="r")
        except (ValueError, OSError, EOFError) as e:
            raise CommandError(f"cannot read {path!r} as a .npy array: {e}") from e
        if a.size > MAX_PIXELS:
            raise CommandError(f"{path!r} holds an array of shape {a.shape}, more than {MAX_PIXELS} values")
        a = np.squeeze(np.array(a))
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
            raise CommandError(f"{path!r} holds {a.dtype} values; expected a real-valued image")
        if a.ndim == 3 and a.shape[-1] in (3, 4):          # (H, W, RGB[A]) -> luminance
            a = a[..., :3] @ np.array([0.299, 0.587, 0.114])
        if a.ndim != 2:
            raise CommandError(f"{path!r} holds an array of shape {a.shape}; expected (H, W) or (1, H, W)")
        return a
    try:
        from PIL import Image
    except ImportError:
        raise CommandError("reading PNG/JPEG needs Pillow: pip install 'handgrad[image]' "
                           "(or pass .npy arrays)") from None
    try:
        with Image.open(path) as im:
            w, h = im.size                                     # from the header, nothing decoded yet
            if w * h > MAX_PIXELS:
                raise CommandError(f"{path!r} declares {w}x{h} pixels, more than the {MAX_PIXELS} "
                                   f"pixels predict reads; resize it first")
            return np.asarray(im.convert("L"))                # grayscale, uint8
    except Image.DecompressionBombError as e:         # Pillow's own limit, checked at open
        raise CommandError(f"{path!r} declares more pixels than predict reads ({MAX_PIXELS}): {e}") from e
    except (OSError, ValueError) as e:
        raise CommandError(f"cannot read {path!r} as an image: {e}") from e


def load_image(path, size, resize=True, invert=False, dtype=np.float32):
    """One image file as a ``(1, size, size)`` float array in [0, 1].

    Float images must already be scaled to [0, 1] (uint8 ones are scaled here); values
    outside, NaN or inf are refused rather than giving a confident meaningless answer.
    """
    a = _read_pixels(path)
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise CommandError(f"{path!r} holds NaN or inf values")
        if a.size and (a.min() < 0 or a.max() > 1):
            hint = ("; it looks like 0-255 pixel values: save it as uint8 or divide by 255"
                    if a.max() <= 255 and a.min() >= 0 else "")
            raise CommandError(f"{path!r} holds float values in [{a.min():.4g}, {a.max():.4g}]; handgrad "
                               f"expects float images scaled to [0, 1]{hint}")
    if a.shape != (size, size):
        if not resize:
            raise CommandError(f"{path!r} is {a.shape[1]}x{a.shape[0]} pixels; the model expects "
                               f"{size}x{size} (drop --no-resize to resize it)")
        try:
            from PIL import Image
        except ImportError:
            raise CommandError(f"{path!r} is {a.shape[1]}x{a.shape[0]} pixels, not {size}x{size}; "
                               f"resizing needs Pillow (pip install 'handgrad[image]')") from None
        print(f"note: resized {path} from {a.shape[1]}x{a.shape[0]} to {size}x{size}", file=sys.stderr)
        scale = 255.0 if a.dtype == np.uint8 else 1.0
        im = Image.fromarray((a.astype(np.float32) / scale).astype(np.float32), mode="F")
        a = np.asarray(im.resize((size, size), Image.BILINEAR)) * scale
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8) if scale == 255.0 else a
    x = images_to_float(a, dtype)
    if invert:
        x = 1 - x
    return x[None]


def _class_names(dataset, outputs):
    """The class names of ``dataset``, checked against the model's number of outputs."""
    from ..data.registry import get_spec
    try:
        classes = get_spec(dataset).classes
    except ValueError as e:
        raise CommandError(str(e)) from None
    if len(classes) != outputs:
        raise CommandError(f"the model has {outputs} outputs but {dataset} has {len(classes)} classes; "
                           f"was it trained on another data set?")
    return classes


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def run(args):
    from ..training import predict
    try:
        if args.top_k < 1:
            raise CommandError(f"--top-k must be >= 1, got {args.top_k}")
        if not 1 <= args.size <= 4096:
            raise CommandError(f"--size must be in 1..4096 (pixels), got {args.size}")
        model = load_model_file(args.model)
        dtype = model_dtype(model)
        x = np.stack([load_image(p, args.size, args.resize, args.invert, dtype) for p in args.images])
        try:
            out = predict(model, x)
        except ValueError as e:
            raise CommandError(f"the model does not accept these images: {e}") from e
    except CommandError as e:
        return report("predict", e)
    if out.ndim != 2:
        out = out.reshape(len(out), -1)
    classify = not (args.raw or out.shape[1] == 1 or args.dataset in (None, "shapes"))
    names = _class_names(args.dataset, out.shape[1]) if classify else None
    for path, row in zip(args.images, out):
        if args.raw or out.shape[1] == 1:
            print(f"{path}: " + ", ".join(f"{v:.4g}" for v in row))
            continue
        probs = _softmax(row.astype(np.float64))
        top = np.argsort(-probs)[:args.top_k]
        label = (lambda c: f"{c} {names[c]}") if names else str
        print(f"{path}: " + ", ".join(f"{label(c)} ({probs[c]:.3f})" for c in top))
    return 0
