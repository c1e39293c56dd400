"""``aekit cluster``: cluster DATA without labels and write each row's cluster and a report."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..data.sources import load_source
from ..estimators import Clusterer
from ..runs import fit_cluster_run, report_path_for
from ..runs.run_dir import prepare_run_dir
from .commands import command_help
from .common import add_fit_options, data_help, image_size


def add_parser(sub: argparse._SubParsersAction) -> None:
    cluster = sub.add_parser("cluster", help=command_help("cluster"),
                             description="Train an autoencoder on DATA, embed its codes with UMAP and fit a "
                             "Gaussian mixture (the N2D recipe), then refine the code toward the clusters found. "
                             "Writes id, cluster and probability (the share of the row's 15 nearest rows in the code that "
                             "share its cluster) per row to FILE and a "
                             "report (maps, sizes, members of each cluster) to FILE with .html.")
    cluster.add_argument("data", metavar="DATA", help=data_help())
    cluster.add_argument("-k", "--n-clusters", type=int, default=10, metavar="K", help="number of clusters "
                         "(default: 10)")
    cluster.add_argument("--out", required=True, metavar="FILE", help="output: .csv or .parquet")
    cluster.add_argument("--report", default=None, metavar="HTML", help="report path (default: FILE with .html)")
    cluster.add_argument("--save", default=None, metavar="DIR", help="also keep the clusterer (JSON + "
                         "safetensors) for aekit.Clusterer.load(DIR).predict(new rows)")
    cluster.add_argument("--latent-dim", type=int, default=None, metavar="N", help="code size (default: adapts)")
    cluster.add_argument("--epochs", type=int, default=None, metavar="N", help="maximum autoencoder epochs "
                         "(default: adapts)")
    cluster.add_argument("--no-umap", action="store_true", help="fit the mixture on the codes directly")
    cluster.add_argument("--label-col", default=None, metavar="COL",
                         help="table column with known labels: left out, used for accuracy/NMI and a map")
    cluster.add_argument("--image-size", type=image_size, default=None, metavar="HxW")
    add_fit_options(cluster, "a clusterer already in --save DIR")
    cluster.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.save:  # refuse a finished clusterer before fitting, not after
        prepare_run_dir(args.save, overwrite=args.overwrite, option="--save")
    source = load_source(args.data, label_column=args.label_col, image_size=args.image_size)
    clusterer = Clusterer(args.n_clusters, latent_dim=args.latent_dim, max_iter=args.epochs,
                          manifold=None if args.no_umap else "umap", device=args.device, random_state=args.seed,
                          verbose=0 if args.quiet else 1)
    print(f"clustering {source.name} {tuple(np.shape(source.X))} into {args.n_clusters} clusters", file=sys.stderr)
    fit_cluster_run(clusterer, source, args.out, args.report)
    if args.save:
        clusterer.save(args.save)
        print(f"saved the clusterer to {args.save}", file=sys.stderr)
    print(f"wrote the report to {args.report or report_path_for(args.out)}", file=sys.stderr)
    print(args.out)
    return 0
