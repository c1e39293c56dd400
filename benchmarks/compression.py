"""Learned compression on MNIST: aekit's codec against JPEG, WebP, AVIF and PNG, one image per file.

aekit's codec is trained on the 60,000 MNIST training images at several ``lmbda`` (quality against size); every
codec then compresses the first 1,000 test images, each to its own file (every byte counted: header included,
codec weights not), and also all of them into one file (aekit's many-image layout). Classical codecs are Pillow's
JPEG, WebP and AVIF at a range of qualities, in grey ("L") mode, and PNG (lossless) as a reference. The learned
peer, with ``--compressai-python``: CompressAI's factorized-prior model (benchmarks/compressai_peer.py, in its own
environment) trained on the same images for aekit's mean training seconds per codec. Distortion: PSNR (per image,
then averaged) and SSIM (scikit-image). Rates at a given PSNR are interpolated on each codec's curve (linearly in
log bytes between the two settings around it). Speed: aekit's compress + decompress of the 1,000 images, one file
each, in images per second. Same run, same images, same machine.

A second domain, ``--domain natural``: the same comparison on 32x32 crops of grey photographs -- 60,000 seeded
random crops of ``natural/train400`` to train on, 1,000 of ``natural/bsd68`` (disjoint images) to test on. Images
unlike digits, where a small learned codec has less of a head start; its own result (``compression-natural``).

    python benchmarks/compression.py --compressai-python /path/to/venv/bin/python   # writes docs/benchmarks/results/ + plot
    python benchmarks/compression.py --lmbdas 30,300 --epochs 2 --no-write
    python benchmarks/compression.py --domain natural --lmbdas 300,1000,3000
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, ROOT, figure_link, markdown_table, publish, section_header
from PIL import Image
from skimage.metrics import structural_similarity

from aekit import Codec, datasets
from aekit.data.images import find_images, read_image
from aekit.metrics import psnr

QUALITIES = {
    "JPEG": (5, 10, 20, 30, 40, 50, 60, 75, 90, 95),
    "WebP": (0, 5, 10, 20, 30, 40, 50, 70, 90),
    "AVIF": (0, 10, 20, 30, 40, 50, 60, 70, 90),
}
CROP, TRAIN_CROPS = 32, 60_000  # the natural domain's crop size and training crops


def natural_crops(folder: Path, count: int, seed: int) -> np.ndarray:
    """``count`` seeded random CROP x CROP crops of the grey images in ``folder``, uint8 ``(count, CROP, CROP)``."""
    images = [np.rint(read_image(f, grayscale=True)[0] * 255).astype(np.uint8) for f in find_images(folder)]
    rng = np.random.default_rng(seed)
    crops = []
    for i in rng.integers(len(images), size=count):
        h, w = images[i].shape
        r, c = rng.integers(h - CROP + 1), rng.integers(w - CROP + 1)
        crops.append(images[i][r : r + CROP, c : c + CROP])
    return np.stack(crops)


def domain_images(domain: str, n_test: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Training and test images (uint8, ``(n, h, w)``) of a domain, and how to name them in the section."""
    if domain == "natural":
        home = Path(os.environ["AEKIT_DATA"]) / "natural"
        return (natural_crops(home / "train400", TRAIN_CROPS, seed=0), natural_crops(home / "bsd68", n_test, seed=1),
                f"{CROP}x{CROP} crops of grey photographs (BSD68)")
    X, _ = datasets.load("mnist", split="train")
    X_test, _ = datasets.load("mnist", split="test")
    return (np.rint(X[:, 0] * 255).astype(np.uint8), np.rint(X_test[:n_test, 0] * 255).astype(np.uint8),
            "MNIST test images")


def ssim(reference: np.ndarray, decoded: np.ndarray) -> float:
    return float(np.mean([structural_similarity(a, b, data_range=255) for a, b in zip(reference, decoded)]))


