"""ADBench anomaly detection: aekit's AnomalyDetector vs PyOD's detectors, one protocol for all.

Two settings, each with its own result file (``docs/benchmarks/results/adbench.md`` and ``adbench-novelty.md``):

* ``--setting unsupervised`` (default): for every ``.npz`` in the folder (default: ``$AEKIT_DATA/adbench``):
  standardise the columns; cap at 20,000 rows with a seeded random subsample; fit unsupervised on all rows; score
  the same rows.
* ``--setting novelty`` (ADBench's semi-supervised protocol with clean training data, as used by Livernoche et
  al., ICLR 2024): train on a seeded half of the normal rows (at most 10,000); test on the other half plus every
  anomaly (a seeded subsample of at most 20,000 rows); columns standardised on the training rows. aekit runs
  with ``novelty=True``, PyOD's LOF with ``novelty=True``.

AUROC and average precision against ``y``, repeated for each seed. Detectors run at their defaults (PyOD's with
``verbose=0``), nothing is tuned per dataset. Writes the per-dataset table, mean AUROC, mean AP, mean rank and
total fit+score seconds, for the design half, the held-out half and all sets apart.

    python benchmarks/adbench.py                         # all datasets, 3 seeds, writes docs/benchmarks/results/adbench.md
    python benchmarks/adbench.py --setting novelty       # clean training data, its own section
    python benchmarks/adbench.py /path/to/other/adbench  # any folder of ADBench-format .npz files
    python benchmarks/adbench.py --only cardio,glass --seeds 1 --detectors aekit,IForest --no-write
    python benchmarks/adbench.py --setting novelty --design --no-write   # the design half only, for screens
    python benchmarks/adbench.py --setting novelty --only glass --results part1.json --no-write
    python benchmarks/adbench.py --setting novelty --merge part1.json,part2.json   # one table from parts
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
from _common import command_line, commit, markdown_table, publish, section_header
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

MAX_ROWS = 20_000
MAX_TRAIN_ROWS = 10_000  # novelty setting: normal training rows
#: The design half: every design choice of aekit's detector, in both settings, is measured on these 15 sets only (a
#: seeded half: ``np.random.default_rng(0).permutation`` of the 30 sorted file names); the other 15 are the
#: held-out half, reported apart.
DESIGN = ["14_glass", "16_http", "17_InternetAds", "19_landsat", "22_magic.gamma", "24_mnist", "25_musk",
          "31_satimage-2", "35_SpamBase", "40_vowels", "43_WDBC", "47_yeast", "5_campaign", "7_Cardiotocography",
          "8_celeba"]


def make_detector(name: str, seed: int, setting: str = "unsupervised", n_features: int | None = None):
    if name == "aekit":
        from aekit import AnomalyDetector

        return AnomalyDetector(random_state=seed, novelty=setting == "novelty")
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

        # PyOD's LOF defaults to novelty=True; the unsupervised setting scores its training rows (decision_scores_).
        return LOF(novelty=setting == "novelty")
    if name == "OCSVM":
        from pyod.models.ocsvm import OCSVM

        return OCSVM()
    if name == "DeepSVDD":
        from pyod.models.deep_svdd import DeepSVDD

        return DeepSVDD(n_features=n_features, random_state=seed, verbose=0)
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
NOVELTY_DETECTORS = ["aekit", "KNN", "LOF", "IForest", "OCSVM", "AutoEncoder", "DeepSVDD", "ECOD"]


def load(path: Path, seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path, allow_pickle=False)
    X, y = np.asarray(data["X"], dtype=np.float64), np.asarray(data["y"]).astype(int)
    if len(X) > MAX_ROWS:
        rows = np.random.default_rng(seed).choice(len(X), MAX_ROWS, replace=False)
        X, y = X[rows], y[rows]
    return StandardScaler().fit_transform(X), y


def load_novelty(path: Path, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The novelty split: ``(X_train, X_test, y_test)``. Training rows: a seeded half of the normal rows, at most
    ``MAX_TRAIN_ROWS``; test rows: the other half of the normal rows and every anomaly, a seeded subsample of at
    most ``MAX_ROWS``; columns standardised on the training rows."""
    data = np.load(path, allow_pickle=False)
    X, y = np.asarray(data["X"], dtype=np.float64), np.asarray(data["y"]).astype(int)
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(y == 0))
    half = len(normal) // 2
    train = normal[: min(half, MAX_TRAIN_ROWS)]
    test = np.r_[normal[half:], np.flatnonzero(y == 1)]
    if len(test) > MAX_ROWS:
        test = np.sort(rng.choice(test, MAX_ROWS, replace=False))
    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), scaler.transform(X[test]), y[test]


