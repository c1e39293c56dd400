"""``aekit text fit`` / ``aekit text neighbours`` / ``aekit text sample``: sentence autoencoders on a corpus.

Embeddings of a corpus are written by the shared verb, ``aekit embed RUN_DIR corpus.csv --out vecs.parquet``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data.chunks import ChunkWriter
from ..data.texts import read_texts
from ..estimators import TextAutoEncoder
from ..runs import fit_text_run
from .commands import command_help
from .common import add_device_option, add_fit_options, add_seed_option

DESCRIPTION = (
    "Sentence autoencoders trained on your own texts (no model is downloaded):\n\n"
    "  aekit text fit CORPUS --text-col COL --out RUN_DIR      train; RUN_DIR gets the model and report.html\n"
    "  aekit text neighbours RUN_DIR \"query\" -k 10            the k nearest fitted texts of each query\n"
    "  aekit text sample RUN_DIR -n 10                         new texts from a VAE (--kind vae)\n"
    "  aekit embed RUN_DIR CORPUS --out vecs.parquet           one embedding per text, with the row ids\n\n"
    "CORPUS is a CSV/TSV/Parquet file with a text column (or one column of text)."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("text", help=command_help("text"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = p.add_subparsers(dest="text_command", metavar="{fit,neighbours,sample}", required=True)

    fit = verbs.add_parser("fit", help="train on a corpus", description="Train a sentence autoencoder on the texts "
                           "of CORPUS and write RUN_DIR (model, tokenizer, report.html).")
    fit.add_argument("corpus", metavar="CORPUS", help="a CSV/TSV/Parquet file with a text column")
    fit.add_argument("--text-col", default=None, metavar="COL", help="the text column (default: the only one)")
    fit.add_argument("--kind", default="denoising", choices=("denoising", "vae"),
                     help="denoising (TSDAE: embeddings for search and clustering) or vae (a code space to sample "
                     "and interpolate) (default: denoising)")
    fit.add_argument("--latent-dim", type=int, default=64, metavar="D", help="embedding size (default: 64)")
    fit.add_argument("--epochs", type=int, default=None, metavar="N",
                     help="epochs (default: follows the corpus: at most 20 code epochs and 4 decoder epochs for "
                     "denoising, 10 for vae, fewer for long texts)")
    fit.add_argument("--out", required=True, metavar="RUN_DIR")
    add_fit_options(fit)
    fit.set_defaults(run=run_fit)

    near = verbs.add_parser("neighbours", aliases=["neighbors"], help="nearest texts of queries",
                            description="Print the k fitted texts nearest each QUERY (cosine similarity of codes).")
    near.add_argument("run_dir", metavar="RUN_DIR")
    near.add_argument("queries", nargs="+", metavar="QUERY")
    near.add_argument("-k", type=int, default=10, help="neighbours per query (default: 10)")
    near.add_argument("--corpus", default=None, metavar="FILE", help="search this table's texts instead")
    near.add_argument("--text-col", default=None, metavar="COL")
    near.add_argument("--out", default=None, metavar="FILE", help="also write query, rank, id, text, similarity "
                      "(.csv or .parquet)")
    add_device_option(near)
    near.set_defaults(run=run_neighbours)

    sample = verbs.add_parser("sample", help="new texts from a VAE", description="Decode codes drawn from the prior "
                              "of the text VAE in RUN_DIR; one text per line.")
    sample.add_argument("run_dir", metavar="RUN_DIR")
    sample.add_argument("-n", type=int, default=10, help="how many (default: 10)")
    add_seed_option(sample, "samples")
    add_device_option(sample)
    sample.set_defaults(run=run_sample)


def run_fit(args: argparse.Namespace) -> int:
    tae = TextAutoEncoder(kind=args.kind, text_col=args.text_col, latent_dim=args.latent_dim, max_iter=args.epochs,
                          random_state=args.seed, device=args.device, verbose=0 if args.quiet else 1)
    out = fit_text_run(tae, args.corpus, args.out, overwrite=args.overwrite, name=Path(args.corpus).name)
    print(f"{tae.stop_reason_}; {tae.train_seconds_:.0f} s of training", file=sys.stderr)
    print(out)
    return 0


def run_neighbours(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise ValueError(f"-k must be at least 1, got {args.k}")
    tae = TextAutoEncoder.load(args.run_dir, device=args.device)
    corpus = None if args.corpus is None else read_texts(args.corpus, args.text_col or tae.text_col, "corpus")[0]
    near = tae.neighbours(args.queries, k=args.k, corpus=corpus)
    if args.out:
        with ChunkWriter(args.out) as writer:
            writer.write(near)
    for query, rows in near.groupby("query", sort=False):
        print(f"{query}")
        for r in rows.itertuples():
            print(f"  {r.rank:>3}  {r.similarity:.3f}  {r.text}")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise ValueError(f"-n must be at least 1, got {args.n}")
    tae = TextAutoEncoder.load(args.run_dir, device=args.device)
    for text in tae.sample(args.n, random_state=args.seed):
        print(text)
    return 0

