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
    p.add_argument("--no-resize", dest="resize", action="store_false",
                   help="refuse images of the wrong size instead of resizing them")
    return p


def _read_pixels(path):
    """The image at ``path`` as a 2-D array (grayscale), uint8 or float."""
    if not os.path.exists(path):
        raise CommandError(f"no such image file: {path!r}")
    if path.lower().endswith(".npy"):
        try:
            a = np.load(path, allow_pickle=False)
        except ValueError as e:
            raise CommandError(f"cannot read {path!r} as a .npy array: {e}") from e
        a = np.squeeze(a)
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
            return np.asarray(im.convert("L"))                # grayscale, uint8
    except OSError as e:
        raise CommandError(f"cannot read {path!r} as an image: {e}") from e


def load_image(path, size, resize=True, invert=False, dtype=np.float32):
    """One image file as a ``(1, size, size)`` float array in [0, 1]."""
    a = _read_pixels(path)
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


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def run(args):
    from ..training import predict
    try:
        if args.top_k < 1:
            raise CommandError(f"--top-k must be >= 1, got {args.top_k}")
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
    for path, row in zip(args.images, out):
        if args.raw or out.shape[1] == 1:
            print(f"{path}: " + ", ".join(f"{v:.4g}" for v in row))
            continue
        probs = _softmax(row.astype(np.float64))
        top = np.argsort(-probs)[:args.top_k]
        print(f"{path}: " + ", ".join(f"{c} ({probs[c]:.3f})" for c in top))
    return 0
