"""Training speed of the dense 784-256-32-256-784 autoencoder on MNIST: aekit vs PyOD's AutoEncoder.

Same architecture (no batch norm, no dropout in PyOD), same batch size and epochs, same machine, same run.
Reports samples per second of training, their ratio, and the fraction of this machine's dense float32 matmul
throughput (measured here with large torch.mm calls) that aekit's training step achieves.

PyOD's ``fit`` ends by scoring the training set; that scoring is timed separately and subtracted, so both
numbers are training only. aekit is run without a validation split (``early_stopping=False``) for the same
reason.

    python benchmarks/train_speed.py                # writes BENCHMARKS.md
    python benchmarks/train_speed.py --epochs 1 --no-write
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import command_line, machine, markdown_table, update_section

from aekit import AutoEncoder, datasets

HIDDEN, LATENT = 256, 32


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    t = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9


def step_flops_per_sample(d: int) -> float:
    """Forward + backward of the four linear layers: about 3 x 2 x multiply-adds."""
    macs = d * HIDDEN + HIDDEN * LATENT + LATENT * HIDDEN + HIDDEN * d
    return 6.0 * macs


def time_aekit(X: np.ndarray, epochs: int, batch: int) -> float:
    ae = AutoEncoder(kind="basic", hidden_dims=(HIDDEN,), latent_dim=LATENT, max_iter=epochs, batch_size=batch,
                     early_stopping=False, loss="mse", random_state=0)
    ae.fit(X)
    return len(X) * epochs / ae.train_seconds_


def time_pyod(X: np.ndarray, epochs: int, batch: int) -> float:
    from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder

    det = PyODAutoEncoder(hidden_neuron_list=[HIDDEN, LATENT], batch_norm=False, dropout_rate=0.0,
                          epoch_num=epochs, batch_size=batch, lr=1e-3, verbose=0, random_state=0)
    t = time.perf_counter()
    det.fit(X)
    fit_seconds = time.perf_counter() - t
    t = time.perf_counter()
    det.decision_function(X)
    score_seconds = time.perf_counter() - t
    # drop_last=True in PyOD's loader: it trains on whole batches only.
    return (len(X) // batch) * batch * epochs / (fit_seconds - score_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    X, _ = datasets.load("mnist", split="train")
    X = X.reshape(len(X), -1)
    peak = matmul_gflops()
    ours = time_aekit(X, args.epochs, args.batch_size)
    pyod = time_pyod(X, args.epochs, args.batch_size)
    ours_gflops = ours * step_flops_per_sample(X.shape[1]) / 1e9
    pyod_gflops = pyod * step_flops_per_sample(X.shape[1]) / 1e9
    rows = [
        ["aekit AutoEncoder", f"{ours:,.0f}", f"{ours / pyod:.2f}", f"{ours_gflops:.1f}", f"{ours_gflops / peak:.1%}"],
        ["PyOD AutoEncoder", f"{pyod:,.0f}", "1.00", f"{pyod_gflops:.1f}", f"{pyod_gflops / peak:.1%}"],
    ]
    body = "\n".join([
        "## Training speed, dense 784-256-32-256-784 on MNIST (issue 2)",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}  ",
        f"60,000 images, batch {args.batch_size}, {args.epochs} epochs each, MSE loss, Adam. Dense float32 matmul "
        f"throughput measured in the same run: {peak:.1f} GFLOP/s (2048x2048 torch.mm).",
        "",
        markdown_table(["trainer", "samples/s", "ratio to PyOD", "GFLOP/s", "fraction of matmul peak"], rows),
    ])
    print(body)
    if not args.no_write:
        update_section("train-speed", body)


if __name__ == "__main__":
    main()
