"""``aekit recommend fit`` and ``aekit recommend RUN_DIR``: a RecVAE / Mult-VAE / Mult-DAE recommender from a
user-item log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data.files import read_table
from ..estimators import Recommender
from ..runs import fit_recommender_run, write_recommendations
from .commands import command_help
from .common import add_device_option, add_fit_options

DESCRIPTION = (
    "Recommend items from a log of (user, item[, rating]) rows. Two forms:\n\n"
    "  aekit recommend fit DATA --user-col U --item-col I [--rating-col R --min-rating 4] --out RUN_DIR\n"
    "      fit a recommender on DATA (CSV/Parquet) and write RUN_DIR with the model and report.html (training "
    "curves,\n      ranking metrics of held-out users)\n\n"
    "  aekit recommend RUN_DIR --users USERS --k 10 --out recs.csv\n"
    "      the top k unseen items per user: USERS is a CSV/Parquet with the user column (known users) or with user\n"
    "      and item columns (histories of new users, folded in without retraining)\n\n"
    "Run 'aekit recommend fit --help' or 'aekit recommend RUN_DIR --help' for the options of each."
)


class _OneLineErrors(argparse.ArgumentParser):
    """Usage mistakes become ValueError, which ``aekit`` prints as one line with status 2."""

    def error(self, message: str) -> None:
        raise ValueError(f"{message} (see '{self.prog} --help')")


def _fit_parser() -> argparse.ArgumentParser:
    p = _OneLineErrors(prog="aekit recommend fit",
                       description="Fit a recommender (RecVAE, Mult-VAE or Mult-DAE) on DATA and write RUN_DIR. A "
                                   "tenth of the users are held out to choose the best epoch by NDCG@100.")
    p.add_argument("data", metavar="DATA", help="interactions: a CSV/Parquet file with a user and an item column")
    p.add_argument("--user-col", default="user", help="(default: user)")
    p.add_argument("--item-col", default="item", help="(default: item)")
    p.add_argument("--rating-col", default=None, help="ratings; with --min-rating, only rows rated at least that count")
    p.add_argument("--min-rating", type=float, default=None, metavar="R")
    p.add_argument("--kind", default="recvae", choices=("recvae", "mult-vae", "mult-dae"),
                   help="recvae: a deep encoder, a linear decoder (default); mult-vae / mult-dae: the Mult- "
                        "papers' one-layer models")
    p.add_argument("--epochs", type=int, default=None, metavar="N", help="maximum epochs (default: adapts)")
    p.add_argument("--members", type=int, default=3, metavar="N",
                   help="models from different seeds, their probabilities averaged; N times the training time "
                        "(default: 3)")
    p.add_argument("--linear-path", default="auto", choices=("auto", "on", "off"),
                   help="an item-item linear path around the code (items^2 weights); auto: on for mult-vae and "
                        "mult-dae up to 10,000 items, off for recvae (default: auto)")
    p.add_argument("--out", required=True, metavar="RUN_DIR")
    add_fit_options(p)
    return p


def _apply_parser() -> argparse.ArgumentParser:
    p = _OneLineErrors(prog="aekit recommend RUN_DIR", description="Recommend the top k unseen items for users.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--users", required=True, metavar="USERS",
                   help="CSV/Parquet: the user column (known users), or user and item columns (new users' histories)")
    p.add_argument("--k", type=int, default=10, help="items per user (default: 10)")
    p.add_argument("--include-seen", action="store_true", help="also recommend items already in a user's history")
    p.add_argument("--out", required=True, metavar="FILE", help="user, rank, item, score: .csv or .parquet")
    add_device_option(p)
    return p


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recommend", help=command_help("recommend"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="fit DATA ... | RUN_DIR ...")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rest = list(args.args)
    if not rest:
        raise ValueError("say 'aekit recommend fit DATA ...' or 'aekit recommend RUN_DIR --users ...' "
                         "(see 'aekit recommend --help')")
    fitting = rest[0] == "fit"
    try:
        opts = (_fit_parser().parse_args(rest[1:]) if fitting else _apply_parser().parse_args(rest))
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if fitting:
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
    if opts.k < 1:
        raise ValueError(f"--k must be at least 1, got {opts.k}")
    rec = Recommender.load(opts.run_dir, device=opts.device)
    rows = write_recommendations(rec, read_table(opts.users), opts.out, k=opts.k, exclude_seen=not opts.include_seen)
    print(f"wrote {rows} recommendations", file=sys.stderr)
    print(opts.out)
    return 0
