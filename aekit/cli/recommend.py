"""``aekit recommend fit`` and ``aekit recommend RUN_DIR`` (short for ``recommend apply``): a RecVAE / Mult-VAE /
Mult-DAE recommender from a user-item log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data.files import read_table
from ..estimators import Recommender
from ..runs import fit_recommender_run, write_recommendations
from .commands import APPLY, command_help
from .common import add_device_option, add_fit_options

#: The subcommand that ``aekit recommend RUN_DIR ...`` is short for.


def add_parser(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("recommend", help=command_help("recommend"),
                         description="Recommend items from a log of (user, item[, rating]) rows. 'aekit recommend "
                         "fit DATA --out RUN_DIR' fits a recommender and writes RUN_DIR with the model and report.html "
                         "(training curves, ranking metrics of held-out users); 'aekit recommend RUN_DIR --users "
                         "USERS --out recs.csv' (short for 'recommend apply') writes the top k unseen items per user.")
    rsub = rec.add_subparsers(dest="recommend_command", metavar="fit | apply", required=True)
    fit = rsub.add_parser("fit", help="fit a recommender on DATA and write RUN_DIR",
                          description="Fit a recommender (RecVAE, Mult-VAE or Mult-DAE) on DATA and write RUN_DIR. A "
                          "tenth of the users are held out to choose the best epoch by NDCG@100.")
    fit.add_argument("data", metavar="DATA", help="interactions: a CSV/Parquet file with a user and an item column")
    fit.add_argument("--user-col", default="user", help="(default: user)")
    fit.add_argument("--item-col", default="item", help="(default: item)")
    fit.add_argument("--rating-col", default=None, help="ratings; with --min-rating, only rows rated at least that "
                     "count")
    fit.add_argument("--min-rating", type=float, default=None, metavar="R")
    fit.add_argument("--kind", default="recvae", choices=("recvae", "mult-vae", "mult-dae"),
                     help="recvae: a deep encoder, a linear decoder (default); mult-vae / mult-dae: the Mult- "
                     "papers' one-layer models")
    fit.add_argument("--epochs", type=int, default=None, metavar="N", help="maximum epochs (default: adapts)")
    fit.add_argument("--members", type=int, default=3, metavar="N",
                     help="models from different seeds, their probabilities averaged; N times the training time "
                     "(default: 3)")
    fit.add_argument("--linear-path", default="auto", choices=("auto", "on", "off"),
                     help="an item-item linear path around the code (items^2 weights); auto: on for mult-vae and "
                     "mult-dae up to 10,000 items, off for recvae (default: auto)")
    fit.add_argument("--out", required=True, metavar="RUN_DIR")
    add_fit_options(fit, "a finished run already in RUN_DIR")
    fit.set_defaults(run=run_fit)

    app = rsub.add_parser(APPLY, help="recommend the top k unseen items for users",
                          description="The top k unseen items per user with the recommender in RUN_DIR: USERS is a "
                          "CSV/Parquet with the user column (known users) or with user and item columns (histories "
                          "of new users, folded in without retraining).")
    app.add_argument("run_dir", metavar="RUN_DIR")
    app.add_argument("--users", required=True, metavar="USERS",
                     help="CSV/Parquet: the user column (known users), or user and item columns (new users' "
                     "histories)")
    app.add_argument("--k", type=int, default=10, help="items per user (default: 10)")
    app.add_argument("--include-seen", action="store_true", help="also recommend items already in a user's history")
    app.add_argument("--out", required=True, metavar="FILE", help="user, rank, item, score: .csv or .parquet")
    add_device_option(app)
    app.set_defaults(run=run_apply)


def run_fit(opts: argparse.Namespace) -> int:
    rec = Recommender(kind=opts.kind, user_col=opts.user_col, item_col=opts.item_col, rating_col=opts.rating_col,
                      min_rating=opts.min_rating, max_iter=opts.epochs, random_state=opts.seed,
                      n_members=opts.members, linear_path={"on": True, "off": False}.get(opts.linear_path, "auto"),
                      device=opts.device, verbose=0 if opts.quiet else 1)
    out = fit_recommender_run(rec, opts.data, opts.out, overwrite=opts.overwrite, name=Path(opts.data).name)
    metrics = rec.validation_metrics_
    held = f"; held-out users NDCG@100 {metrics['NDCG@100']:.4f}" if metrics else ""
    kept = ", ".join(map(str, rec.best_epoch_))
    print(f"{rec.stop_reason_}; kept epoch {kept} of {rec.n_iter_} (one per member){held}", file=sys.stderr)
    print(out)
    return 0


def run_apply(opts: argparse.Namespace) -> int:
    if opts.k < 1:
        raise ValueError(f"--k must be at least 1, got {opts.k}")
    rec = Recommender.load(opts.run_dir, device=opts.device)
    rows = write_recommendations(rec, read_table(opts.users), opts.out, k=opts.k, exclude_seen=not opts.include_seen)
    print(f"wrote {rows} recommendations", file=sys.stderr)
    print(opts.out)
    return 0
