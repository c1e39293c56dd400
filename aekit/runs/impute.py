"""What ``aekit impute`` does: fill a table's missing cells, write it, and (with a run directory) keep the
Imputer with a report of the missingness per column and the error on cells held out to check the filling."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.chunks import ChunkWriter
from ..data.sources import Source
from ..estimators import Imputer
from ..report import write_report
from .run_dir import prepare_run_dir

REPORT = "report.html"


def write_filled(imp: Imputer, filled: np.ndarray | pd.DataFrame, out: str | os.PathLike) -> Path:
    """The filled table (from :meth:`Imputer.transform`; an array gets the Imputer's column names) to CSV or
    Parquet; the file appears only once complete."""
    if not isinstance(filled, pd.DataFrame):
        filled = pd.DataFrame(filled, columns=imp.get_feature_names_out())
    with ChunkWriter(out) as writer:
        writer.write(filled)
    return Path(out)


def imputation_summary(imp: Imputer) -> pd.DataFrame:
    """Per column: the share missing in the fitted table and the held-out check (RMSE or accuracy)."""
    check = imp.check_.set_index("column")
    frame = pd.DataFrame({"column": imp.columns_, "missing": [imp.missing_share_[c] for c in imp.columns_]})
    return frame.join(check.drop(columns="type", errors="ignore"), on="column")


def save_imputation_run(imp: Imputer, source: Source, run_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Save the fitted Imputer to ``run_dir`` with ``report.html``."""
    out = prepare_run_dir(run_dir, overwrite=overwrite, option="--save")
    imp.save(out)
    summary_table = imputation_summary(imp)
    summary = {
        "data": f"{source.name} ({len(source.X)} rows, {len(imp.columns_)} columns)",
        "cells missing": f"{sum(imp.missing_share_.values()) / len(imp.columns_):.1%}",
        "held-out check": f"{int(imp.check_['held-out cells'].sum())} observed cells hidden from training",
    }
    sections = [("Missing values and held-out error per column",
                 summary_table.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", escape=True))]
    write_report(out / REPORT, title=f"aekit imputation of {source.name}", summary=summary,
                 history=imp.autoencoder_.history_, extra_sections=sections)
    return out


__all__ = ["imputation_summary", "save_imputation_run", "write_filled"]
