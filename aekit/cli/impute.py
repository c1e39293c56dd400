"""``aekit impute``: fill the missing cells of a table with a denoising autoencoder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..data.chunks import OUTPUT_SUFFIXES
from ..data.sources import load_source
from ..estimators import Imputer
from ..runs import imputation_summary, save_imputation_run, write_filled
from ..runs.run_dir import prepare_run_dir
from .commands import command_help
from .common import add_fit_options, data_help


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "impute", help=command_help("impute"),
        description="Fill every missing cell (empty, NaN, NA) of DATA and write the completed table to FILE; observed "
        "cells are kept as they are. Without --model an Imputer is fitted on DATA first (numeric and categorical "
        "columns; a share of observed cells is held out to measure the filling, printed per column). --save keeps "
        "the fitted Imputer with report.html; --model fills new data with a kept one.",
        epilog="Examples: aekit impute survey.csv --out survey_filled.csv --save imputer_run; "
        "aekit impute --model imputer_run new.csv --out new_filled.parquet")
    p.add_argument("data", metavar="DATA", help=data_help())
    p.add_argument("--out", required=True, metavar="FILE", help="the completed table: .csv or .parquet")
    p.add_argument("--model", default=None, metavar="RUN_DIR", help="fill with the Imputer saved in RUN_DIR")
    p.add_argument("--save", default=None, metavar="RUN_DIR", help="keep the fitted Imputer and report.html here")
    add_fit_options(p, "a finished run already in --save RUN_DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:  # before fitting, not after
        raise ValueError(f"--out must end in .csv or .parquet (a table), got {out.name!r}")
    if args.model and args.save:
        raise ValueError("--save keeps a newly fitted Imputer; with --model the Imputer is already saved")
    if args.save:
        prepare_run_dir(args.save, overwrite=args.overwrite, option="--save")  # refuse a finished run before fitting, not after
    source = load_source(args.data)
    if args.model:
        imp = Imputer.load(args.model, device=args.device)
    else:
        imp = Imputer(random_state=args.seed, device=args.device, verbose=0 if args.quiet else 1).fit(source.X)
    write_filled(imp, imp.transform(source.X), out)
    if not args.model:
        if args.save:
            save_imputation_run(imp, source, args.save, overwrite=args.overwrite)
        checked = imputation_summary(imp)
        print(checked.to_string(index=False, float_format=lambda v: f"{v:.3g}", na_rep="-"), file=sys.stderr)
    print(f"filled {int(pd.isna(source.X).sum().sum())} missing cells in {len(source.X)} rows", file=sys.stderr)
    print(out)
    return 0
