"""Dense autoencoders at their defaults on tables of a few hundred to a few thousand rows, against PCA with the
same code size (small data must not get a model that reconstructs worse than a linear one).

For each table (numeric ADBench tables from ``adbench/``, labels dropped) and training size N, N rows are drawn
(seeded), the columns standardised on them, and ``AutoEncoder(kind=...)`` at its defaults (code size included)
is fitted on them, once as it comes and once with ``linear_path=False``; PCA with the autoencoder's code size is
fitted on the same rows. Metric: mean squared reconstruction error, in units of each column's variance, on
``TEST_ROWS`` other rows of the table. One thread. No table here was used to choose the defaults.

    python benchmarks/table_reconstruction.py                    # deep; writes docs/benchmarks/results/table-reconstruction-deep.md
    python benchmarks/table_reconstruction.py --kind basic --sizes 300 --no-write
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from _common import markdown_table, publish, section_header
from sklearn.decomposition import PCA

from aekit import AutoEncoder

TABLES = ("6_cardio", "12_fault", "19_landsat", "22_magic.gamma", "25_musk", "41_Waveform")
TEST_ROWS = 500


def table(name: str) -> np.ndarray:
    return np.load(Path(os.environ["AEKIT_DATA"]) / "adbench" / f"{name}.npz")["X"].astype(np.float64)


def one_size(X: np.ndarray, n: int, seed: int, kind: str) -> dict[str, float] | None:
    """Held-out MSE of the default autoencoder, the one without a linear path, and PCA; None if the table is too
    small for ``n`` training rows beside the test rows."""
    if n + TEST_ROWS > len(X):
        return None
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = X[order[:n]], X[order[n : n + TEST_ROWS]]
    mean, std = train.mean(axis=0), train.std(axis=0)
    # A column constant on these rows keeps its units: its float "std" of ~1e-16 would blow held-out rows up.
    std = np.where(std > 1e-8 * np.maximum(np.abs(mean), 1.0), std, 1.0)
    train, test = (((a - mean) / std).astype(np.float32) for a in (train, test))
    out: dict[str, float] = {}
    start = time.perf_counter()
    ae = AutoEncoder(kind=kind, random_state=seed).fit(train)
    out["seconds"] = time.perf_counter() - start
    out["default"] = float(np.mean((ae.reconstruct(test) - test) ** 2))
    plain = AutoEncoder(kind=kind, linear_path=False, random_state=seed).fit(train)
    out["no_path"] = float(np.mean((plain.reconstruct(test) - test) ** 2))
    pca = PCA(ae.config_.latent_dim, random_state=0).fit(train)
    out["pca"] = float(np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2))
    out["k"] = ae.config_.latent_dim
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="deep")
    parser.add_argument("--sizes", default="300,1000,3000", help="training rows (default: %(default)s)")
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only; write no result file")
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows, ratios = [], {"default": [], "no_path": []}
    for name in args.tables.split(","):
        X = table(name)
        for n in (int(s) for s in args.sizes.split(",")):
            runs = [r for r in (one_size(X, n, seed, args.kind) for seed in range(args.seeds)) if r is not None]
            if not runs:
                continue
            mean = {key: float(np.mean([r[key] for r in runs])) for key in ("default", "no_path", "pca", "seconds")}
            for key in ratios:
                ratios[key].append(mean[key] / mean["pca"])
            rows.append([name, X.shape[1], n, runs[0]["k"], f"{mean['default']:.4f}", f"{mean['no_path']:.4f}",
                         f"{mean['pca']:.4f}", f"{mean['default'] / mean['pca']:.2f}",
                         f"{mean['no_path'] / mean['pca']:.2f}", f"{mean['seconds']:.1f}"])
            print(rows[-1], flush=True)
    geo = {key: float(np.exp(np.mean(np.log(v)))) for key, v in ratios.items()}
    body = "\n".join([
        *section_header(f"Dense autoencoder ({args.kind}) on small tables, against PCA"),
        f"AutoEncoder(kind={args.kind!r}) at its defaults, with and without its linear path, and PCA with the same "
        f"code size k, each fitted on N rows (columns standardised on them) and scored on {TEST_ROWS} other rows: "
        f"mean squared error in units of each column's variance, mean over {args.seeds} seeds. Ratios: to PCA. "
        f"Geometric mean of the ratios over the {len(rows)} rows: **default {geo['default']:.2f}x PCA, without the "
        f"linear path {geo['no_path']:.2f}x**. One thread; seconds: the default's fit.",
        "",
        markdown_table(["table", "columns", "N", "k", "default", "linear_path=False", "PCA", "default / PCA",
                        "no path / PCA", "fit seconds"], rows),
    ])
    publish(f"table-reconstruction-{args.kind}", body, write=not args.no_write)


if __name__ == "__main__":
    main()