def evaluate(name: str, X: np.ndarray, y: np.ndarray, seed: int, X_test: np.ndarray | None = None) -> dict:
    """Fit on ``X``; score ``X_test`` if given (novelty), else the training rows (unsupervised); time both."""
    det = make_detector(name, seed, "unsupervised" if X_test is None else "novelty", X.shape[1])
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        det.fit(X)
        scores = det.decision_scores_ if X_test is None else det.decision_function(X_test)
    seconds = time.perf_counter() - t
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0, posinf=1e300, neginf=-1e300)
    return {"auroc": roc_auc_score(y, scores), "ap": average_precision_score(y, scores), "seconds": seconds}


def run(files: list[Path], detectors: list[str], seeds: int, setting: str) -> dict[str, dict[str, list[dict]]]:
    """Every detector on every file and seed: ``{dataset: {detector: [one result per seed]}}``."""
    results: dict[str, dict[str, list[dict]]] = {}
    for path in files:
        results[path.stem] = {d: [] for d in detectors}
        for seed in range(seeds):
            if setting == "novelty":
                X, X_test, y = load_novelty(path, seed)
                shape = f"train {X.shape[0]}x{X.shape[1]}, test {len(X_test)}"
            else:
                (X, y), X_test = load(path, seed), None
                shape = f"{X.shape[0]}x{X.shape[1]}"
            for name in detectors:
                results[path.stem][name].append(evaluate(name, X, y, seed, X_test))
        line = " ".join(f"{d}={np.mean([r['auroc'] for r in results[path.stem][d]]):.3f}" for d in detectors)
        print(f"{path.stem} ({shape}): {line}", flush=True)
    return results


def merged(paths: list[str], setting: str) -> tuple[dict, list[str], int, list[str]]:
    """Results of earlier runs (``--results`` files of the same setting, detectors and seeds) as one: the results,
    the detectors, the seeds and each part's command and commit."""
    results, detectors, seeds, parts = {}, None, None, []
    for path in paths:
        part = json.loads(Path(path).read_text())
        if part["setting"] != setting or (detectors and part["detectors"] != detectors) or \
                (seeds and part["seeds"] != seeds):
            raise SystemExit(f"{path} was run with another setting, detectors or seeds than the parts before it")
        detectors, seeds = part["detectors"], part["seeds"]
        results.update(part["results"])
        parts.append(f"`{part['command']}` at commit {part['commit']}")
    return results, detectors, seeds, parts


