"""``aekit codec train``, ``aekit compress`` and ``aekit decompress``: a learned image codec and its files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from ..data.images import GREY_MODES, IMAGE_SUFFIXES, find_images, image_mode, read_image, uint8_pixels
from ..data.sources import load_source, read_array
from ..estimators import Codec
from ..io.bitstream import ONE_IMAGE
from ..runs import fit_codec_run
from .commands import command_help
from .common import add_device_option, add_fit_options

SUFFIX = ".aek"


def add_parser(sub: argparse._SubParsersAction) -> None:
    codec = sub.add_parser("codec", help=command_help("codec"),
                           description="A learned lossy codec: a convolutional autoencoder whose integer code is "
                           "entropy-coded. It compresses images like the ones it was trained on far better than "
                           "general codecs. Then: aekit compress / aekit decompress.")
    csub = codec.add_subparsers(dest="codec_command", metavar="SUBCOMMAND", required=True)
    train = csub.add_parser("train", help="train a codec on DATA and write CODEC_DIR",
                            description="Train a codec on DATA (a folder of images, an .npy array or a built-in "
                            "dataset such as mnist) and write CODEC_DIR with report.html (bytes and PSNR per image).")
    train.add_argument("data", metavar="DATA")
    train.add_argument("--out", required=True, metavar="CODEC_DIR")
    train.add_argument("--lmbda", type=float, default=Codec().lmbda,
                       help=f"quality against size: larger is sharper and bigger (default: {Codec().lmbda:g}); with "
                       "--target-psnr, where training starts")
    train.add_argument("--target-psnr", type=float, default=None, metavar="DB",
                       help="reach this PSNR on the training images instead of a fixed --lmbda: lmbda is adjusted "
                       "after every epoch (on MNIST about 28 dB is lmbda 100, 34 dB lmbda 1000)")
    train.add_argument("--latent-dim", type=int, default=Codec().latent_dim, metavar="K",
                       help=f"values of the global code (default: {Codec().latent_dim})")
    train.add_argument("--epochs", type=int, default=None, metavar="N", help="(default: adapts to the data)")
    add_fit_options(train, "a codec already in CODEC_DIR")
    codec.set_defaults(run=run_train)

    comp = sub.add_parser("compress", help=command_help("compress"),
                          description="Compress images (files, folders of them, or an .npy array) with the codec in "
                          "CODEC_DIR: into one file (a shared header), or with --each one file per image in a folder.")
    comp.add_argument("codec_dir", metavar="CODEC_DIR")
    comp.add_argument("inputs", nargs="+", metavar="IMAGES")
    comp.add_argument("--out", required=True, metavar="FILE_OR_DIR",
                      help=f"the compressed file, or with --each the folder for one {SUFFIX} file per image")
    comp.add_argument("--each", action="store_true", help="one self-contained file per image")
    add_device_option(comp)
    comp.set_defaults(run=run_compress)

    dec = sub.add_parser("decompress", help=command_help("decompress"),
                         description="Decompress files written by 'aekit compress' with the same codec; images are "
                         "written as PNG into DIR (FILE.png for a one-image file, FILE-00000.png, ... for many).")
    dec.add_argument("codec_dir", metavar="CODEC_DIR")
    dec.add_argument("files", nargs="+", metavar="FILE")
    dec.add_argument("--out", required=True, metavar="DIR")
    add_device_option(dec)
    dec.set_defaults(run=run_decompress)


def run_train(args: argparse.Namespace) -> int:
    source = load_source(args.data)
    if not source.is_image:
        raise ValueError(f"{args.data} holds no images (shape {np.shape(source.X)}); a codec trains on images")
    codec = Codec(lmbda=args.lmbda, target_psnr=args.target_psnr, latent_dim=args.latent_dim, max_iter=args.epochs,
                  random_state=args.seed, device=args.device, verbose=0 if args.quiet else 1)
    out, summary = fit_codec_run(codec, source.X, args.out, overwrite=args.overwrite, name=source.name)
    print(f"{summary['bytes per image (one file each)']:.1f} bytes per image at "
          f"{summary['PSNR (dB)']:.2f} dB PSNR on {summary['images measured']} training images", file=sys.stderr)
    print(out)
    return 0


def _read_inputs(inputs: list[str], codec: Codec) -> tuple[np.ndarray, list[str]]:
    """Images and a name for each: image files, folders of them, or .npy arrays."""
    grey = codec.image_shape_[0] == 1
    images, names, colour = [], [], []
    for text in inputs:
        path = Path(text)
        if path.suffix.lower() == ".npy":
            arr = read_array(path)
            arr = arr if arr.ndim != 2 else arr[None]
            images += list(arr)
            names += [f"{path.stem}-{i:05d}" for i in range(len(arr))]
            continue
        files = find_images(path) if path.is_dir() else [path]
        for f in files:
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                raise ValueError(f"cannot compress {f}: give image files ({', '.join(IMAGE_SUFFIXES)}), folders of "
                                 "them or .npy arrays")
            if grey and f.is_file() and image_mode(f) not in GREY_MODES:
                colour.append(f.name)
            images.append(uint8_pixels(read_image(f, grayscale=grey)))
            names.append(f.stem)
    if not images:
        raise ValueError("no images found in the inputs")
    if colour:  # said, not refused: a scan saved as RGB is still a grey image
        shown = ", ".join(colour[:3]) + (", ..." if len(colour) > 3 else "")
        print(f"aekit: note: {len(colour)} colour image(s) ({shown}) converted to grey: this codec codes one channel",
              file=sys.stderr)
    shapes = {np.shape(a) for a in images}
    if len(shapes) > 1:
        raise ValueError(f"the images differ in size {sorted(shapes)}; this codec codes {codec.image_shape_} images")
    return np.stack(images), names


def run_compress(args: argparse.Namespace) -> int:
    codec = Codec.load(args.codec_dir, device=args.device)
    images, names = _read_inputs(args.inputs, codec)
    out = Path(args.out)
    if args.each:
        out.mkdir(parents=True, exist_ok=True)
        files = codec.compress_each(images)
        for name, data in zip(names, files):
            (out / f"{name}{SUFFIX}").write_bytes(data)
        total = sum(len(d) for d in files)
    else:
        data = codec.compress(images)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        total = len(data)
    print(f"compressed {len(images)} image(s) to {total} bytes ({total / len(images):.1f} per image)", file=sys.stderr)
    print(out)
    return 0


def run_decompress(args: argparse.Namespace) -> int:
    codec = Codec.load(args.codec_dir, device=args.device)
    out = Path(args.out)
    written = 0
    decoded = []
    for text in args.files:
        path = Path(text)
        if not path.is_file():
            raise FileNotFoundError(f"no compressed file at {path}")
        decoded.append((path, codec.decompress(path.read_bytes(), name=str(path))))
    out.mkdir(parents=True, exist_ok=True)  # only once every file decoded: a bad file leaves nothing half-written
    for path, images in decoded:
        one_image = path.read_bytes()[:1] == bytes([ONE_IMAGE])
        names = [path.stem] if one_image else [f"{path.stem}-{i:05d}" for i in range(len(images))]
        for name, image in zip(names, images):
            pixels = image if image.ndim == 2 else image.transpose(1, 2, 0)
            Image.fromarray(pixels).save(out / f"{name}.png")
            written += 1
    print(f"wrote {written} PNG image(s)", file=sys.stderr)
    print(out)
    return 0
