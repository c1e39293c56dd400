"""``aekit denoise fit`` and ``aekit denoise RUN_DIR IMAGES``: train a denoiser on clean images, clean noisy ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from ..data.images import GREY_MODES, find_images, image_files, image_mode, read_image, uint8_pixels
from ..data.sources import load_source, read_array
from ..estimators import Denoiser
from ..estimators.denoiser import NOISES
from ..runs import fit_denoise_run
from .commands import APPLY, command_help
from .common import add_device_option, add_fit_options

#: What ``aekit denoise RUN_DIR ...`` is short for.


def _level(text: str) -> float | tuple[float, float]:
    try:
        if ":" in text:
            low, high = (float(v) for v in text.split(":"))
            return low, high
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.5, or a range LOW:HIGH such as 0.02:0.2; "
                                         f"got {text!r}") from None


def _widths(text: str) -> tuple[int, int, int]:
    try:
        widths = tuple(int(v) for v in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) != 3 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected three channel counts such as 16,32,64; got {text!r}")
    return widths  # type: ignore[return-value]


def add_parser(sub: argparse._SubParsersAction) -> None:
    den = sub.add_parser("denoise", help=command_help("denoise"),
                         description="Image denoising with a fully convolutional denoising autoencoder. 'aekit "
                         "denoise fit CLEAN --out RUN_DIR' trains on clean images with fresh noise every step; "
                         "'aekit denoise RUN_DIR NOISY... --out DIR' (short for 'denoise apply') writes cleaned "
                         "images of the same size, mode and format.")
    dsub = den.add_subparsers(dest="denoise_command", metavar="fit | apply", required=True)
    fit = dsub.add_parser("fit", help="train a denoiser on clean images and write RUN_DIR",
                          description="Train on clean images: a folder of image files (any sizes; large ones are "
                          "cropped at random while training), an .npy array (n, h, w) or (n, c, h, w), or a "
                          "built-in dataset such as mnist. Writes RUN_DIR with report.html (PSNR before and after).")
    fit.add_argument("data", metavar="CLEAN_IMAGES")
    fit.add_argument("--out", required=True, metavar="RUN_DIR")
    fit.add_argument("--noise", choices=NOISES, default="gaussian", help="the corruption to remove (default: gaussian)")
    fit.add_argument("--level", type=_level, default=0.5,
                     help="Gaussian sigma on the 0-1 pixel scale (25/255 = 0.098), or the fraction of pixels hit; "
                     "LOW:HIGH trains a blind Gaussian denoiser for any sigma in the range (default: 0.5)")
    fit.add_argument("--widths", type=_widths, default=(16, 32, 64), metavar="C1,C2,C3",
                     help="channels at full, half and quarter resolution (default: 16,32,64)")
    fit.add_argument("--patch-size", type=int, default=48, metavar="PX",
                     help="side of the random training crops of large images (default: 48)")
    fit.add_argument("--epochs", type=int, default=None, metavar="N", help="(default: adapts to the data)")
    add_fit_options(fit, "a denoiser already in RUN_DIR")
    fit.set_defaults(run=run_fit)

    app = dsub.add_parser(APPLY, help="clean noisy images with a trained denoiser",
                          description="Clean images (files, folders of them, or an .npy array) with the denoiser "
                          "in RUN_DIR. Each image is written into DIR under its own name and format (.npy arrays "
                          "as .npy); a grey denoiser cleans colour images channel by channel.")
    app.add_argument("run_dir", metavar="RUN_DIR")
    app.add_argument("inputs", nargs="+", metavar="IMAGES")
    app.add_argument("--out", required=True, metavar="DIR")
    add_device_option(app)
    app.set_defaults(run=run_apply)


def _clean_images(spec: str) -> tuple[list[np.ndarray] | np.ndarray, str]:
    """Training images: each file of a folder at its own size (grey when every file is), or an array source."""
    path = Path(spec)
    if path.is_dir() and find_images(path):
        files = find_images(path)
        grey = all(image_mode(f) in GREY_MODES for f in files)
        return [read_image(f, grayscale=grey) for f in files], path.name
    source = load_source(spec)
    if not source.is_image:
        raise ValueError(f"{spec} holds no images (shape {np.shape(source.X)}); a denoiser trains on images")
    return source.X, source.name


def run_fit(args: argparse.Namespace) -> int:
    images, name = _clean_images(args.data)
    denoiser = Denoiser(args.noise, args.level, widths=args.widths, patch_size=args.patch_size,
                        max_iter=args.epochs, random_state=args.seed, device=args.device,
                        verbose=0 if args.quiet else 1)
    images = list(images) if isinstance(images, np.ndarray) else images
    out, summary = fit_denoise_run(denoiser, images, args.out, overwrite=args.overwrite, name=name)
    print(f"PSNR {summary['PSNR noisy (dB)']:.2f} dB noisy -> {summary['PSNR denoised (dB)']:.2f} dB denoised on "
          f"{summary['images measured']} training images with fresh noise", file=sys.stderr)
    print(out)
    return 0


def _save_like(pixels: np.ndarray, original: Path, mode: str, target: Path) -> None:
    """uint8 ``(c, h, w)`` written in the original's format; an alpha channel the original (of ``mode``) had is kept
    (read back from it only then)."""
    img = Image.fromarray(pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0))
    if mode in ("RGBA", "LA", "PA") and target.suffix.lower() not in (".jpg", ".jpeg"):
        with Image.open(original) as src:
            alpha = src.getchannel("A")
        if alpha.size == img.size:
            img.putalpha(alpha)  # L -> LA, RGB -> RGBA
    img.save(target, **({"quality": 95} if target.suffix.lower() in (".jpg", ".jpeg") else {}))


def run_apply(args: argparse.Namespace) -> int:
    denoiser = Denoiser.load(args.run_dir, device=args.device)
    out = Path(args.out)
    arrays = [Path(p) for p in args.inputs if Path(p).suffix.lower() == ".npy"]
    files = image_files([p for p in args.inputs if Path(p).suffix.lower() != ".npy"])
    targets = [out / f.name for f in files]
    if len(set(targets)) < len(targets):
        raise ValueError("two input images share a file name; give them in separate runs or rename them")
    for path in arrays:  # checked before anything is written
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
    out.mkdir(parents=True, exist_ok=True)
    for path in arrays:
        cleaned = denoiser.transform(read_array(path))
        np.save(out / path.name, cleaned, allow_pickle=False)
    for file, target in zip(files, targets):
        mode = image_mode(file)
        image = uint8_pixels(read_image(file, grayscale=denoiser.channels_ == 1 and mode in GREY_MODES))
        _save_like(denoiser.transform([image])[0], file, mode, target)
    print(f"wrote {len(files)} image(s) and {len(arrays)} array(s) to {out}", file=sys.stderr)
    print(out)
    return 0
