"""``aekit info``: describe any saved aekit directory (autoencoder, encoder, detector, clusterer) by its format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..estimators import FORMATS, load
from ..io import read_config
from .commands import command_help


def add_parser(sub: argparse._SubParsersAction) -> None:
    info = sub.add_parser("info", help=command_help("info"),
                          description="Print what a directory saved by aekit holds (its estimator, data shape, "
                          "training outcome and files), as text or JSON. Works on the directories of 'aekit "
                          "train', 'aekit detect fit', 'aekit cluster --save' and estimator.save(). The weights "
                          "are read too, so a damaged directory is reported.")
    info.add_argument("run_dir", metavar="RUN_DIR")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory not found: {run_dir}")
    config = read_config(run_dir)
    cls = FORMATS.get(config["format"])
    load(run_dir, device="cpu")  # a directory that does not load is not described as if it were fine
    facts = {"run": str(run_dir), "format": config["format"], **cls.describe(config),
             "files": sorted(p.name for p in run_dir.iterdir() if p.is_file())}
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        width = max(map(len, facts))
        for key, value in facts.items():
            print(f"{key:<{width}}  {', '.join(map(str, value)) if isinstance(value, list) else value}")
    return 0
