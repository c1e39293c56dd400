"""What ``aekit recommend fit`` and ``aekit recommend`` do: a recommender run directory, and recommendations to a
file."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..data.chunks import ChunkWriter
from ..estimators import Recommender
from ..report import write_report
from .run_dir import prepare_run_dir

REPORT = "report.html"


def fit_recommender_run(rec: Recommender, interactions: object, out: str | os.PathLike, *,
                        overwrite: bool = False, name: str = "interactions") -> Path:
    """Fit ``rec``, save it to ``out`` with ``report.html``: training curves (loss terms and the validation
    users' NDCG@100 per epoch) and the ranking metrics of the held-out users at the kept epoch."""
    out = prepare_run_dir(out, overwrite=overwrite)
    rec.fit(interactions)
    rec.save(out)
    summary = {
        "data": name,
        "kind": rec.kind,
        "users": len(rec.user_ids_),
        "items": len(rec.item_ids_),
        "interactions": int(rec.histories_.nnz),
        "epochs run": rec.n_iter_,
        "kept epochs (best validation NDCG@100, one per member)": rec.best_epoch_,
        "stop reason": rec.stop_reason_,
        "training seconds": round(rec.train_seconds_, 1),
    }
    summary.update({f"held-out users: {k}": v for k, v in rec.validation_metrics_.items()})
    write_report(out / REPORT, title=f"aekit recommender ({rec.kind}) on {name}", summary=summary,
                 history=rec.history_)
    return out


def write_recommendations(rec: Recommender, users: pd.DataFrame, out: str | os.PathLike, *, k: int = 10,
                          exclude_seen: bool = True) -> int:
    """Recommend for the users in ``users`` -- ids of known users, or (user, item) rows of histories -- and write
    user, rank, item, score to ``out`` (.csv or .parquet). Returns the number of rows written."""
    writer = ChunkWriter(out)  # checks the suffix before any work
    if rec.user_col not in users.columns:
        raise ValueError(f"the users table has no {rec.user_col!r} column (columns: {list(users.columns)}); it needs "
                         f"the user ids, and for new users their {rec.item_col!r} column too")
    given = users if rec.item_col in users.columns else users[rec.user_col].drop_duplicates()
    recs = rec.recommend(given, k=k, exclude_seen=exclude_seen)
    with writer:
        writer.write(recs)
    return len(recs)
