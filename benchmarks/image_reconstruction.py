"""Image reconstruction: PCA-32 vs a dense and a convolutional autoencoder with a 32-d code, at the defaults, on
two kinds of 28x28 grey images: MNIST digits (strokes) and crops of natural photographs (texture).

* ``mnist``: the 60k training images; test on the 10k test images. Then the same for a 2-d code (AE vs PCA-2).
* ``natural``: 60,000 random 28x28 crops of the 400 ``natural/train400`` images (150 per image); test on 10,000
  crops of the 68 disjoint ``natural/bsd68`` images (seeded, so every run sees the same crops).

Reports mean squared error per pixel ([0, 1] pixels) on the test images, the ratio to PCA with the same code size,
training time and time per epoch. The autoencoders are ``AutoEncoder(kind=..., latent_dim=...)`` with nothing
else set.

    python benchmarks/image_reconstruction.py                     # both sets, writes docs/benchmarks/results/image-reconstruction.md
    python benchmarks/image_reconstruction.py --only natural --no-write
    python benchmarks/image_reconstruction.py --train 5000 --skip-2d --no-write   # quick smoke run
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from _common import markdown_table, publish, section_header
from sklearn.decomposition import PCA

from aekit import AutoEncoder, datasets


CROP = 28


def natural_crops(folder: Path, n: int, seed: int) -> np.ndarray:
    """``n`` seeded random ``CROP`` x ``CROP`` crops, spread evenly over the grey PNGs in ``folder``: (n, 1, 28, 28)."""
    from PIL import Image

    files = sorted(folder.glob("*.png"))
    rng = np.random.default_rng(seed)
    per_image = np.full(len(files), n // len(files))
    per_image[: n % len(files)] += 1
    crops = []
    for file, count in zip(files, per_image):
        with Image.open(file) as img:
            pixels = np.asarray(img.convert("L"), dtype=np.float32) / np.float32(255.0)
        rows = rng.integers(0, pixels.shape[0] - CROP + 1, size=count)
        cols = rng.integers(0, pixels.shape[1] - CROP + 1, size=count)
        crops += [pixels[r : r + CROP, c : c + CROP] for r, c in zip(rows, cols)]
    return np.stack(crops)[:, None]


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "mnist":
        return datasets.load("mnist", split="train")[0], datasets.load("mnist", split="test")[0]
    root = Path(os.environ["AEKIT_DATA"]) / "natural"
    return natural_crops(root / "train400", 60_000, seed=0), natural_crops(root / "bsd68", 10_000, seed=1)


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, np.float64).reshape(len(a), -1) - b.reshape(len(b), -1)) ** 2))


def run_pca(k: int, Xtr: np.ndarray, Xte: np.ndarray) -> dict:
    t = time.perf_counter()
    pca = PCA(n_components=k, random_state=0).fit(Xtr.reshape(len(Xtr), -1))
    flat = Xte.reshape(len(Xte), -1)
    rec = pca.inverse_transform(pca.transform(flat))
    return {"mse": mse(rec, flat), "seconds": time.perf_counter() - t, "epochs": "-", "per_epoch": "-"}


def run_ae(kind: str, k: int, Xtr: np.ndarray, Xte: np.ndarray, loss: str = "auto", seed: int = 0) -> dict:
    ae = AutoEncoder(kind=kind, latent_dim=k, loss=loss, random_state=seed)
    t = time.perf_counter()
    ae.fit(Xtr)
    seconds = time.perf_counter() - t
    return {"mse": mse(ae.reconstruct(Xte), Xte), "seconds": seconds, "epochs": ae.n_iter_,
            "per_epoch": f"{ae.train_seconds_ / ae.n_iter_:.1f}", "stop": ae.stop_reason_}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--no-write", action="store_true", help="print only; write no result file")
    parser.add_argument("--skip-2d", action="store_true", help="skip the 2-d code comparison on MNIST")
    parser.add_argument("--only", choices=("mnist", "natural"), default=None, help="run one image set")
    parser.add_argument("--kinds", default="deep,conv", help="autoencoder kinds to run (design checks: one of them)")
    parser.add_argument("--loss", default="auto", help="loss for the autoencoders (design checks; default: auto)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random_state of every autoencoder, so a before/after check is not read in run-to-run "
                        "noise (about 1%% unseeded)")
    args = parser.parse_args()

    parts = [
        *section_header("Image reconstruction: MNIST and natural-image crops"),
        "Metric: mean squared error per pixel on [0, 1] pixels of the test images. Ratio: to PCA with the same code "
        f"size. Autoencoders at the estimator's defaults (random_state={args.seed}). Natural: 28x28 crops, training "
        "from natural/train400, test from the disjoint natural/bsd68.",
    ]
    for name in ([args.only] if args.only else ["mnist", "natural"]):
        Xtr, Xte = load(name)
        if args.train:
            Xtr = Xtr[: args.train]
        rows = []  # (name, result, PCA result with the same code size)
        pca32 = run_pca(32, Xtr, Xte)
        rows.append(("PCA-32", pca32, pca32))
        print(f"[{name}] PCA-32: test MSE {pca32['mse']:.5f}", flush=True)
        for kind in args.kinds.split(","):
            res = run_ae(kind, 32, Xtr, Xte, args.loss, args.seed)
            rows.append((f"AutoEncoder(kind={kind!r}, latent_dim=32)", res, pca32))
            print(f"[{name}] {kind}-32: test MSE {res['mse']:.5f} ({res['mse'] / pca32['mse']:.3f}x PCA) in "
                  f"{res['seconds']:.0f}s, {res['epochs']} epochs ({res['stop']})", flush=True)
        if name == "mnist" and not args.skip_2d:
            pca2 = run_pca(2, Xtr, Xte)
            rows.append(("PCA-2", pca2, pca2))
            ae2 = run_ae("deep", 2, Xtr, Xte, seed=args.seed)
            rows.append(("AutoEncoder(kind='deep', latent_dim=2)", ae2, pca2))
            print(f"[{name}] 2-d: PCA {pca2['mse']:.5f}, AE {ae2['mse']:.5f} in {ae2['seconds']:.0f}s", flush=True)
        table = [[n, f"{r['mse']:.5f}", f"{r['mse'] / base['mse']:.3f}", f"{r['seconds']:.0f}", r["epochs"],
                  r["per_epoch"]] for n, r, base in rows]
        mses = {n: r["mse"] for n, r, _ in rows}
        conv, deep = (mses.get(f"AutoEncoder(kind={k!r}, latent_dim=32)", float("nan")) for k in ("conv", "deep"))
        parts += ["", f"### {name}: {len(Xtr)} training / {len(Xte)} test images (conv / deep = {conv / deep:.3f})",
                  "", markdown_table(["model", "test MSE", "ratio to PCA", "fit seconds", "epochs", "seconds/epoch"],
                                     table)]
    publish("image-reconstruction", "\n".join(parts), write=not args.no_write)


if __name__ == "__main__":
    main()
