"""``aekit export``: a saved model's networks as ONNX graphs (needs ``pip install "aekit[export]"``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .commands import command_help


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help=command_help("export"),
        description="Write the networks of a saved model as ONNX graphs, one .onnx per function, into the folder "
        "OUT: an autoencoder's encode, decode and reconstruction_error (raw numeric features or pixels in, the "
        "input scaling inside the graph), an encoder's encode, a denoiser's denoise; every graph has a dynamic "
        "batch axis. export.json beside them says what each computes. Each graph is then run in onnxruntime beside "
        "PyTorch at batch sizes 1, 7 and 256 and the largest difference is printed. Detectors, clusterers, "
        "imputers, codecs, recommenders and text models are refused with the reason.",
        epilog="Example: aekit export runs/ae --format onnx --out ae_onnx")
    p.add_argument("model", metavar="DIR", help="a saved model directory")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="the export format (onnx)")
    p.add_argument("--out", required=True, metavar="OUT", help="the folder to write the graphs into")
    p.add_argument("--no-check", action="store_true", help="skip running the graphs in onnxruntime")
    p.add_argument("--json", action="store_true", help="print the check as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..estimators import load
    from ..export import check_onnx, export_onnx
    from ..export.onnx import TOLERANCE

    estimator = load(args.model, device="cpu")
    paths = export_onnx(estimator, args.out)
    rows = [] if args.no_check else check_onnx(estimator, args.out)
    if args.json:
        print(json.dumps({"graphs": [str(p) for p in paths], "check": rows}, indent=2))
    else:
        for path in paths:
            print(path)
        for row in rows:
            print(f"{row['graph']:>22}  batch {row['batch']:>4}  max |onnx - torch| = {row['max_abs_diff']:.2e}",
                  file=sys.stderr)
    worst = max((r["max_abs_diff"] for r in rows), default=0.0)
    if worst > TOLERANCE:
        raise ValueError(f"an exported graph differs from PyTorch by {worst:.2e} (more than {TOLERANCE:g}); the "
                         f"graphs in {Path(args.out)} should not be used")
    return 0
