"""``aekit embed`` (alias ``encode``) and ``aekit reconstruct``: apply a trained autoencoder to DATA."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..data.sources import Source, load_source
from ..data.texts import read_texts
from ..estimators import AutoEncoder, TextAutoEncoder
from ..io import read_config
from ..report import code_map_png, save_png
from .commands import ALIASES, command_help
from .common import add_device_option, data_help, image_size, label_column_for, write_output


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name, what in (("embed", "codes"), ("reconstruct", "reconstructions")):
        aliases = ALIASES.get(name, [])
        p = sub.add_parser(name, aliases=aliases, help=command_help(name),
                           description=f"Write the {what} of DATA under the model in RUN_DIR to FILE "
                           "(.csv or .parquet with an 'id' column holding the input's row ids, or .npy)."
                           + (" 'encode' is another name for 'embed'." if aliases else ""))
        p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by 'aekit train'")
        p.add_argument("data", metavar="DATA", help=data_help())
        p.add_argument("--out", required=True, metavar="FILE", help="output file: .csv, .parquet or .npy")
        p.add_argument("--image-size", type=image_size, default=None, metavar="HxW")
        p.add_argument("--label-col", default=None, metavar="COL",
                       help="table column to leave out (labels; default: the one left out in training)"
                       + ("; colours the --map" if aliases else ""))
        add_device_option(p)
        if aliases:
            p.add_argument("--text-col", default=None, metavar="COL",
                           help="for a text model ('aekit text fit'): the column of DATA holding the texts")
            p.add_argument("--map", default=None, metavar="PNG",
                           help="also draw the codes in 2-D to this PNG, coloured by label when there are labels")
            p.add_argument("--projection", default="pca", choices=("pca", "umap"),
                           help="how codes of more than 2 dimensions reach 2-D for --map: pca (linear) or umap "
                           "(keeps neighbours, separates clusters; needs umap-learn) (default: pca)")
        p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if read_config(args.run_dir)["format"] == TextAutoEncoder.FORMAT:
        return _run_text(args)
    ae = AutoEncoder.load(args.run_dir, device=args.device)
    label_column, optional = label_column_for(args)
    source = load_source(args.data, label_column=label_column, label_optional=optional, image_size=args.image_size)
    if args.command in ("embed", "encode"):
        values, prefix = ae.transform(source.X), "z"
    else:
        values, prefix = ae.reconstruct(source.X), "x"
    write_output(Path(args.out), values, source.ids, prefix)
    if getattr(args, "map", None):
        _write_map(Path(args.map), values, source, args.projection)
    print(args.out)
    return 0


def _run_text(args: argparse.Namespace) -> int:
    """Embeddings of the texts of a table under a text autoencoder, with the table's row ids."""
    if args.command == "reconstruct":
        raise ValueError("reconstruct applies to 'aekit train' runs; a text model's reconstructions come from "
                         "TextAutoEncoder.reconstruct in Python")
    tae = TextAutoEncoder.load(args.run_dir, device=args.device)
    texts, ids = read_texts(args.data, args.text_col or tae.text_col)
    write_output(Path(args.out), tae.transform(texts), ids, "z")
    print(args.out)
    return 0


def _write_map(path: Path, codes: np.ndarray, source: Source, projection: str) -> None:
    if path.suffix.lower() != ".png":
        raise ValueError(f"--map must end in .png, got {path.name!r}")
    save_png(code_map_png(codes, source.display_labels, f"Codes of {source.name}", projection=projection), path)
    print(f"wrote the 2-D map to {path}", file=sys.stderr)
