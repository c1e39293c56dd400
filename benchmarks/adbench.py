"""ADBench anomaly detection: aekit's AnomalyDetector vs PyOD's detectors, one protocol for all.

For every ``.npz`` in the folder (default: ``$AEKIT_DATA/adbench``): standardise the columns; cap at 20,000 rows
with a seeded random subsample; fit unsupervised on all rows; score the same rows; AUROC and average precision
against ``y``; repeated for each seed. Detectors run at their defaults (PyOD's with ``verbose=0``), nothing is
tuned per dataset. Writes the per-dataset table, mean AUROC, mean AP, mean rank and total fit+score seconds.

    python benchmarks/adbench.py                         # all datasets, 3 seeds, writes docs/benchmarks/results/adbench.md
    python benchmarks/adbench.py /path/to/other/adbench  # any folder of ADBench-format .npz files
    python benchmarks/adbench.py --only cardio,glass --seeds 1 --detectors aekit,IForest --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
from _common import markdown_table, publish, section_header
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

MAX_ROWS = 20_000
#: The design half: every design choice of aekit's detector is measured on these 15 sets only (a
#: seeded half: ``np.random.default_rng(0).permutation`` of the 30 sorted file names); the other 15 are the
#: held-out half, reported apart.
DESIGN = ["14_glass", "16_http", "17_InternetAds", "19_landsat", "22_magic.gamma", "24_mnist", "25_musk",
          "31_satimage-2", "35_SpamBase", "40_vowels", "43_WDBC", "47_yeast", "5_campaign", "7_Cardiotocography",
          "8_celeba"]


def make_detector(name: str, seed: int):
    if name == "aekit":
        from aekit import AnomalyDetector

        return AnomalyDetector(random_state=seed)
    if name == "IForest":
        from pyod.models.iforest import IForest

        return IForest(random_state=seed)
    if name == "ECOD":
        from pyod.models.ecod import ECOD

        return ECOD()
    if name == "PCA":
        from pyod.models.pca import PCA

        return PCA(random_state=seed)
    if name == "KNN":
        from pyod.models.knn import KNN

        return KNN()
    if name == "LOF":
        from pyod.models.lof import LOF

        return LOF()
    if name == "COPOD":
        from pyod.models.copod import COPOD

        return COPOD()
    if name == "AutoEncoder":
        from pyod.models.auto_encoder import AutoEncoder

        return AutoEncoder(random_state=seed, verbose=0)
    if name == "VAE":
        from pyod.models.vae import VAE

        return VAE(random_state=seed, verbose=0)
    raise ValueError(f"unknown detector {name!r}")


DETECTORS = ["aekit", "IForest", "ECOD", "COPOD", "PCA", "KNN", "LOF", "AutoEncoder", "VAE"]


def load(path: Path, seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path, allow_pickle=False)
    X, y = np.asarray(data["X"], dtype=np.float64), np.asarray(data["y"]).astype(int)
    if len(X) > MAX_ROWS:
        rows = np.random.default_rng(seed).choice(len(X), MAX_ROWS, replace=False)
        X, y = X[rows], y[rows]
    return StandardScaler().fit_transform(X), y


def evaluate(name: str, X: np.ndarray, y: np.ndarray, seed: int) -> dict:
    det = make_detector(name, seed)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        det.fit(X)
    seconds = time.perf_counter() - t
    scores = np.nan_to_num(np.asarray(det.decision_scores_, dtype=np.float64), nan=0.0, posinf=1e300, neginf=-1e300)
    return {"auroc": roc_auc_score(y, scores), "ap": average_precision_score(y, scores), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=None, help="folder of ADBench .npz files")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    parser.add_argument("--only", default=None, help="comma-separated substrings of dataset file names")
    parser.add_argument("--results", default=None, help="also write every raw result to this JSON file")
    parser.add_argument("--no-write", action="store_true", help="print only; write no result file")
    args = parser.parse_args()

    folder = Path(args.folder or Path(os.environ["AEKIT_DATA"]) / "adbench")
    files = sorted(folder.glob("*.npz"), key=lambda p: (len(p.stem.split("_")[0]), p.stem))
    if args.only:
        keys = args.only.split(",")
        files = [f for f in files if any(k in f.stem for k in keys)]
    if not files:
        raise SystemExit(f"no .npz files in {folder}")
    detectors = args.detectors.split(",")
    results: dict[str, dict[str, list[dict]]] = {}
    for path in files:
        results[path.stem] = {d: [] for d in detectors}
        for seed in range(args.seeds):
            X, y = load(path, seed)
            for name in detectors:
                results[path.stem][name].append(evaluate(name, X, y, seed))
        line = " ".join(f"{d}={np.mean([r['auroc'] for r in results[path.stem][d]]):.3f}" for d in detectors)
        print(f"{path.stem} ({X.shape[0]}x{X.shape[1]}): {line}", flush=True)
    if args.results:
        Path(args.results).write_text(json.dumps(results, indent=1))

    auroc = np.array([[np.mean([r["auroc"] for r in results[f][d]]) for d in detectors] for f in results])
    ap = np.array([[np.mean([r["ap"] for r in results[f][d]]) for d in detectors] for f in results])
    seconds = np.array([[np.sum([r["seconds"] for r in results[f][d]]) for d in detectors] for f in results])
    ranks = np.vstack([rankdata(-row) for row in auroc])
    per_dataset = [[f, *(f"{100 * v:.1f}" for v in row)] for f, row in zip(results, auroc)]
    design = np.array([f in DESIGN for f in results])
    held = ~design

    def mean(a: np.ndarray, rows: np.ndarray, j: int) -> str:
        return f"{100 * a[rows, j].mean():.1f}" if rows.any() else "-"

    summary = [
        [d, mean(auroc, design, j), mean(auroc, held, j), f"{100 * auroc[:, j].mean():.1f}", mean(ap, design, j),
         mean(ap, held, j), f"{100 * ap[:, j].mean():.1f}", f"{ranks[:, j].mean():.2f}", f"{seconds[:, j].sum():.0f}"]
        for j, d in enumerate(detectors)
    ]
    summary.sort(key=lambda r: -float(r[3]))
    body = "\n".join([
        *section_header("ADBench anomaly detection"),
        f"{len(files)} datasets from `{folder.name}/`, {args.seeds} seed(s). Protocol for every detector: standardise, "
        f"cap at {MAX_ROWS:,} rows (seeded subsample), fit unsupervised on all rows, score the same rows. AUROC and "
        "AP in %, mean over seeds then over datasets; rank 1 = best AUROC on a dataset; seconds = fit+score, "
        "summed over datasets and seeds.",
        "",
        f"Design half ({int(design.sum())} sets, where aekit's choices were measured): "
        f"{', '.join(f for f in results if f in DESIGN)}; held-out half: the other {int(held.sum())}.",
        "",
        markdown_table(["detector", "AUROC design", "AUROC held-out", "AUROC all", "AP design", "AP held-out",
                        "AP all", "mean rank", "fit+score seconds"], summary),
        "",
        "<details><summary>AUROC (%) per dataset</summary>",
        "",
        markdown_table(["dataset", *detectors], per_dataset),
        "",
        "</details>",
    ])
    publish("adbench", body, write=not args.no_write)


if __name__ == "__main__":
    main()
