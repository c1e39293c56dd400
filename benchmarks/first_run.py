"""A first run on a 2-core machine: the README's main job and a small anomaly-detection fit, alone and beside a
CPU-bound process, at this checkout's defaults, with ``OMP_NUM_THREADS=1``, and (optionally) at a baseline
checkout's defaults, all in one run.

Jobs (each a fresh process, as a user runs them):

* ``aekit train`` — the README's main job: a conv autoencoder on the bundled digits (1,797 images of 8x8). Figures:
  wall seconds of the whole command, and the mean squared reconstruction error per pixel of the saved model on all
  1,797 images.
* ``aekit detect fit cancer.csv`` — scikit-learn's breast-cancer table (569 rows, 30 columns) as CSV.

Conditions: ``alone``; ``busy`` = beside one other process spinning on one core (a pure-Python loop), started
before the job and stopped after it. A job still running after ``--limit`` seconds is stopped and shown as
``> LIMIT`` (older defaults took minutes beside a busy process).

    python benchmarks/first_run.py                                  # this checkout only, writes docs/benchmarks/results/first-run.md
    python benchmarks/first_run.py --baseline /tmp/old-checkout     # also the defaults of another checkout (repeatable)
    python benchmarks/first_run.py --baseline /tmp/filed --limit 180  # stop any job after 3 minutes
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import ROOT, markdown_table, publish, section_header

AT_CHECKOUT = str(Path(__file__).with_name("at_checkout.py"))
MEASURE_MSE = """
import sys
from aekit import AutoEncoder, datasets
X, _ = datasets.load("digits")
print(float(AutoEncoder.load(sys.argv[1], device="cpu").reconstruction_error(X).mean()))
"""


def run_job(tree: Path, args: list[str], env: dict[str, str], busy: bool, limit: float) -> float | None:
    """Wall seconds of ``aekit ARGS`` run from ``tree``; with ``busy``, beside a process spinning on one core.
    ``None`` when the job was stopped after ``limit`` seconds."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        time.sleep(0.5 if busy else 0.0)  # let the hog take its core
        start = time.perf_counter()
        try:
            subprocess.run([sys.executable, AT_CHECKOUT, str(tree), "--cli", *args], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=limit)
        except subprocess.TimeoutExpired:
            return None
        return time.perf_counter() - start
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


def digits_mse(tree: Path, run: Path, env: dict[str, str], work: Path) -> float:
    script = work / "measure_mse.py"
    script.write_text(MEASURE_MSE)
    out = subprocess.run([sys.executable, AT_CHECKOUT, str(tree), str(script), str(run)], env=env, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", action="append", default=[],
                        help="another aekit checkout to run the same jobs from (repeat for several)")
    parser.add_argument("--limit", type=float, default=600.0,
                        help="seconds after which a job is stopped and shown as '> LIMIT' (default: 600)")
    parser.add_argument("--no-write", action="store_true", help="print only; write no result file")
    args = parser.parse_args()

    from sklearn.datasets import load_breast_cancer

    work = Path(tempfile.mkdtemp(prefix="aekit-first-run-"))
    cancer = work / "cancer.csv"
    pd.DataFrame(load_breast_cancer().data, columns=load_breast_cancer().feature_names).to_csv(cancer, index=False)

    base_env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "AEKIT_NUM_THREADS")}
    variants = [("this checkout", ROOT, base_env),
                ("this checkout, OMP_NUM_THREADS=1", ROOT, {**base_env, "OMP_NUM_THREADS": "1"})]
    variants += [(f"baseline {Path(tree).name}", Path(tree), base_env) for tree in args.baseline]

    rows = []
    for name, tree, env in variants:
        for busy in (False, True):
            condition = "beside 1 busy process" if busy else "alone"
            run = work / f"digits-{len(rows)}"
            train = run_job(tree, ["train", "--out", str(run), "-q"], env, busy, args.limit)
            mse = "-" if train is None else f"{digits_mse(tree, run, env, work):.5f}"
            detect = run_job(tree, ["detect", "fit", str(cancer), "--out", str(work / f"det-{len(rows)}")], env, busy,
                             args.limit)
            seconds = lambda t: f"> {args.limit:.0f}" if t is None else f"{t:.1f}"
            rows.append([name, condition, seconds(train), mse, seconds(detect)])
            print(rows[-1], flush=True)

    body = "\n".join([
        *section_header("First run on a small machine"),
        "Wall seconds of each command as a fresh process (imports included). `aekit train`: the README's main job "
        "(conv autoencoder, bundled digits); MSE: per pixel, of the saved model on all 1,797 digits. `detect fit`: "
        "scikit-learn's breast-cancer table (569 x 30) as CSV. Busy: one other process spins on one of the 2 cores.",
        "",
        markdown_table(["code", "condition", "aekit train s", "digits MSE", "detect fit s"], rows),
    ])
    publish("first-run", body, write=not args.no_write)


if __name__ == "__main__":
    main()