def table(results: dict, detectors: list[str], seeds: int, setting: str, folder: str, parts: list[str]) -> str:
    """The published result: summary (design half, held-out half, all) and per-dataset AUROC."""
    results = {f: results[f] for f in sorted(results, key=lambda f: (len(f.split("_")[0]), f))}
    auroc = np.array([[np.mean([r["auroc"] for r in results[f][d]]) for d in detectors] for f in results])
    ap = np.array([[np.mean([r["ap"] for r in results[f][d]]) for d in detectors] for f in results])
    seconds = np.array([[np.sum([r["seconds"] for r in results[f][d]]) for d in detectors] for f in results])
    ranks = np.vstack([rankdata(-row) for row in auroc])
    per_dataset = [[f, *(f"{100 * v:.1f}" for v in row)] for f, row in zip(results, auroc)]
    design = np.array([f in DESIGN for f in results])
    held = ~design

    def mean(a: np.ndarray, rows: np.ndarray, j: int) -> str:
        return f"{100 * a[rows, j].mean():.1f}" if rows.any() else "-"

    def total(rows: np.ndarray, j: int) -> str:
        return f"{seconds[rows, j].sum():.0f}" if rows.any() else "-"

    summary = [
        [d, mean(auroc, design, j), mean(auroc, held, j), f"{100 * auroc[:, j].mean():.1f}", mean(ap, design, j),
         mean(ap, held, j), f"{100 * ap[:, j].mean():.1f}", f"{ranks[:, j].mean():.2f}", f"{seconds[:, j].sum():.0f}"]
        for j, d in enumerate(detectors)
    ]
    summary.sort(key=lambda r: -float(r[3]))
    header = ["detector", "AUROC design", "AUROC held-out", "AUROC all", "AP design", "AP held-out", "AP all",
              "mean rank", "fit+score seconds"]
    if setting == "novelty":
        for row, j in zip(summary, [detectors.index(r[0]) for r in summary]):
            row[-1:] = [total(design, j), total(held, j), row[-1]]
        header[-1:] = ["seconds design", "seconds held-out", "seconds all"]
        title = "ADBench novelty detection: trained on normal rows only"
        protocol = (f"{len(results)} datasets from `{folder}/`, {seeds} seed(s). Protocol for every detector: train "
                    f"on a seeded half of the normal rows (at most {MAX_TRAIN_ROWS:,}), test on the other half plus "
                    f"every anomaly (a seeded subsample of at most {MAX_ROWS:,} rows), columns standardised on the "
                    "training rows; aekit with `novelty=True`, LOF with `novelty=True`, every detector otherwise at "
                    "its defaults. AUROC and AP in %, mean over seeds then over datasets; rank 1 = best AUROC on a "
                    "dataset; seconds = fit+score (training rows fitted, test rows scored), summed over datasets "
                    "and seeds.")
    else:
        title = "ADBench anomaly detection"
        protocol = (f"{len(results)} datasets from `{folder}/`, {seeds} seed(s). Protocol for every detector: "
                    f"standardise, cap at {MAX_ROWS:,} rows (seeded subsample), fit unsupervised on all rows, score "
                    "the same rows. AUROC and AP in %, mean over seeds then over datasets; rank 1 = best AUROC on a "
                    "dataset; seconds = fit+score, summed over datasets and seeds.")
    lines = section_header(title)
    if parts:
        lines.append(f"Results joined from {len(parts)} runs, each with every detector on its datasets: "
                     + "; ".join(parts) + "  ")
    return "\n".join([
        *lines,
        protocol,
        "",
        f"Design half ({int(design.sum())} sets, where aekit's choices were measured): "
        f"{', '.join(f for f in results if f in DESIGN)}; held-out half: the other {int(held.sum())}.",
        "",
        markdown_table(header, summary),
        "",
        "<details><summary>AUROC (%) per dataset</summary>",
        "",
        markdown_table(["dataset", *detectors], per_dataset),
        "",
        "</details>",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=None, help="folder of ADBench .npz files")
    parser.add_argument("--setting", choices=["unsupervised", "novelty"], default="unsupervised",
                        help="unsupervised: fit and score the same rows; novelty: train on normal rows only")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--detectors", default=None,
                        help=f"comma-separated (default: {','.join(DETECTORS)}; with --setting novelty: "
                        f"{','.join(NOVELTY_DETECTORS)})")
    parser.add_argument("--only", default=None, help="comma-separated substrings of dataset file names")
    half = parser.add_mutually_exclusive_group()
    half.add_argument("--design", action="store_true", help="only the design half (for screening choices)")
    half.add_argument("--held-out", action="store_true", help="only the held-out half")
    parser.add_argument("--results", default=None, help="also write every raw result to this JSON file")
    parser.add_argument("--merge", default=None, help="comma-separated --results files: one table from them, "
                        "nothing is run")
    parser.add_argument("--no-write", action="store_true", help="print only; write no result file")
    args = parser.parse_args()

    folder = Path(args.folder or Path(os.environ["AEKIT_DATA"]) / "adbench")
    section = "adbench" if args.setting == "unsupervised" else "adbench-novelty"
    if args.merge:
        results, detectors, seeds, parts = merged(args.merge.split(","), args.setting)
        publish(section, table(results, detectors, seeds, args.setting, folder.name, parts), write=not args.no_write)
        return
    files = sorted(folder.glob("*.npz"), key=lambda p: (len(p.stem.split("_")[0]), p.stem))
    if args.only:
        keys = args.only.split(",")
        files = [f for f in files if any(k in f.stem for k in keys)]
    if args.design or args.held_out:
        files = [f for f in files if (f.stem in DESIGN) == args.design]
    if not files:
        raise SystemExit(f"no .npz files in {folder}")
    detectors = (args.detectors or ",".join(NOVELTY_DETECTORS if args.setting == "novelty" else DETECTORS)).split(",")
    results = run(files, detectors, args.seeds, args.setting)
    if args.results:
        Path(args.results).write_text(json.dumps({"setting": args.setting, "detectors": detectors, "seeds": args.seeds,
                                                  "command": command_line(), "commit": commit(), "results": results},
                                                 indent=1))
    publish(section, table(results, detectors, args.seeds, args.setting, folder.name, []), write=not args.no_write)


if __name__ == "__main__":
    main()
