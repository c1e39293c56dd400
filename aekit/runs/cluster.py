"""What ``aekit cluster`` does: cluster a source, write each row's cluster, and a report that shows the clusters."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score

from ..data.chunks import ChunkWriter
from ..data.sources import Source
from ..estimators import Clusterer
from ..metrics import cluster_accuracy
from ..report import cluster_examples_png, code_map_png, png_img_tag, write_report

MAP_ROWS = 5000  # rows drawn in the report's maps: readable, and the 2-D UMAP stays quick
EXAMPLES_PER_CLUSTER = 10
PROFILE_FEATURES = 3


def report_path_for(out: str | os.PathLike) -> Path:
    """The report written beside an assignments file: ``clusters.csv`` -> ``clusters.html``."""
    return Path(out).with_suffix(".html")


def fit_cluster_run(clusterer: Clusterer, source: Source, out: str | os.PathLike,
                    report: str | os.PathLike | None = None) -> Path:
    """Fit ``clusterer`` on ``source``; write ``id, cluster, probability`` rows to ``out`` (CSV/Parquet) and the
    report (cluster sizes, maps coloured by cluster and by label, members of each cluster) beside it."""
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"--out must end in .csv or .parquet, got {out.name!r}")
    start = time.perf_counter()
    clusters = clusterer.fit_predict(source.X)
    seconds = time.perf_counter() - start
    # The share of a row's nearest training rows (in the refined code) that share its cluster: 1.0 inside a
    # cluster, lower at its borders. (The mixture's own posterior is ~1.0 for almost every row after UMAP.)
    confidence = clusterer.predict_proba(source.X)[np.arange(len(clusters)), clusters]
    with ChunkWriter(out) as writer:
        writer.write(pd.DataFrame({"id": source.ids, "cluster": clusters, "probability": confidence}))
    _write_report(clusterer, source, clusters, confidence, seconds, report or report_path_for(out))
    return out


def _write_report(clusterer: Clusterer, source: Source, clusters: np.ndarray, confidence: np.ndarray,
                  seconds: float, path: str | os.PathLike) -> Path:
    ae = clusterer.autoencoder_
    names, sizes = np.unique(clusters, return_counts=True)
    summary: dict[str, object] = {
        "data": f"{source.name} {tuple(np.shape(source.X))}",
        "clusters asked for": clusterer.n_clusters,
        "clusters found (non-empty)": int(names.size),
        "largest / smallest cluster": f"{sizes.max()} / {sizes.min()} rows",
        "recipe": f"{ae.kind} autoencoder ({ae.config_.latent_dim}-d code)"
                  + (" -> UMAP" if clusterer.manifold is not None else "") + " -> Gaussian mixture"
                  + (f" -> code refined for {len(clusterer.refine_history_)} epochs" if clusterer.refine_history_
                     else ""),
        "seconds (training and clustering)": round(seconds, 1),
    }
    labels = source.display_labels
    if labels is not None:
        summary["accuracy against the given labels (Hungarian)"] = cluster_accuracy(labels.astype(str), clusters)
        summary["NMI against the given labels"] = float(normalized_mutual_info_score(labels.astype(str), clusters))

    shown = np.sort(np.random.default_rng(0).permutation(len(clusters))[:MAP_ROWS])
    codes = ae.transform(source.rows(shown))
    projection = "umap" if clusterer.manifold is not None else "pca"
    sections = [("Clusters in the code space", png_img_tag(
        code_map_png(codes, clusters[shown], "Codes coloured by cluster", projection=projection,
                     legend_title="cluster"),
        "code map coloured by cluster"))]
    if labels is not None:
        sections.append(("The given labels in the same map", png_img_tag(
            code_map_png(codes, labels[shown], "Codes coloured by the given label", projection=projection),
            "code map coloured by label")))
    if source.is_image:
        # Most confident members first: they show what each cluster stands for.
        order = np.lexsort((-confidence, clusters))
        keep = np.concatenate([order[clusters[order] == c][:EXAMPLES_PER_CLUSTER] for c in names])
        grid = cluster_examples_png(source.rows(keep), clusters[keep], EXAMPLES_PER_CLUSTER,
                                    sizes=dict(zip(names.tolist(), sizes.tolist())))
        sections.append(("Members of each cluster", png_img_tag(grid, "most confident members of each cluster")))
    else:
        sections.append(("What sets each cluster apart", _profile_table(clusterer, source, clusters)))
    return write_report(path, title=f"aekit clustering of {source.name}", summary=summary, history=ae.history_,
                        extra_sections=sections)


def _profile_table(clusterer: Clusterer, source: Source, clusters: np.ndarray) -> str:
    """Per cluster: size and the features whose mean (after the model's scaling) sits furthest from the rest."""
    ae = clusterer.autoencoder_
    x = ae.model_space(source.X).astype(np.float64)
    names = ae.model_feature_names
    spread = x.std(axis=0)
    spread[spread == 0] = 1.0
    rows = []
    for c in np.unique(clusters):
        member = clusters == c
        shift = (x[member].mean(axis=0) - x.mean(axis=0)) / spread
        top = np.argsort(-np.abs(shift))[:PROFILE_FEATURES]
        rows.append({"cluster": int(c), "rows": int(member.sum()), "share": f"{member.mean():.1%}",
                     "most distinctive features (mean shift in SDs)":
                         ", ".join(f"{names[j]} {shift[j]:+.2f}" for j in top)})
    return pd.DataFrame(rows).to_html(index=False, escape=True)