def classical(images: np.ndarray, fmt: str, quality: int | None) -> tuple[float, np.ndarray]:
    """Mean bytes per image and the decoded images for a Pillow format."""
    sizes, decoded = [], []
    for img in images:
        buf = io.BytesIO()
        if fmt == "PNG":
            Image.fromarray(img).save(buf, format="PNG", optimize=True)
        else:
            Image.fromarray(img).save(buf, format=fmt, quality=quality)
        sizes.append(buf.tell())
        buf.seek(0)
        decoded.append(np.asarray(Image.open(buf).convert("L")))
    return float(np.mean(sizes)), np.stack(decoded)


def bytes_at(points: list[tuple[float, float]], target: float) -> float | None:
    """Bytes at ``target`` PSNR on a curve of (psnr, bytes) points: log-linear between the neighbours around it
    (None when the curve does not reach it)."""
    pts = sorted(points)
    for (p0, b0), (p1, b1) in zip(pts, pts[1:]):
        if p0 <= target <= p1 and p1 > p0:
            t = (target - p0) / (p1 - p0)
            return float(np.exp(np.log(b0) + t * (np.log(b1) - np.log(b0))))
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lmbdas", default="100,300,1000,3000", help="aekit codecs to train")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs per aekit codec (default: the "
                        "codec's own, sized to the data)")
    parser.add_argument("--compressai-python", default=None, metavar="PYTHON",
                        help="a Python with compressai installed: adds CompressAI's factorized-prior model")
    parser.add_argument("--compressai-lmbdas", default="0.0035,0.0130,0.0483", help="its lambdas (CompressAI's scale)")
    parser.add_argument("--images", type=int, default=1000, help="test images compressed")
    parser.add_argument("--domain", choices=("mnist", "natural"), default="mnist",
                        help="mnist (where the bars are set) or natural: 32x32 crops of grey photographs")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    train, test, what = domain_images(args.domain, args.images)
    mnist = args.domain == "mnist"
    plot = RESULTS / ("compression_rd.png" if mnist else f"compression_{args.domain}_rd.png")

    rows, curves = [], {}
    png_bytes, _ = classical(test, "PNG", None)
    rows.append(["PNG (lossless)", "-", f"{png_bytes:.1f}", "-", "inf", "1.000"])
    for fmt, qualities in QUALITIES.items():
        curves[fmt] = []
        for q in qualities:
            size, decoded = classical(test, fmt, q)
            p = float(psnr(test, decoded).mean())
            curves[fmt].append((p, size))
            rows.append([fmt, f"quality {q}", f"{size:.1f}", "-", f"{p:.2f}", f"{ssim(test, decoded):.3f}"])
        print(fmt, "done", flush=True)

    curves["aekit"] = []
    speeds, weights, seconds = [], [], []
    for lm in (float(v) for v in args.lmbdas.split(",")):
        codec = Codec(lmbda=lm, max_iter=args.epochs, random_state=0).fit(train)
        seconds.append(codec.train_seconds_)
        t = time.perf_counter()
        files = codec.compress_each(test)
        decoded = codec.decompress(files)
        speeds.append(len(test) / (time.perf_counter() - t))
        size, many = float(np.mean([len(f) for f in files])), len(codec.compress(test)) / len(test)
        p = float(psnr(test, decoded).mean())
        curves["aekit"].append((p, size))
        rows.append(["aekit codec", f"lmbda {lm:g}, {codec.n_iter_} epochs", f"{size:.1f}", f"{many:.1f}", f"{p:.2f}",
                     f"{ssim(test, decoded):.3f}"])
        weights.append(sum(v.numel() * v.element_size() for v in codec.model_.state_dict().values()))
        print(f"aekit lmbda {lm:g}: {size:.1f} B, {p:.2f} dB, {codec.train_seconds_:.0f} s", flush=True)

    peer_note = "CompressAI's factorized-prior model was not run (no --compressai-python)."
    if args.compressai_python:
        curves["CompressAI"] = []
        budget = float(np.mean(seconds))
        with tempfile.TemporaryDirectory() as tmp:
            np.save(f"{tmp}/train.npy", train)
            np.save(f"{tmp}/test.npy", test)
            for lm in args.compressai_lmbdas.split(","):
                subprocess.run([args.compressai_python, str(ROOT / "benchmarks" / "compressai_peer.py"), "--train",
                                f"{tmp}/train.npy", "--test", f"{tmp}/test.npy", "--lmbda", lm, "--seconds",
                                f"{budget:.0f}", "--out", f"{tmp}/peer.npz"], check=True)
                peer = np.load(f"{tmp}/peer.npz")
                size, decoded = float(peer["sizes"].mean()), peer["decoded"]
                p = float(psnr(test, decoded).mean())
                curves["CompressAI"].append((p, size))
                rows.append(["CompressAI factorized prior", f"lambda {lm}, {int(peer['steps'])} steps",
                             f"{size:.1f}", "-", f"{p:.2f}", f"{ssim(test, decoded):.3f}"])
                print(f"CompressAI lambda {lm}: {size:.1f} B, {p:.2f} dB", flush=True)
        peer_note = (f"CompressAI's factorized-prior model (N=128, M=192, one grey channel) trained {budget:.0f} s per "
                     "lambda, aekit's mean training time per codec; its sizes are its byte strings alone (no header).")

    jpeg75 = float(dict((q, p) for q, (p, _) in zip(QUALITIES["JPEG"], curves["JPEG"]))[75])
    summary = []
    for target, label in ((28.0, "28 dB"), (jpeg75, f"{jpeg75:.2f} dB (JPEG quality 75)")):
        at = {name: bytes_at(points, target) for name, points in curves.items()}
        classical_best = min((v, k) for k, v in at.items() if k in QUALITIES and v is not None)
        ours = at["aekit"]
        ratio = f"**{ours / classical_best[0]:.2f}x**" if ours else "not reached"
        summary.append([label, *(f"{at[k]:.1f}" if at.get(k) else "-" for k in ("JPEG", "WebP", "AVIF", "CompressAI",
                                                                                 "aekit")),
                        f"{classical_best[1]}", ratio])

    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, points in curves.items():
        pts = sorted(points)
        ax.plot([b for _, b in pts], [p for p, _ in pts], marker="o", label=name, lw=2 if name == "aekit" else 1)
    ax.axvline(png_bytes, color="grey", ls=":", label="PNG (lossless)")
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("bytes per image (one file each)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(f"{len(test)} {what}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()

    title = ("Compression: a learned codec on MNIST against JPEG, WebP and AVIF" if mnist else
             "Compression, a second domain: natural-image crops")
    trained_on = ("the 60,000 training images" if mnist else
                  f"{len(train):,} seeded {CROP}x{CROP} crops of natural/train400 (the test crops come from the disjoint "
                  "natural/bsd68)")
    lines = section_header(title) + [
        "",
        f"{len(test)} {what}, one file each (bytes include every header; aekit's codec weights, "
        f"{np.mean(weights) / 1e6:.2f} MB, are not counted). aekit codecs trained on {trained_on} "
        f"({np.mean(seconds):.0f} s per codec here). Compress + decompress speed, one file per image: "
        f"{np.mean(speeds):,.0f} images/s (bar: 2,000). {peer_note}",
        "",
        "Bytes per image at a given PSNR (interpolated on each curve):",
        "",
        markdown_table(["PSNR", "JPEG", "WebP", "AVIF", "CompressAI", "aekit", "best classical",
                        "aekit / best classical"], summary),
        "",
        "Bars: at most 0.25x the best classical codec's bytes at 28 dB, at most 0.5x at JPEG quality 75's PSNR." if mnist
        else "No bars here: the bars above are for MNIST; this domain shows how far the codec carries.",
        "",
        figure_link(plot, "rate-distortion"),
        "",
        "<details><summary>Every setting</summary>",
        "",
        markdown_table(["codec", "setting", "bytes per image (one file each)", "bytes per image (one file for all)",
                        "PSNR (dB)", "SSIM"], rows),
        "",
        "</details>",
    ]
    publish("compression" if mnist else f"compression-{args.domain}", "\n".join(lines), write=not args.no_write)
    if not args.no_write:  # after the result: its header names the commit, which the new plot must not mark dirty
        plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(plot, dpi=110)


if __name__ == "__main__":
    main()
