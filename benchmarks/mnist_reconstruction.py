"""MNIST reconstruction: PCA-32 vs a dense and a convolutional autoencoder with a 32-d code, at the defaults.

Trains on the 60k training images, reports mean squared error per pixel ([0, 1] pixels) on the 10k test
images, the ratio to PCA-32, training time and time per epoch; then the same for a 2-d code (AE vs PCA-2).
The autoencoders are ``AutoEncoder(kind=..., latent_dim=...)`` with nothing else set.

    python benchmarks/mnist_reconstruction.py            # full run, writes BENCHMARKS.md
    python benchmarks/mnist_reconstruction.py --train 5000 --no-write   # quick smoke run
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import command_line, machine, markdown_table, publish
from sklearn.decomposition import PCA

from aekit import AutoEncoder, datasets


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, np.float64).reshape(len(a), -1) - b.reshape(len(b), -1)) ** 2))


def run_pca(k: int, Xtr: np.ndarray, Xte: np.ndarray) -> dict:
    t = time.perf_counter()
    pca = PCA(n_components=k, random_state=0).fit(Xtr.reshape(len(Xtr), -1))
    flat = Xte.reshape(len(Xte), -1)
    rec = pca.inverse_transform(pca.transform(flat))
    return {"mse": mse(rec, flat), "seconds": time.perf_counter() - t, "epochs": "-", "per_epoch": "-"}


def run_ae(kind: str, k: int, Xtr: np.ndarray, Xte: np.ndarray) -> dict:
    ae = AutoEncoder(kind=kind, latent_dim=k)
    t = time.perf_counter()
    ae.fit(Xtr)
    seconds = time.perf_counter() - t
    return {"mse": mse(ae.reconstruct(Xte), Xte), "seconds": seconds, "epochs": ae.n_iter_,
            "per_epoch": f"{ae.train_seconds_ / ae.n_iter_:.1f}", "stop": ae.stop_reason_}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--skip-2d", action="store_true", help="skip the 2-d code comparison")
    args = parser.parse_args()

    Xtr, _ = datasets.load("mnist", split="train")
    Xte, _ = datasets.load("mnist", split="test")
    if args.train:
        Xtr = Xtr[: args.train]
    rows = []  # (name, result, PCA result with the same code size)
    pca32 = run_pca(32, Xtr, Xte)
    rows.append(("PCA-32", pca32, pca32))
    print(f"PCA-32: test MSE {pca32['mse']:.5f}", flush=True)
    for kind in ("deep", "conv"):
        res = run_ae(kind, 32, Xtr, Xte)
        rows.append((f"AutoEncoder(kind={kind!r}, latent_dim=32)", res, pca32))
        print(f"{kind}-32: test MSE {res['mse']:.5f} ({res['mse'] / pca32['mse']:.3f}x PCA) in {res['seconds']:.0f}s, "
              f"{res['epochs']} epochs ({res['stop']})", flush=True)
    if not args.skip_2d:
        pca2 = run_pca(2, Xtr, Xte)
        rows.append(("PCA-2", pca2, pca2))
        ae2 = run_ae("deep", 2, Xtr, Xte)
        rows.append(("AutoEncoder(kind='deep', latent_dim=2)", ae2, pca2))
        print(f"2-d: PCA {pca2['mse']:.5f}, AE {ae2['mse']:.5f} in {ae2['seconds']:.0f}s", flush=True)

    table = []
    for name, r, base in rows:
        table.append([name, f"{r['mse']:.5f}", f"{r['mse'] / base['mse']:.3f}", f"{r['seconds']:.0f}", r["epochs"],
                      r["per_epoch"]])
    body = "\n".join([
        "## MNIST reconstruction (issue 2)",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"Train: {len(Xtr)} images; test: {len(Xte)} images; metric: mean squared error per pixel on [0, 1] pixels "
        "(test set). Ratio: to PCA with the same code size. Autoencoders at the estimator's defaults.",
        "",
        markdown_table(["model", "test MSE", "ratio to PCA", "fit seconds", "epochs", "seconds/epoch"], table),
    ])
    publish("mnist-reconstruction", body, write=not args.no_write)


if __name__ == "__main__":
    main()
