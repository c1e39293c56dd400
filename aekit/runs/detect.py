"""What ``aekit detect fit`` and ``aekit detect score`` do: a detector run directory, and streamed scoring."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.chunks import ChunkWriter, iter_chunks
from ..data.sources import Source
from ..data.table_files import TableFiles, is_table_collection
from ..estimators import AnomalyDetector
from ..report import png_img_tag, score_histogram_png, write_report
from ..training.distributed import barrier, world
from .run_dir import prepare_run_dir, write_run_facts

REPORT = "report.html"


def anomalous_label(y: np.ndarray, named: object = None) -> tuple[object, str] | None:
    """The label value that marks an anomaly in ``y``, and how it was chosen: the value ``named`` by the user
    (compared as text, so ``"0"`` names the integer 0), else the minority class of two (the larger value when both
    are equally common). ``None`` when ``y`` has more than two values and none is named, or a single value."""
    values, counts = np.unique(np.asarray(y), return_counts=True)
    if named is not None:
        match = [v for v in values if str(v) == str(named)]
        if not match:
            raise ValueError(f"--anomaly-label {named!r} is not among the label values "
                             f"({', '.join(map(str, values[:10]))}); name one of them")
        return match[0].item() if isinstance(match[0], np.generic) else match[0], "named"
    if len(values) != 2:
        return None
    if counts[0] == counts[1]:
        value, how = values[1], "the larger of two equally common values; name another with --anomaly-label"
    else:
        value, how = values[np.argmin(counts)], f"minority class, {counts.min()} of {counts.sum()}"
    return (value.item() if isinstance(value, np.generic) else value), how


def label_auroc(y: np.ndarray | None, scores: np.ndarray, anomaly_label: object = None) -> dict[str, object]:
    """Report lines for known labels: which value was taken as anomalous and why, and the AUROC of ``scores``
    (higher = more anomalous) for finding it. Empty without labels or when no value can be taken as anomalous."""
    marked = None if y is None else anomalous_label(y, anomaly_label)
    if marked is None:
        return {}
    from sklearn.metrics import roc_auc_score

    value, how = marked
    facts: dict[str, object] = {"anomalous label": f"{value} ({how})"}
    is_anomaly = np.asarray(y) == value
    if 0 < is_anomaly.sum() < len(is_anomaly):  # an AUROC needs both kinds of rows (clean novelty data has one)
        facts[f"AUROC against the given labels ({value} = anomaly)"] = float(roc_auc_score(is_anomaly, scores))
    return facts


def fit_detection_run(det: AnomalyDetector, source: Source, out: str | os.PathLike, *, overwrite: bool = False,
                      label_column: str | None = None, anomaly_label: object = None) -> Path:
    """Fit ``det`` on ``source``, save it to ``out`` with ``report.html`` (score histogram, threshold, top rows).

    A finished run in ``out`` is refused unless ``overwrite``; ``label_column`` is remembered for scoring. With
    labels, the report gives the AUROC of the training scores against them, treating ``anomaly_label`` (default:
    the minority class) as anomalous, and says which value that was."""
    if source.y is not None:
        anomalous_label(source.y, anomaly_label)  # a bad --anomaly-label fails before the fit
    out = prepare_run_dir(out, overwrite=overwrite)
    det.fit(source.X)
    det.save(out)
    write_run_facts(out, label_column=label_column)
    scores = det.decision_scores_
    top = np.argsort(-scores)[:10]
    X_top = source.rows(top)
    expl = det.explain(X_top, top=3)
    expl.insert(0, "score", scores[top])
    expl.insert(0, "id", np.asarray(source.ids)[top])
    table = expl.to_html(index=False, float_format=lambda v: f"{v:.4g}", escape=True)
    if det.novelty_ is not None:
        table = (f'<p class="note">Scores are leave-one-out: each training row against the others. The threshold '
                 f"{det.threshold_:.4g} flags {100 * det.realised_false_alarm_rate_:.2f}% of these {len(scores)} "
                 f"held-out normal rows (target false-alarm rate {100 * det.false_alarm_rate:.2f}%).</p>") + table
    sections = [
        ("Score distribution", png_img_tag(score_histogram_png(scores, det.threshold_), "anomaly score histogram")),
        ("Highest-scoring rows and what drives them", table),
    ]
    summary = {"data": f"{source.name} {tuple(np.shape(source.X))}", **threshold_facts(det),
               "rows flagged": int(det.labels_.sum()), **label_auroc(source.y, scores, anomaly_label)}
    history = det.members_[0].history_ if det.members_ else []
    write_report(out / REPORT, title=f"aekit anomaly detection on {source.name}", summary=summary,
                 history=history, extra_sections=sections)
    return out


def threshold_facts(det: AnomalyDetector) -> dict[str, object]:
    """How the detector's threshold was set, for reports and the command line."""
    if det.novelty_ is None:
        return {"mode": "unsupervised (the training rows may hold anomalies)", "members": len(det.members_),
                "contamination": det.contamination, "threshold": det.threshold_}
    n = len(det.decision_scores_)
    return {"mode": "novelty (the training rows are normal)", "threshold": det.threshold_,
            "target false-alarm rate": det.false_alarm_rate,
            f"realised false-alarm rate on {n} held-out normal rows (leave-one-out)": det.realised_false_alarm_rate_}


