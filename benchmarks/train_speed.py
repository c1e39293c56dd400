"""Training speed of the dense 784-256-32-256-784 autoencoder on MNIST: aekit vs PyOD's AutoEncoder and a
hand-written PyTorch loop.

Same architecture (no batch norm, no dropout in PyOD), same batch size and epochs, same machine, same run.
Reports samples per second of training, their ratio, and the fraction of this machine's dense float32 matmul
throughput (measured here with large torch.mm calls) that aekit's training step achieves.

PyOD's ``fit`` ends by scoring the training set; that scoring is timed separately and subtracted, so both
numbers are training only. aekit is run without a validation split (``early_stopping=False``) for the same
reason.

    python benchmarks/train_speed.py                # writes docs/benchmarks/results/train-speed.md
    python benchmarks/train_speed.py --epochs 1 --batch-sizes 256 --no-write
    python benchmarks/train_speed.py --compare-precision --batch-sizes 32,64,128,256   # float32 vs bfloat16 only
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import markdown_table, publish, section_header

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
    """Matmul FLOPs of one training step per sample: forward (2 per multiply-add), weight gradients (2) and input
    gradients (2) for every layer but the first, whose input (the data) needs no gradient."""
    macs = d * HIDDEN + HIDDEN * LATENT + LATENT * HIDDEN + HIDDEN * d
    return 6.0 * macs - 2.0 * d * HIDDEN


def time_aekit(X: np.ndarray, epochs: int, batch: int, precision: str = "auto") -> float:
    # linear_path=False: PyOD's architecture exactly (the basic kind adds a linear path by default).
    ae = AutoEncoder(kind="basic", hidden_dims=(HIDDEN,), latent_dim=LATENT, linear_path=False, max_iter=epochs,
                     batch_size=batch, early_stopping=False, loss="mse", precision=precision, random_state=0)
    ae.fit(X)
    return len(X) * epochs / ae.train_seconds_


def time_plain_torch(X: np.ndarray, epochs: int, batch: int) -> float:
    """What a user writes by hand: the same layers in ``nn.Sequential``, ``torch.optim.Adam`` (its fused CPU
    kernel), shuffled batches sliced from one tensor (no DataLoader, whose per-row collation is far slower), float32."""
    from torch import nn

    torch.manual_seed(0)
    d = X.shape[1]
    model = nn.Sequential(nn.Linear(d, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, LATENT), nn.Linear(LATENT, HIDDEN),
                          nn.ReLU(), nn.Linear(HIDDEN, d))  # linear output and MSE, as aekit's loss="mse"
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    data = torch.from_numpy(X)
    t = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(data))
        for i in range(0, len(data), batch):
            x = data[order[i : i + batch]]
            loss = nn.functional.mse_loss(model(x), x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return len(X) * epochs / (time.perf_counter() - t)


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


def compare_precision(X: np.ndarray, epochs: int, batches: list[int]) -> None:
    time_aekit(X[:5_000], 1, batches[-1])  # warm-up
    for batch in batches:
        speeds: dict[str, list[float]] = {"float32": [], "bfloat16": []}
        for _ in range(2):
            for precision in speeds:
                speeds[precision].append(time_aekit(X, epochs, batch, precision))
        ratio = np.mean(speeds["bfloat16"]) / np.mean(speeds["float32"])
        print(f"batch {batch}: float32 {' / '.join(f'{v:,.0f}' for v in speeds['float32'])} samples/s, bfloat16 "
              f"{' / '.join(f'{v:,.0f}' for v in speeds['bfloat16'])}: bfloat16 at {ratio:.2f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-sizes", default="32,256",
                        help="comma-separated; each is run by both trainers (default: PyOD's 32 and aekit's 256)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--compare-precision", action="store_true",
                        help="print aekit's samples/s in float32 and in bfloat16 at each batch size (20,000 images, "
                             "alternated twice): what the 'auto' rule in aekit/training/precision.py rests on. "
                             "Prints only")
    args = parser.parse_args()

    X, _ = datasets.load("mnist", split="train")
    X = X.reshape(len(X), -1)
    flops = step_flops_per_sample(X.shape[1])
    peak = matmul_gflops()
    batches = [int(b) for b in args.batch_sizes.split(",")]
    if args.compare_precision:
        compare_precision(X[:20_000], args.epochs, batches)
        return
    # Warm-up (thread pools, allocator, CPU clocks) for both trainers before anything is timed.
    time_aekit(X[:10_000], 1, batches[-1])
    time_plain_torch(X[:10_000], 1, batches[-1])
    time_pyod(X[:10_000], 1, batches[-1])
    rows = []
    for batch in batches:
        ours = time_aekit(X, args.epochs, batch)
        plain = time_plain_torch(X, args.epochs, batch)
        pyod = time_pyod(X, args.epochs, batch)
        for name, speed in (("aekit AutoEncoder", ours), ("hand-written PyTorch loop", plain),
                            ("PyOD AutoEncoder", pyod)):
            gflops = speed * flops / 1e9
            rows.append([batch, name, f"{speed:,.0f}", f"{speed / pyod:.2f}", f"{gflops:.1f}", f"{gflops / peak:.1%}"])
        print(f"batch {batch}: aekit {ours:,.0f}/s, hand-written {plain:,.0f}/s, PyOD {pyod:,.0f}/s, "
              f"ratio {ours / pyod:.2f}", flush=True)
    body = "\n".join([
        *section_header("Training speed, dense 784-256-32-256-784 on MNIST"),
        f"60,000 images, {args.epochs} epochs per trainer and batch size, MSE loss, Adam, after a warm-up run of each. "
        f"Dense float32 matmul throughput measured in the same run: {peak:.1f} GFLOP/s (2048x2048 torch.mm); a "
        f"training step costs {flops / 1e6:.2f} MFLOP per sample.",
        "",
        markdown_table(["batch", "trainer", "samples/s", "ratio to PyOD", "GFLOP/s", "fraction of matmul peak"], rows),
    ])
    publish("train-speed", body, write=not args.no_write)


if __name__ == "__main__":
    main()
