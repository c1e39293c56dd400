"""``aekit detect fit`` and ``aekit detect score``: anomaly detection with an ensemble of autoencoders."""

from __future__ import annotations

import argparse
import sys

from ..data.sources import Source, load_source
from ..data.table_files import TableFiles
from ..estimators import AnomalyDetector
from ..runs import fit_detection_run, label_auroc, score_to_file
from ..training.distributed import shutdown, world
from .commands import command_help
from .common import add_device_option, add_fit_options, data_help, label_column_for


def add_parser(sub: argparse._SubParsersAction) -> None:
    detect = sub.add_parser("detect", help=command_help("detect"),
                            description="Anomaly detection with an ensemble of autoencoders.")
    dsub = detect.add_subparsers(dest="detect_command", metavar="SUBCOMMAND", required=True)
    dfit = dsub.add_parser("fit", help="fit a detector on DATA and write a run directory",
                           description="Fit an anomaly detector on DATA (no labels needed) and write RUN_DIR with "
                           "the detector, its threshold and report.html (score histogram). By default DATA may hold "
                           "anomalies and the detector finds them among its rows; with --novelty DATA holds normal "
                           "rows only (a period known to be good) and the detector flags what is new.")
    dfit.add_argument("data", metavar="DATA", help=data_help())
    dfit.add_argument("--out", required=True, metavar="RUN_DIR")
    dfit.add_argument("--contamination", type=float, default=0.1,
                      help="expected outlier fraction of DATA, which sets the threshold (default: 0.1; not with "
                      "--novelty)")
    dfit.add_argument("--novelty", action="store_true",
                      help="DATA holds normal rows only: score new rows by how unlike every training row they are")
    dfit.add_argument("--false-alarm-rate", type=float, default=0.01, metavar="RATE",
                      help="with --novelty: the fraction of new normal rows the threshold may flag, set on held-out "
                      "normal rows (default: 0.01)")
    dfit.add_argument("--label-col", default=None, metavar="COL",
                      help="table column with known labels: left out of fitting, used for AUROC in the report")
    dfit.add_argument("--anomaly-label", default=None, metavar="VALUE",
                      help="the --label-col value that marks an anomaly (default: the minority class)")
    dfit.add_argument("--streaming", action="store_true",
                      help="DATA is a Parquet/CSV file, folder or glob too large to load: fit on rows sampled evenly "
                      "from all of it (then score every row with 'aekit detect score')")
    add_fit_options(dfit, "a finished run already in RUN_DIR")
    dscore = dsub.add_parser("score", help="score DATA with a fitted detector",
                             description="Score DATA with the detector in RUN_DIR, streaming in chunks, and write "
                             "id, score, label (1 = outlier) and the top contributing features to FILE. Under "
                             "torchrun (torchrun --nproc-per-node N -m aekit detect score ...) each process scores "
                             "its share of DATA's files and rank 0 joins the parts.")
    dscore.add_argument("run_dir", metavar="RUN_DIR")
    dscore.add_argument("data", metavar="DATA", help=data_help())
    dscore.add_argument("--out", required=True, metavar="FILE", help="output: .csv or .parquet")
    dscore.add_argument("--top", type=int, default=3, help="top contributing features per row (default: 3)")
    dscore.add_argument("--chunk-rows", type=int, default=100_000, help="rows scored at a time (default: 100000)")
    dscore.add_argument("--label-col", default=None, metavar="COL",
                        help="table column to leave out (default: the one left out when the detector was fitted)")
    add_device_option(dscore)
    detect.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.detect_command == "fit":
        if args.anomaly_label is not None and args.label_col is None:
            raise ValueError("--anomaly-label names a value of the label column; give that column with --label-col")
        if args.streaming:
            files = TableFiles(args.data, label_column=args.label_col)
            ids, frame, labels = files.sample(AnomalyDetector.STREAM_FIT_ROWS, seed=args.seed)
            source = Source(name=f"{files.name} (rows sampled from {files.n_rows:,})", X=frame, y=labels, ids=ids)
        else:
            source = load_source(args.data, label_column=args.label_col)
        det = AnomalyDetector(contamination=args.contamination, novelty=args.novelty,
                              false_alarm_rate=args.false_alarm_rate, random_state=args.seed, device=args.device,
                              verbose=0 if args.quiet else 1)
        out = fit_detection_run(det, source, args.out, overwrite=args.overwrite, label_column=args.label_col,
                                anomaly_label=args.anomaly_label)
        if det.novelty_ is not None:
            print(f"threshold {det.threshold_:.4g}: flags {100 * det.realised_false_alarm_rate_:.2f}% of "
                  f"{len(det.labels_)} held-out normal rows (target false-alarm rate "
                  f"{100 * det.false_alarm_rate:.2f}%)", file=sys.stderr)
        else:
            print(f"flagged {int(det.labels_.sum())} of {len(det.labels_)} rows (threshold {det.threshold_:.4g})",
                  file=sys.stderr)
        for key, value in label_auroc(source.y, det.decision_scores_, args.anomaly_label).items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}", file=sys.stderr)
        print(out)
        return 0
    if args.chunk_rows < 1:
        raise ValueError(f"--chunk-rows must be at least 1, got {args.chunk_rows}")
    det = AnomalyDetector.load(args.run_dir, device=args.device)
    label_column, optional = label_column_for(args)
    rows = score_to_file(det, args.data, args.out, top=args.top, chunk_rows=args.chunk_rows,
                         label_column=label_column, label_optional=optional)
    if world().is_main:
        print(f"scored {rows} rows", file=sys.stderr)
        print(args.out)
    shutdown()
    return 0