def score_to_file(det: AnomalyDetector, data: str | os.PathLike, out: str | os.PathLike, *, top: int = 3,
                  chunk_rows: int = 100_000, label_column: str | None = None, label_optional: bool = False) -> int:
    """Score ``data`` chunk by chunk into ``out`` (CSV/Parquet): id, score, label and the top features.

    ``data`` is one file or source, or a folder or glob of Parquet/CSV files (scored file by file). Memory is
    bounded by ``chunk_rows`` whatever the number of rows. Under ``torchrun`` each process scores its
    share of the files' units and rank 0 joins the parts (rows grouped by process; ``id`` is each row's position
    in the data). Returns the number of rows written (on rank 0).
    """
    w = world()
    if not w.active and not is_table_collection(data):
        with ChunkWriter(out) as writer:
            for ids, X in iter_chunks(data, chunk_rows, label_column=label_column, label_optional=label_optional):
                writer.write(_scored(det, ids, X, top))
        return writer.rows
    if label_optional and label_column is not None:
        files = TableFiles(data, chunk_rows=chunk_rows)
        if label_column in files.columns:
            files = TableFiles(data, label_column=label_column, chunk_rows=chunk_rows)
    else:
        files = TableFiles(data, label_column=label_column, chunk_rows=chunk_rows)
    # Each process writes its share of the units (all of them in one process); rank 0 then joins the parts.
    out = Path(out)
    part = lambda rank: out.with_name(f".{out.stem}.rank{rank}{out.suffix}")
    with ChunkWriter(part(w.rank) if w.active else out) as writer:
        for unit in files.units[w.rank :: w.size]:
            for ids, X in files.read(unit):
                writer.write(_scored(det, ids, X, top))
    if not w.active:
        return writer.rows
    barrier()
    rows = 0
    if w.is_main:
        with ChunkWriter(out) as joined:
            for rank in range(w.size):
                if part(rank).is_file():
                    for _, frame in iter_chunks(part(rank), chunk_rows):
                        joined.write(frame)
                    part(rank).unlink()
        rows = joined.rows
    barrier()
    return rows


def _scored(det: AnomalyDetector, ids: np.ndarray, X: pd.DataFrame | np.ndarray, top: int) -> pd.DataFrame:
    scores = det.decision_function(X)
    frame = pd.DataFrame({"id": ids, "score": scores, "label": (scores > det.threshold_).astype(np.int64)})
    return pd.concat([frame, det.explain(X, top=top)], axis=1) if top else frame
