"""``aekit sample``: new images from a trained variational autoencoder, as a PNG grid or an array."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from ..estimators import AutoEncoder
from ..report import tile_images
from .commands import command_help
from .common import add_device_option, add_seed_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help=command_help("sample"),
                       description="Decode codes drawn from the prior of the VAE in RUN_DIR (trained with 'aekit "
                       "train --kind vae'). Images go to a PNG grid (8 to a row), any data to .npy.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-n", type=int, default=64, metavar="N", help="how many samples (default: 64)")
    p.add_argument("--out", required=True, metavar="FILE", help="grid.png (images) or samples.npy")
    p.add_argument("--cols", type=int, default=8, metavar="K", help="images per row of the grid (default: 8)")
    add_seed_option(p, "samples")
    add_device_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise ValueError(f"--out must end in .png or .npy, got {out.name!r}")
    if args.n < 1 or args.cols < 1:
        raise ValueError(f"-n and --cols must be positive; got -n {args.n}, --cols {args.cols}")
    ae = AutoEncoder.load(args.run_dir, device=args.device)
    samples = ae.sample(args.n, random_state=args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npy":
        np.save(out, np.asarray(samples), allow_pickle=False)
    else:
        if not ae.input_.is_image:
            raise ValueError("this model was trained on a table, not images; write the samples to a .npy file")
        Image.fromarray(tile_images(np.asarray(samples), cols=args.cols)).save(out)
    print(f"wrote {args.n} samples", file=sys.stderr)
    print(out)
    return 0
