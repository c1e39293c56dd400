"""``aekit train``: train an autoencoder on DATA and write a run directory."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

from ..data.sources import Source, load_source
from ..data.table_files import TableFiles
from ..estimators import KINDS, AutoEncoder
from ..models import CORRUPTIONS, LIKELIHOODS
from ..runs import train_run
from ..runs.train import REPORT_ROWS
from ..training.distributed import shutdown, world
from .commands import command_help
from .common import add_fit_options, data_help, image_size


def add_parser(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help=command_help("train"),
                           description="Train an autoencoder on DATA and write a run directory with the model "
                           "(config.json, model.safetensors, preprocess.json), history.csv, a checkpoint and "
                           "report.html. Defaults adapt to the data's size.")
    train.add_argument("data", nargs="?", default="digits", metavar="DATA", help=f"{data_help()} (default: digits)")
    train.add_argument("--kind", default="auto", choices=("auto", *KINDS),
                       help="family member; auto = conv for images, deep for tables (default: auto)")
    train.add_argument("--latent-dim", type=int, default=None, metavar="N", help="code size (default: adapts)")
    train.add_argument("--out", default=None, metavar="RUN_DIR",
                       help="run directory (default: runs/<data>-<kind>-<time>)")
    train.add_argument("--epochs", type=int, default=None, metavar="N", help="maximum epochs (default: adapts)")
    train.add_argument("--batch-size", type=int, default=None, metavar="N", help="(default: adapts)")
    train.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                       help="(default: 1e-2 for conv, 1e-3 otherwise)")
    train.add_argument("--loss", default="auto", choices=("auto", *LIKELIHOODS.names()), help="(default: auto)")
    train.add_argument("--corruption", default=None, choices=CORRUPTIONS.names(),
                       help="denoising corruption (default: none, or gaussian for --kind denoising)")
    train.add_argument("--label-col", default=None, metavar="COL",
                       help="table column holding labels: left out of training, used to colour the code map")
    train.add_argument("--image-size", type=image_size, default=None, metavar="HxW",
                       help="resize images from a folder to this size (default: the most common size)")
    train.add_argument("--streaming", action="store_true",
                       help="read DATA -- a Parquet/CSV file, a folder or a glob of them -- in chunks instead of "
                       "loading it, for tables larger than memory; under torchrun each process reads its own share")
    train.add_argument("--resume", action="store_true", help="continue the crashed run in --out from its checkpoint")
    add_fit_options(train, "a finished run already in --out")
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    w = world()  # under torchrun: join the other processes before reading anything
    if args.resume and not args.out:
        raise ValueError("--resume needs --out RUN_DIR naming the run to continue")
    files = None
    if args.streaming:
        files = TableFiles(args.data, label_column=args.label_col)
        preview, labels = files.preview(REPORT_ROWS)
        source = Source(name=files.name, X=preview, y=labels, ids=np.arange(len(preview)))
        shape = f"({files.n_rows}, {len(files.columns)}), streamed"
    else:
        source = load_source(args.data, label_column=args.label_col, image_size=args.image_size)
        shape = str(tuple(np.shape(source.X)))
    kind = args.kind if args.kind != "auto" else ("conv" if source.is_image else "deep")
    out = Path(args.out) if args.out else Path("runs") / f"{Path(source.name).stem}-{kind}-{datetime.now():%Y%m%d-%H%M%S}"
    if w.active and not args.out:
        raise ValueError("under torchrun, name the run directory with --out (every process must agree on it)")
    ae = AutoEncoder(kind=kind, latent_dim=args.latent_dim, max_iter=args.epochs, batch_size=args.batch_size,
                     learning_rate=args.learning_rate, loss=args.loss, corruption=args.corruption,
                     random_state=args.seed, device=args.device, verbose=0 if args.quiet else 1)
    processes = f" in {w.size} processes" if w.active else ""
    if w.is_main:
        print(f"training a {kind} autoencoder on {source.name} {shape}{processes} -> {out}", file=sys.stderr)
    train_run(ae, source, out, resume=args.resume, overwrite=args.overwrite, label_column=args.label_col,
              fit_data=files)
    budget = ae.budget_
    if w.is_main:
        print(f"{ae.stop_reason_}; best loss {ae.best_loss_:.5g} after {ae.n_iter_} of at most "
              f"{budget['max_epochs']} epochs (batch {budget['batch_size']}, {budget['threads']} thread(s), "
              f"{budget.get('precision', 'float32')})", file=sys.stderr)
        print(out)
    shutdown()
    return 0
