"""The ``aekit`` command line: train, encode, reconstruct, info.

``main(argv) -> int`` is the whole program, so tests call it in-process. A user mistake (bad path, wrong
shape, unknown option value) prints one line, ``aekit: error: ...``, and exits with status 2; it never shows a
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import __version__, datasets
from .presets import KINDS

if TYPE_CHECKING:
    from .data.sources import Source

# ImportError: an optional dependency is missing; its message says what to install.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
               ImportError)
OUTPUT_SUFFIXES = (".csv", ".parquet", ".npy")


def _image_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 28x28, got {text!r}") from None
    return h, w


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aekit",
        description="Train autoencoders on your own data and use them: embed, cluster, detect anomalies, reconstruct.",
        epilog="Run 'aekit COMMAND --help' for the options of each command. Example: aekit train "
        "(a convolutional autoencoder on the bundled digits, written to runs/); aekit detect fit data.csv --out det "
        "(anomaly detection).",
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    data_help = (f"a CSV/TSV/Parquet table, a .npy/.npz array, a folder of images (PNG/JPEG; sub-folders are "
                 f"classes), or a built-in dataset: {', '.join(datasets.available())}")
    train = sub.add_parser("train", help="train an autoencoder and write a run directory",
                           description="Train an autoencoder on DATA and write a run directory with the model "
                           "(config.json, model.safetensors, preprocess.json), history.csv, a checkpoint and "
                           "report.html. Defaults adapt to the data's size.")
    train.add_argument("data", nargs="?", default="digits", metavar="DATA", help=f"{data_help} (default: digits)")
    train.add_argument("--kind", default="auto", choices=("auto", *KINDS),
                       help="family member; auto = conv for images, deep for tables (default: auto)")
    train.add_argument("--latent-dim", type=int, default=None, metavar="N", help="code size (default: adapts)")
    train.add_argument("--out", default=None, metavar="RUN_DIR",
                       help="run directory (default: runs/<data>-<kind>-<time>)")
    train.add_argument("--epochs", type=int, default=None, metavar="N", help="maximum epochs (default: adapts)")
    train.add_argument("--batch-size", type=int, default=None, metavar="N", help="(default: adapts)")
    train.add_argument("--learning-rate", type=float, default=1e-3, metavar="LR", help="(default: 1e-3)")
    train.add_argument("--loss", default="auto", choices=("auto", "mse", "bce", "mixed"), help="(default: auto)")
    train.add_argument("--corruption", default=None, choices=("gaussian", "masking", "salt-and-pepper"),
                       help="denoising corruption (default: none, or gaussian for --kind denoising)")
    train.add_argument("--label-col", default=None, metavar="COL",
                       help="table column holding labels: left out of training, used to colour the code map")
    train.add_argument("--image-size", type=_image_size, default=None, metavar="HxW",
                       help="resize images from a folder to this size (default: the most common size)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    train.add_argument("--resume", action="store_true", help="continue the crashed run in --out from its checkpoint")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    for name, what, aliases in (("embed", "codes", ["encode"]), ("reconstruct", "reconstructions", [])):
        p = sub.add_parser(name, aliases=aliases, help=f"write the {what} of DATA under a trained model",
                           description=f"Write the {what} of DATA under the model in RUN_DIR to FILE "
                           "(.csv or .parquet with an 'id' column holding the input's row ids, or .npy)."
                           + (" 'encode' is another name for 'embed'." if aliases else ""))
        p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by 'aekit train'")
        p.add_argument("data", metavar="DATA", help=data_help)
        p.add_argument("--out", required=True, metavar="FILE", help="output file: .csv, .parquet or .npy")
        p.add_argument("--image-size", type=_image_size, default=None, metavar="HxW")
        p.add_argument("--label-col", default=None, metavar="COL",
                       help="table column to leave out (labels)" + ("; colours the --map" if aliases else ""))
        p.add_argument("--device", default="auto")
        if aliases:
            p.add_argument("--map", default=None, metavar="PNG",
                           help="also draw the codes in 2-D to this PNG, coloured by label when there are labels")
            p.add_argument("--projection", default="pca", choices=("pca", "umap"),
                           help="how codes of more than 2 dimensions reach 2-D for --map: pca (linear) or umap "
                           "(keeps neighbours, separates clusters; needs umap-learn) (default: pca)")

    cluster = sub.add_parser("cluster", help="cluster DATA without labels and write each row's cluster",
                             description="Train an autoencoder on DATA, embed its codes with UMAP and fit a "
                             "Gaussian mixture (the N2D recipe), then refine the code toward the clusters found. "
                             "Writes id, cluster and probability (the mixture's posterior) per row to FILE and a "
                             "report (maps, sizes, members of each cluster) to FILE with .html.")
    cluster.add_argument("data", metavar="DATA", help=data_help)
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
    cluster.add_argument("--image-size", type=_image_size, default=None, metavar="HxW")
    cluster.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    cluster.add_argument("--device", default="auto")
    cluster.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    detect = sub.add_parser("detect", help="anomaly detection: fit a detector, score data",
                            description="Anomaly detection with an ensemble of autoencoders.")
    dsub = detect.add_subparsers(dest="detect_command", metavar="SUBCOMMAND", required=True)
    dfit = dsub.add_parser("fit", help="fit a detector on DATA and write a run directory",
                           description="Fit an anomaly detector on DATA (no labels needed) and write RUN_DIR with "
                           "the detector, its training scores' threshold and report.html (score histogram).")
    dfit.add_argument("data", metavar="DATA", help=data_help)
    dfit.add_argument("--out", required=True, metavar="RUN_DIR")
    dfit.add_argument("--contamination", type=float, default=0.1, help="expected outlier fraction (default: 0.1)")
    dfit.add_argument("--label-col", default=None, metavar="COL",
                      help="table column with known labels: left out of fitting, used for AUROC in the report")
    dfit.add_argument("--seed", type=int, default=0)
    dfit.add_argument("--device", default="auto")
    dscore = dsub.add_parser("score", help="score DATA with a fitted detector",
                             description="Score DATA with the detector in RUN_DIR, streaming in chunks, and write "
                             "id, score, label (1 = outlier) and the top contributing features to FILE.")
    dscore.add_argument("run_dir", metavar="RUN_DIR")
    dscore.add_argument("data", metavar="DATA", help=data_help)
    dscore.add_argument("--out", required=True, metavar="FILE", help="output: .csv or .parquet")
    dscore.add_argument("--top", type=int, default=3, help="top contributing features per row (default: 3)")
    dscore.add_argument("--chunk-rows", type=int, default=100_000, help="rows scored at a time (default: 100000)")
    dscore.add_argument("--label-col", default=None, metavar="COL", help="table column to leave out")
    dscore.add_argument("--device", default="auto")

    info = sub.add_parser("info", help="describe a run directory", description="Print a run's model, data "
                          "shape, training outcome and files, as text or JSON.")
    info.add_argument("run_dir", metavar="RUN_DIR")
    info.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _cmd_train(args: argparse.Namespace) -> int:
    from .autoencoder import AutoEncoder
    from .data.sources import load_source
    from .run import train_run

    source = load_source(args.data, label_column=args.label_col, image_size=args.image_size)
    kind = args.kind if args.kind != "auto" else ("conv" if source.is_image else "deep")
    out = Path(args.out) if args.out else Path("runs") / f"{Path(source.name).stem}-{kind}-{datetime.now():%Y%m%d-%H%M%S}"
    if args.resume and not args.out:
        raise ValueError("--resume needs --out RUN_DIR naming the run to continue")
    ae = AutoEncoder(kind=kind, latent_dim=args.latent_dim, max_iter=args.epochs, batch_size=args.batch_size,
                     learning_rate=args.learning_rate, loss=args.loss, corruption=args.corruption,
                     random_state=args.seed, device=args.device, verbose=0 if args.quiet else 1)
    print(f"training a {kind} autoencoder on {source.name} {tuple(np.shape(source.X))} -> {out}", file=sys.stderr)
    train_run(ae, source, out, resume=args.resume)
    print(f"{ae.stop_reason_}; best loss {ae.best_loss_:.5g} after {ae.n_iter_} epochs", file=sys.stderr)
    print(out)
    return 0


def _write_output(path: Path, values: np.ndarray | pd.DataFrame, ids: np.ndarray, prefix: str) -> None:
    from .data.chunks import ChunkWriter

    if path.suffix.lower() == ".npy":
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, values.to_numpy() if isinstance(values, pd.DataFrame) else values, allow_pickle=False)
        return
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"--out must end in one of {', '.join(OUTPUT_SUFFIXES)}, got {path.name!r}")
    if isinstance(values, pd.DataFrame):
        frame = values.copy()
    else:
        flat = np.asarray(values).reshape(len(values), -1)
        frame = pd.DataFrame(flat, columns=[f"{prefix}{i}" for i in range(flat.shape[1])])
    frame.insert(0, "id", ids)
    with ChunkWriter(path) as writer:
        writer.write(frame)


def _cmd_apply(args: argparse.Namespace) -> int:
    from .autoencoder import AutoEncoder
    from .data.sources import load_source

    ae = AutoEncoder.load(args.run_dir, device=args.device)
    source = load_source(args.data, label_column=args.label_col, image_size=args.image_size)
    if args.command in ("embed", "encode"):
        values, prefix = ae.transform(source.X), "z"
    else:
        values, prefix = ae.reconstruct(source.X), "x"
    _write_output(Path(args.out), values, source.ids, prefix)
    if getattr(args, "map", None):
        _write_map(Path(args.map), values, source, args.projection)
    print(args.out)
    return 0


def _write_map(path: Path, codes: np.ndarray, source: Source, projection: str) -> None:
    from .report import code_map_png, save_png

    if path.suffix.lower() != ".png":
        raise ValueError(f"--map must end in .png, got {path.name!r}")
    save_png(code_map_png(codes, source.display_labels, f"Codes of {source.name}", projection=projection), path)
    print(f"wrote the 2-D map to {path}", file=sys.stderr)


def _cmd_cluster(args: argparse.Namespace) -> int:
    from .cluster import Clusterer
    from .cluster_run import fit_cluster_run, report_path_for
    from .data.sources import load_source

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


def _cmd_info(args: argparse.Namespace) -> int:
    from ._utils import read_json

    run = Path(args.run_dir)
    if not run.is_dir():
        raise FileNotFoundError(f"run directory not found: {run}")
    config = read_json(run / "config.json", "model config")
    if not isinstance(config, dict) or "model" not in config:
        raise ValueError(f"{run / 'config.json'} is not an aekit model config")
    model, fitted = config["model"], config.get("fitted", {})
    facts = {
        "run": str(run),
        "format": config.get("format"),
        "kind": config.get("params", {}).get("kind"),
        "encoder": model.get("encoder"),
        "input shape": model.get("input_shape"),
        "hidden": model.get("hidden"),
        "latent dim": model.get("latent_dim"),
        "loss": model.get("loss"),
        "epochs run": fitted.get("n_iter"),
        "best loss": fitted.get("best_loss"),
        "stop reason": fitted.get("stop_reason"),
        "files": sorted(p.name for p in run.iterdir() if p.is_file()),
    }
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        width = max(map(len, facts))
        for key, value in facts.items():
            print(f"{key:<{width}}  {', '.join(map(str, value)) if isinstance(value, list) else value}")
    return 0


def _cmd_detect(args: argparse.Namespace) -> int:
    from .anomaly import AnomalyDetector
    from .data.sources import load_source
    from .detection_run import fit_detection_run, score_to_file

    if args.detect_command == "fit":
        source = load_source(args.data, label_column=args.label_col)
        det = AnomalyDetector(contamination=args.contamination, random_state=args.seed, device=args.device)
        out = fit_detection_run(det, source, args.out)
        print(f"flagged {int(det.labels_.sum())} of {len(det.labels_)} rows (threshold {det.threshold_:.4g})",
              file=sys.stderr)
        print(out)
        return 0
    if args.chunk_rows < 1:
        raise ValueError(f"--chunk-rows must be at least 1, got {args.chunk_rows}")
    det = AnomalyDetector.load(args.run_dir, device=args.device)
    rows = score_to_file(det, args.data, args.out, top=args.top, chunk_rows=args.chunk_rows,
                         label_column=args.label_col)
    print(f"scored {rows} rows", file=sys.stderr)
    print(args.out)
    return 0


COMMANDS = {"train": _cmd_train, "embed": _cmd_apply, "encode": _cmd_apply, "reconstruct": _cmd_apply,
            "cluster": _cmd_cluster, "info": _cmd_info, "detect": _cmd_detect}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="aekit: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except USER_ERRORS as exc:
        print(f"aekit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted; a run can continue with 'aekit train DATA --out RUN_DIR --resume'", file=sys.stderr)
        return 130


def main_entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    main_entry()
