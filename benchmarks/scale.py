"""Scale: training out of core on a 10-million-row Parquet table, and on MNIST with two processes (torchrun).

Part 1 writes (once, seeded) a synthetic table of 10,000,000 rows x 32 float32 columns -- a rank-4 signal plus
noise, 2% of rows shifted as anomalies -- as 10 Parquet files in row groups of 131,072 rows, then trains a
``deep`` autoencoder on it streamed from disk (``TableFiles``), in its own process, and reports that process's
peak resident memory and its training throughput; and, in the same run, the in-memory trainer's throughput on a
1-million-row slice (the first file) loaded as a DataFrame. Same model, batch size and settings; each run in a
fresh process alone, so one's memory does not count against the other.

Part 2 trains the same ``deep`` autoencoder on MNIST for the same number of epochs (no early stopping) with
``torchrun --nproc-per-node 2`` (gloo, one thread per process) and in one process with two threads, and compares
test reconstruction MSE and rows/s.

    python benchmarks/scale.py                      # both parts; writes docs/benchmarks/results/scale.md
    python benchmarks/scale.py --part 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import markdown_table, publish, section_header

ROWS, COLUMNS, FILES, ROW_GROUP = 10_000_000, 32, 10, 131_072
HERE = Path(__file__).resolve()


def write_table(folder: Path, seed: int = 0) -> None:
    """The synthetic table, file by file (memory: one file at a time); skipped when already written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = folder / "DONE"
    spec = f"{ROWS} {COLUMNS} {FILES} {ROW_GROUP} {seed}"
    if stamp.is_file() and stamp.read_text() == spec:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(4, COLUMNS)).astype(np.float32)
    per_file = ROWS // FILES
    for i in range(FILES):
        signal = rng.normal(size=(per_file, 4)).astype(np.float32) @ mixing
        x = signal + 0.3 * rng.normal(size=signal.shape).astype(np.float32)
        anomalies = rng.random(per_file) < 0.02
        x[anomalies] += rng.normal(0, 3, size=(int(anomalies.sum()), COLUMNS)).astype(np.float32)
        table = pa.table({f"x{j}": x[:, j] for j in range(COLUMNS)})
        pq.write_table(table, folder / f"part-{i:02d}.parquet", row_group_size=ROW_GROUP)
    stamp.write_text(spec)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_stream(folder: str, epochs: int) -> dict:
    from aekit import AutoEncoder
    from aekit.data import TableFiles

    t0 = time.perf_counter()
    ae = AutoEncoder(kind="deep", max_iter=epochs, random_state=0).fit(TableFiles(folder))
    wall = time.perf_counter() - t0
    rows = ae.budget_["training_rows"] * ae.n_iter_
    return {"rows_per_s": rows / ae.train_seconds_, "train_s": ae.train_seconds_, "wall_s": wall,
            "survey_s": wall - ae.train_seconds_, "peak_rss_mb": _peak_rss_mb(), "rows": rows,
            "val_loss": ae.best_loss_, "budget": ae.budget_}


def worker_memory(path: str, epochs: int) -> dict:
    import pandas as pd

    from aekit import AutoEncoder

    frame = pd.read_parquet(path)
    t0 = time.perf_counter()
    ae = AutoEncoder(kind="deep", max_iter=epochs, random_state=0).fit(frame)
    wall = time.perf_counter() - t0
    rows = ae.budget_["training_rows"] * ae.n_iter_
    return {"rows_per_s": rows / ae.train_seconds_, "train_s": ae.train_seconds_, "wall_s": wall,
            "peak_rss_mb": _peak_rss_mb(), "rows": rows, "val_loss": ae.best_loss_, "budget": ae.budget_}


def worker_mnist(epochs: int, out: str, seed: int) -> None:
    from aekit import AutoEncoder, datasets
    from aekit.training.distributed import shutdown, world

    w = world()
    X, _ = datasets.load("mnist", split="train")
    X_test, _ = datasets.load("mnist", split="test")
    ae = AutoEncoder(kind="deep", max_iter=epochs, early_stopping=False, random_state=seed)
    ae.fit(X.reshape(len(X), -1))
    if w.is_main:
        mse = float(np.mean(ae.reconstruction_error(X_test.reshape(len(X_test), -1))))
        rows = ae.budget_["training_rows"] * ae.n_iter_
        Path(out).write_text(json.dumps({"test_mse": mse, "rows_per_s": rows / ae.train_seconds_,
                                         "train_s": ae.train_seconds_, "processes": w.size,
                                         "threads": ae.budget_["threads"]}))
    shutdown()


