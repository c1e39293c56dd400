"""Missing-value imputation: aekit's ``Imputer`` against scikit-learn's imputers and MissForest.

Protocol, the same for every imputer: a complete numeric table (at most ``--max-rows`` rows, a seeded subsample),
values removed completely at random (MCAR) at 10%, 30% and 50%, and one missing-at-random pattern (MAR: the
first column stays observed and a row's chance of losing each other cell rises with that column's rank, 30% of
cells on average); each imputer fits and fills the same table (``fit_transform``, the common case). Metric: RMSE
on the removed entries, in units of each column's standard deviation on the complete table. Seconds:
fit+fill. Ranks: 1 = lowest RMSE on a table and pattern, averaged.

The tables are split in two fixed halves: ``DESIGN`` (where the Imputer's defaults were chosen) and ``HELD_OUT``
(run with those defaults, never used to choose them); both are reported separately and together.

    python benchmarks/imputation.py                       # 3 seeds, both halves, writes docs/benchmarks/results/imputation.md
    python benchmarks/imputation.py --seeds 1 --half design --no-write
    python benchmarks/imputation.py --csv-dir my_tables/  # any folder of complete numeric CSV files as well
    python benchmarks/imputation.py --half held-out --tables letter --max-rows 20000 --patterns "MCAR 30%" \
        --seeds 1 --only "aekit Imputer,MissForest (ExtraTrees)" --no-write   # speed on the largest table, whole
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import markdown_table, publish, section_header
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401 - enables IterativeImputer
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from aekit import Imputer
from aekit.data.datasets import data_home

DESIGN = ["breast_cancer", "wine", "29_Pima", "6_cardio", "47_yeast"]
HELD_OUT = ["letter", "spam", "12_fault", "41_Waveform", "19_landsat"]
PATTERNS = [("MCAR", 0.1), ("MCAR", 0.3), ("MCAR", 0.5), ("MAR", 0.3)]


def load_table(name: str) -> np.ndarray:
    if name == "breast_cancer":
        return load_breast_cancer().data
    if name == "wine":
        return load_wine().data
    home = Path(data_home())
    if name in ("letter", "spam"):
        return pd.read_csv(home / "tabular" / f"{name}.csv").to_numpy(dtype=np.float64)
    if Path(name).suffix == ".csv":
        return pd.read_csv(name).select_dtypes("number").to_numpy(dtype=np.float64)
    return np.load(home / "adbench" / f"{name}.npz")["X"].astype(np.float64)


def remove(X: np.ndarray, pattern: str, rate: float, rng: np.random.Generator) -> np.ndarray:
    """The mask of removed cells (True = removed); every row and column keeps at least one value."""
    if pattern == "MCAR":
        mask = rng.random(X.shape) < rate
    else:  # MAR: column 0 observed; P(missing) of the other cells grows with the rank of column 0
        rank = np.argsort(np.argsort(X[:, 0])) / max(len(X) - 1, 1)
        p = 2 * rate * rank[:, None] * np.ones((1, X.shape[1]))
        p[:, 0] = 0.0
        mask = rng.random(X.shape) < p
    mask[np.all(mask, axis=1), 0] = False
    for j in np.flatnonzero(mask.all(axis=0)):
        mask[0, j] = False
    return mask


def imputers(seed: int) -> dict[str, object]:
    return {
        "aekit Imputer": Imputer(random_state=seed),
        "mean": SimpleImputer(strategy="mean"),
        "KNN (k=5)": KNNImputer(n_neighbors=5),
        "Iterative (BayesianRidge)": IterativeImputer(max_iter=10, random_state=seed),
        "MissForest (ExtraTrees)": IterativeImputer(
            estimator=ExtraTreesRegressor(n_estimators=50, n_jobs=-1, random_state=seed), max_iter=5,
            random_state=seed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the subsample and the holes (3 by default)")
    parser.add_argument("--half", choices=["design", "held-out", "both"], default="both")
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--csv-dir", default=None, help="also every *.csv in this folder (numeric columns)")
    parser.add_argument("--only", default=None, help="comma-separated imputer names to run (default: all)")
    parser.add_argument("--tables", default=None, help="comma-separated table names to keep (default: all)")
    parser.add_argument("--patterns", default=None, help="comma-separated patterns such as 'MCAR 30%%' to keep")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    tables = {"design": DESIGN, "held-out": HELD_OUT}
    halves = ["design", "held-out"] if args.half == "both" else [args.half]
    extra = sorted(str(p) for p in Path(args.csv_dir).glob("*.csv")) if args.csv_dir else []
    records = []
    for half in halves + (["csv"] if extra else []):
        for name in tables.get(half, extra):
            if args.tables and name not in args.tables.split(","):
                continue
            full = load_table(name)
            for seed in range(args.seeds):
                rng = np.random.default_rng(seed)
                X = full[rng.permutation(len(full))[: args.max_rows]] if len(full) > args.max_rows else full
                X = X[:, X.std(axis=0) > 0]
                scale = X.std(axis=0)
                for pattern, rate in PATTERNS:
                    if args.patterns and f"{pattern} {rate:.0%}" not in args.patterns.split(","):
                        continue
                    mask = remove(X, pattern, rate, rng)
                    X_missing = np.where(mask, np.nan, X)
                    for method, imputer in imputers(seed).items():
                        if args.only and method not in args.only.split(","):
                            continue
                        start = time.perf_counter()
                        filled = np.asarray(imputer.fit_transform(X_missing), dtype=np.float64)
                        seconds = time.perf_counter() - start
                        rmse = float(np.sqrt(np.mean(((filled - X) / scale)[mask] ** 2)))
                        records.append({"half": half, "table": Path(name).stem, "pattern": f"{pattern} {rate:.0%}",
                                        "seed": seed, "method": method, "rmse": rmse, "seconds": seconds})
                        print(f"{half} {Path(name).stem} {pattern} {rate:.0%} seed {seed} {method}: "
                              f"RMSE {rmse:.4f} in {seconds:.1f} s", flush=True)
    frame = pd.DataFrame(records)
    publish("imputation", report(frame, args), write=not args.no_write)


def report(frame: pd.DataFrame, args: argparse.Namespace) -> str:
    mean = frame.groupby(["half", "table", "pattern", "method"], sort=False)[["rmse", "seconds"]].mean().reset_index()
    mean["rank"] = mean.groupby(["half", "table", "pattern"])["rmse"].rank(method="average")
    methods = list(dict.fromkeys(mean["method"]))
    lines = [
        *section_header("Missing-value imputation"),
        (f"{args.seeds} seed(s); at most {args.max_rows} rows per table (seeded subsample). RMSE on the removed "
         "entries in units of each column's standard deviation (lower is better); rank 1 = best on a table and "
         "pattern; seconds = fit+fill summed over tables and patterns. MissForest here: IterativeImputer with "
         "ExtraTreesRegressor(50 trees), 5 rounds."),
        "",
    ]
    for half in list(dict.fromkeys(mean["half"])) + ["all"]:
        part = mean if half == "all" else mean[mean["half"] == half]
        rows = []
        for m in methods:
            sub = part[part["method"] == m]
            at30 = sub[sub["pattern"] == "MCAR 30%"]["rmse"].mean()
            rows.append([m, f"{sub['rank'].mean():.2f}", f"{sub['rmse'].mean():.4f}", f"{at30:.4f}",
                         f"{sub['seconds'].sum():.1f}"])
        tables = ", ".join(dict.fromkeys(part["table"]))
        lines += [f"### {half} ({tables})", "",
                  markdown_table(["imputer", "mean rank", "mean RMSE", "mean RMSE, MCAR 30%", "seconds"], rows), ""]
    wide = mean.pivot_table(index=["table", "pattern"], columns="method", values="rmse", sort=False)[methods]
    rows = [[t, p, *(f"{v:.4f}" for v in wide.loc[(t, p)])] for t, p in wide.index]
    lines += ["<details><summary>RMSE per table and pattern</summary>", "",
              markdown_table(["table", "pattern", *methods], rows), "", "</details>"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
