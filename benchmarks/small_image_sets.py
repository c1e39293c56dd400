"""Autoencoders at their defaults on small image sets: does the conv schedule planned in a fixed
number of epochs (40 at a learning rate of 1e-2) underfit when an epoch is only a few steps, and how do dense
autoencoders compare with PCA when there are only a few hundred rows?

For each dataset and training-set size, an autoencoder of ``--kind`` at the estimator's defaults (code size
included) trains on that many images drawn from the pool, and is scored on 1,000 other images (mean squared error
per pixel on [0, 1] pixels). PCA with the same code size, fitted on the same images, is the peer. With
``--baseline``, the same runs at another checkout's defaults; with ``--without-linear-path``, this checkout with
``linear_path=False`` too. One thread, as the defaults use for models this small.

    python benchmarks/small_image_sets.py                              # conv; writes docs/benchmarks/results/small-image-sets.md
    python benchmarks/small_image_sets.py --baseline /tmp/before       # also another checkout's defaults
    python benchmarks/small_image_sets.py --kind deep --without-linear-path --sets "mnist:300,1000"
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import markdown_table, publish, section_header

AT_CHECKOUT = str(Path(__file__).with_name("at_checkout.py"))
TEST_IMAGES = 1000

# Runs in a child process so that another checkout's aekit can be imported in its place.
ONE_FIT = """
import json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from aekit import AutoEncoder, datasets
name, n, seed, kind, extra = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
X = np.asarray(datasets.load(name)[0], dtype=np.float32)
order = np.random.default_rng(0).permutation(len(X))
test, pool = X[order[:%d]], order[%d:]
rows = np.random.default_rng(100 + seed).choice(pool, n, replace=False)
start = time.perf_counter()
ae = AutoEncoder(kind=kind, random_state=seed, **extra).fit(X[rows])
seconds = time.perf_counter() - start
from sklearn.decomposition import PCA
flat = lambda a: a.reshape(len(a), -1)
pca = PCA(ae.config_.latent_dim, random_state=0).fit(flat(X[rows]))
pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat(test))) - flat(test)) ** 2))
print(json.dumps({"mse": float(ae.reconstruction_error(test).mean()), "epochs": int(ae.n_iter_),
                  "seconds": seconds, "pca": pca_mse, "k": int(ae.config_.latent_dim)}))
""" % (TEST_IMAGES, TEST_IMAGES)


def one_fit(tree: Path | None, script: Path, name: str, n: int, seed: int, kind: str, extra: dict) -> dict:
    head = [sys.executable] if tree is None else [sys.executable, AT_CHECKOUT, str(tree)]
    out = subprocess.run([*head, str(script), name, str(n), str(seed), kind, json.dumps(extra)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="conv", help="autoencoder kind (default: conv)")
    parser.add_argument("--baseline", default=None, help="another aekit checkout whose defaults to run beside")
    parser.add_argument("--without-linear-path", action="store_true",
                        help="also run this checkout with linear_path=False")
    parser.add_argument("--sets", default="digits:100,300;mnist:100,1000",
                        help="datasets and sizes, 'NAME:N,N;NAME:N' (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only; write no result file")
    args = parser.parse_args()

    script = Path(f"/tmp/aekit-small-image-sets-{int(time.time())}.py")
    script.write_text(ONE_FIT)
    codes = [("this checkout", None, {})]
    codes += [("this checkout, linear_path=False", None, {"linear_path": False})] if args.without_linear_path else []
    codes += [(f"baseline {Path(args.baseline).name}", Path(args.baseline), {})] if args.baseline else []
    rows = []
    for spec in args.sets.split(";"):
        name, sizes = spec.split(":")
        for n in (int(s) for s in sizes.split(",")):
            for label, tree, extra in codes:
                fits = [one_fit(tree, script, name, n, seed, args.kind, extra) for seed in range(args.seeds)]
                cell = lambda key, fmt: " / ".join(fmt.format(f[key]) if key in f else "-" for f in fits)
                rows.append([name, n, label, cell("mse", "{:.5f}"), cell("pca", "{:.5f}"), cell("k", "{}"),
                             cell("epochs", "{}"), cell("seconds", "{:.1f}")])
                print(rows[-1], flush=True)
    script.unlink()

    body = "\n".join([
        *section_header(f"{args.kind} autoencoder on small image sets"),
        f"AutoEncoder(kind={args.kind!r}) at the estimator's defaults, trained on N images and scored on "
        f"{TEST_IMAGES:,} others (mean squared error per pixel on [0, 1] pixels), beside PCA with the same code size "
        f"k fitted on the same images; one value per seed (seeds 0 to {args.seeds - 1} set the model and the drawn "
        "images). One thread.",
        "",
        markdown_table(["data", "N", "code", "test MSE", "PCA test MSE", "k", "epochs", "fit seconds"], rows),
    ])
    section = "small-image-sets" if args.kind == "conv" else f"small-image-sets-{args.kind}"
    publish(section, body, write=not args.no_write)


if __name__ == "__main__":
    main()