def _run_worker(args: list[str], env: dict | None = None, launcher: list[str] | None = None) -> dict | None:
    cmd = [*(launcher or [sys.executable]), str(HERE), "--worker", *args]
    proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {args} failed with status {proc.returncode}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def part1(folder: Path, stream_epochs: int, memory_epochs: int) -> list[str]:
    t = time.perf_counter()
    write_table(folder)
    print(f"table ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    stream = _run_worker(["stream", str(folder), str(stream_epochs)])
    memory = _run_worker(["memory", str(folder / "part-00.parquet"), str(memory_epochs)])
    ratio = stream["rows_per_s"] / memory["rows_per_s"]
    rows = [
        ["streamed from 10 Parquet files", f"{ROWS:,}", stream["budget"]["training_rows"], stream["rows"],
         f"{stream['rows_per_s']:,.0f}", f"{stream['train_s']:.0f} + {stream['survey_s']:.0f}",
         f"{stream['peak_rss_mb']:,.0f}", f"{stream['val_loss']:.4f}"],
        ["in memory (DataFrame of the first file)", f"{ROWS // FILES:,}", memory["budget"]["training_rows"],
         memory["rows"], f"{memory['rows_per_s']:,.0f}", f"{memory['train_s']:.0f} + {memory['wall_s'] - memory['train_s']:.0f}",
         f"{memory['peak_rss_mb']:,.0f}", f"{memory['val_loss']:.4f}"],
    ]
    return [
        (f"Synthetic table: {ROWS:,} rows x {COLUMNS} float32 columns (rank-4 signal + noise, 2% anomalies), "
         f"{FILES} Parquet files, row groups of {ROW_GROUP:,} rows. `deep` autoencoder at its defaults (batch "
         f"{stream['budget']['batch_size']}, {stream['budget']['threads']} thread(s)), {stream_epochs} epoch(s) "
         f"streamed, {memory_epochs} in memory. Seconds: training + everything before it (streamed: the pass that "
         "fits the scaling on a sample and collects the validation rows; in memory: preprocessing the DataFrame)."),
        "",
        markdown_table(["run", "rows in data", "training rows", "rows trained", "rows/s", "seconds",
                        "peak RSS (MB)", "best val loss"], rows),
        "",
        (f"Streaming throughput is **{ratio:.0%}** of the in-memory trainer's (bar: at least 70%); peak memory "
         f"**{stream['peak_rss_mb']:,.0f} MB** (bar: below 1,500 MB) for a table of "
         f"{ROWS * COLUMNS * 4 / 1e9:.2f} GB of float32 values."),
    ]


def part2(epochs: int, seeds: int, tmp: Path) -> list[str]:
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    runs: dict[str, list[dict]] = {"one": [], "two": []}
    for seed in range(seeds):
        one, two = tmp / f"one{seed}.json", tmp / f"two{seed}.json"
        _run_worker(["mnist", str(epochs), str(one), str(seed)], env={"AEKIT_NUM_THREADS": "2"})
        _run_worker(["mnist", str(epochs), str(two), str(seed)], env={"OMP_NUM_THREADS": "1", "AEKIT_NUM_THREADS": "1"},
                    launcher=torchrun)
        runs["one"].append(json.loads(one.read_text()))
        runs["two"].append(json.loads(two.read_text()))
    mse = {k: np.array([r["test_mse"] for r in v]) for k, v in runs.items()}
    speed = {k: np.mean([r["rows_per_s"] for r in v]) for k, v in runs.items()}
    seconds = {k: np.mean([r["train_s"] for r in v]) for k, v in runs.items()}
    label = {"one": "1 process, 2 threads", "two": "torchrun --nproc-per-node 2 (gloo, 1 thread each)"}
    rows = [[label[k], f"{mse[k].mean():.5f}", " / ".join(f"{m:.5f}" for m in mse[k]), f"{speed[k]:,.0f}",
             f"{seconds[k]:.0f}"] for k in ("one", "two")]
    gap = mse["two"].mean() / mse["one"].mean() - 1
    return [
        (f"MNIST, `deep` autoencoder at its defaults, {epochs} epochs each (no early stopping; the batch is split "
         f"between the processes, so both make the same updates per epoch), seeds 0-{seeds - 1}. Test MSE on the "
         "10,000 test images."),
        "",
        markdown_table(["run", "mean test MSE", "per seed", "rows/s", "training s"], rows),
        "",
        (f"Mean test MSE differs by **{gap:+.1%}** (bar: within 5%; seeds alone move one run by up to "
         f"{(mse['one'].max() - mse['one'].min()) / mse['one'].mean():.0%}); the two-process run trains at "
         f"**{speed['two'] / speed['one']:.2f}x** the rows/s of one process with two threads."),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("1", "2", "all"), default="all")
    parser.add_argument("--dir", default="/tmp/aekit-scale", help="where the synthetic table is written (1.3 GB)")
    parser.add_argument("--stream-epochs", type=int, default=1)
    parser.add_argument("--memory-epochs", type=int, default=3)
    parser.add_argument("--mnist-epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3, help="MNIST runs per setting (seeds 0..N-1)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "mnist":
            worker_mnist(int(rest[0]), rest[1], int(rest[2]))
        else:
            result = (worker_stream if kind == "stream" else worker_memory)(rest[0], int(rest[1]))
            print(json.dumps(result))
        return
    lines = section_header("Scale: out-of-core training and two processes") + [""]
    if args.part in ("1", "all"):
        lines += ["### Streaming a table larger than the trainer keeps in memory", ""]
        lines += part1(Path(args.dir), args.stream_epochs, args.memory_epochs) + [""]
    if args.part in ("2", "all"):
        lines += ["### Two processes with torchrun", ""]
        lines += part2(args.mnist_epochs, args.seeds, Path(args.dir)) + [""]
    publish("scale", "\n".join(lines), write=not args.no_write and args.part == "all")


if __name__ == "__main__":
    main()
