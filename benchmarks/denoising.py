"""Image denoising: aekit's Denoiser against classical denoisers, BM3D and a reference learned denoiser.

digits (MNIST): Gaussian noise of σ = 0.3, 0.5, 0.7 on [0, 1] pixels, clipped to [0, 1], seeded. aekit's
``Denoiser`` is trained at its defaults on the 60,000 training images for each σ; the reference learned denoiser
is the convolutional denoising autoencoder of the Keras blog ("Building Autoencoders in Keras": two 3x3 convs of
32 filters with max-pooling to a 7x7x32 code, mirrored with up-sampling, sigmoid output, binary cross-entropy),
written here in plain PyTorch and trained with Adam for the same wall-clock seconds as aekit's run. The classical
denoisers (scikit-image's non-local means, total variation and wavelet shrinkage; BM3D from the ``bm3d`` package)
get their strength tuned per σ on 60 noisy training images (a validation slice), then run on the test images.
Everything is scored on the same test images (the first ``--test`` of MNIST's test set): PSNR and SSIM per image,
averaged.

natural (``--part natural``): grey photographs, training on ``natural/train400`` (random crops), test on
``natural/bsd68``, σ = 15, 25, 50 on the 0..255 scale, against BM3D with σ known; aekit trains for ``--minutes``.

    python benchmarks/denoising.py                       # digits; writes docs/benchmarks/results/denoising-digits.md
    python benchmarks/denoising.py --part natural --sigmas 25 --minutes 60
    python benchmarks/denoising.py --sigmas 0.5 --test 500 --epochs 1 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _common import markdown_table, publish, section_header
from skimage.metrics import structural_similarity
from torch import nn

from aekit import Denoiser, datasets
from aekit.data.images import find_images, read_image
from aekit.metrics import psnr

VALIDATION = 60


def noisy_copy(images: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(images + sigma * rng.standard_normal(images.shape).astype(np.float32), 0, 1).astype(np.float32)


def ssim(reference: np.ndarray, estimate: np.ndarray) -> float:
    return float(np.mean([structural_similarity(a[0], b[0], data_range=1.0) for a, b in zip(reference, estimate)]))


# ------------------------------------------------------------------------------------------ classical denoisers
def _nl_means(img: np.ndarray, s: float, sigma: float) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    return denoise_nl_means(img, h=s * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)


def _tv(img: np.ndarray, s: float, sigma: float) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(img, weight=s * sigma)


def _wavelet(img: np.ndarray, s: float, sigma: float) -> np.ndarray:
    from skimage.restoration import denoise_wavelet

    return denoise_wavelet(img, sigma=s * sigma, method="BayesShrink", mode="soft", rescale_sigma=True)


def _bm3d(img: np.ndarray, s: float, sigma: float) -> np.ndarray:
    import bm3d

    return bm3d.bm3d(img, sigma_psd=s * sigma)


#: name -> (function of (image, strength multiplier, sigma), multipliers of sigma tried on the validation slice)
CLASSICAL = {
    "non-local means (scikit-image)": (_nl_means, (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0)),
    "total variation (scikit-image)": (_tv, (0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2)),
    "wavelet, BayesShrink (scikit-image)": (_wavelet, (0.2, 0.3, 0.4, 0.5, 0.75, 1.0)),
    "BM3D (bm3d)": (_bm3d, (0.3, 0.45, 0.6, 0.8, 1.0)),
}


def apply_each(fn, images: np.ndarray, s: float, sigma: float) -> np.ndarray:
    return np.stack([np.clip(fn(im[0].astype(np.float64), s, sigma), 0, 1)[None] for im in images]).astype(np.float32)


def tuned(fn, grid, val_clean, val_noisy, sigma) -> float:
    scores = [psnr(val_clean, apply_each(fn, val_noisy, s, sigma)).mean() for s in grid]
    return grid[int(np.argmax(scores))]


# --------------------------------------------------------------------------------- reference learned denoiser
class KerasBlogDAE(nn.Module):
    """The Keras blog's convolutional denoising autoencoder (28x28 -> 7x7x32 -> 28x28), in PyTorch."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.decoder = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
                                     nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
                                     nn.Conv2d(32, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))  # logits


def train_reference(train: np.ndarray, sigma: float, seconds: float, seed: int = 0) -> tuple[KerasBlogDAE, int]:
    """Adam, batches of 128, fresh clipped noise each batch, for ``seconds`` of wall clock. Returns epochs begun."""
    torch.manual_seed(seed)
    model, x = KerasBlogDAE(), torch.from_numpy(train)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start, epochs = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        epochs += 1
        for idx in torch.randperm(len(x)).split(128):
            clean = x[idx]
            noisy = (clean + sigma * torch.randn_like(clean)).clamp(0, 1)
            loss = F.binary_cross_entropy_with_logits(model(noisy), clean)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if time.perf_counter() - start >= seconds:
                break
    return model.eval(), epochs


@torch.no_grad()
def reference_denoise(model: KerasBlogDAE, noisy: np.ndarray) -> np.ndarray:
    return np.concatenate([torch.sigmoid(model(torch.from_numpy(b))).numpy() for b in np.array_split(noisy, 20)])


# ------------------------------------------------------------------------------------------------------ parts
def digits_part(args: argparse.Namespace) -> str:
    train, _ = datasets.load("mnist", split="train")
    test, _ = datasets.load("mnist", split="test")
    train, test = train.astype(np.float32), test[: args.test].astype(np.float32)
    val_clean = train[-VALIDATION:]
    lines, summary = [], []
    for sigma in args.sigmas:
        noisy = noisy_copy(test, sigma, seed=1)
        val_noisy = noisy_copy(val_clean, sigma, seed=2)
        rows = [["noisy input", f"{psnr(test, noisy).mean():.2f}", f"{ssim(test, noisy):.3f}", "-", "-"]]
        ours_p = ref_p = np.nan
        if not args.classical:
            den = Denoiser(level=sigma, max_iter=args.epochs, random_state=0, verbose=1).fit(train)
            t0 = time.perf_counter()
            ours = den.transform(noisy)
            apply_s = time.perf_counter() - t0
            rows.append([f"aekit Denoiser (defaults, {den.n_iter_} epochs)", f"{psnr(test, ours).mean():.2f}",
                         f"{ssim(test, ours):.3f}", f"{den.train_seconds_:.0f}", f"{apply_s:.1f}"])
            ref, ref_epochs = train_reference(train, sigma, den.train_seconds_)
            t0 = time.perf_counter()
            theirs = reference_denoise(ref, noisy)
            rows.append([f"Keras-blog conv DAE (same {den.train_seconds_:.0f} s, {ref_epochs} epochs)",
                         f"{psnr(test, theirs).mean():.2f}", f"{ssim(test, theirs):.3f}",
                         f"{den.train_seconds_:.0f}", f"{time.perf_counter() - t0:.1f}"])
            ours_p, ref_p = psnr(test, ours).mean(), psnr(test, theirs).mean()
        best_classical = -np.inf
        for name, (fn, grid) in CLASSICAL.items():
            if args.skip_classical or (args.classical and not any(c in name for c in args.classical)):
                continue
            s = tuned(fn, grid, val_clean, val_noisy, sigma)
            t0 = time.perf_counter()
            out = apply_each(fn, noisy, s, sigma)
            p = psnr(test, out).mean()
            best_classical = max(best_classical, p)
            rows.append([f"{name}, strength {s:g} x sigma", f"{p:.2f}", f"{ssim(test, out):.3f}", "-",
                         f"{time.perf_counter() - t0:.1f}"])
            print(rows[-1], flush=True)
        summary.append(f"σ = {sigma}: aekit {ours_p:.2f} dB, reference learned {ref_p:.2f} dB "
                       f"({ours_p - ref_p:+.2f}), best classical {best_classical:.2f} dB ({ours_p - best_classical:+.2f})")
        lines += [f"### digits, σ = {sigma}", "", markdown_table(
            ["denoiser", "PSNR (dB)", "SSIM", "training s", "denoising s"], rows), ""]
        print("\n".join(lines[-3:]), flush=True)
    head = section_header("Image denoising: digits")
    intro = (f"MNIST: {len(train):,} training images, the first {len(test):,} test images with clipped Gaussian "
             f"noise (seeded); classical strengths tuned on {VALIDATION} noisy training images. Reference learned "
             "denoiser: the Keras blog's conv DAE in PyTorch (Adam, BCE), trained for aekit's training seconds.")
    return "\n".join(head + ["", intro, "", *[f"- {s}" for s in summary], "", *lines])


def _grey_images(folder: Path) -> list[np.ndarray]:
    return [read_image(f, grayscale=True) for f in find_images(folder)]


def natural_part(args: argparse.Namespace) -> str:
    home = Path(os.environ["AEKIT_DATA"]) / "natural"
    train, test = _grey_images(home / "train400"), _grey_images(home / "bsd68")[: args.max_test]
    rows, summary = [], []
    for sigma255 in args.sigmas:
        sigma = sigma255 / 255
        noisy = [noisy_copy(im, sigma, seed=10 + i) for i, im in enumerate(test)]
        den = Denoiser(level=sigma, widths=tuple(args.widths), max_iter=args.epochs, random_state=0, verbose=1)
        if args.minutes:  # a time budget: epochs of the crop source sized so training ends near it
            fit_for_minutes(den, train, args.minutes)
        else:
            den.fit(train)
        ours = den.transform(noisy)
        p_ours = np.mean([psnr(c[None], o[None])[0] for c, o in zip(test, ours)])
        p_noisy = np.mean([psnr(c[None], n[None])[0] for c, n in zip(test, noisy)])
        t0 = time.perf_counter()
        theirs = [np.clip(_bm3d(n[0].astype(np.float64), 1.0, sigma), 0, 1)[None] for n in noisy]
        bm3d_s = time.perf_counter() - t0
        p_bm3d = np.mean([psnr(c[None], o[None].astype(np.float32))[0] for c, o in zip(test, theirs)])
        rows.append([sigma255, f"{p_noisy:.2f}", f"{p_ours:.2f}", f"{den.train_seconds_ / 60:.1f}", den.n_iter_,
                     f"{p_bm3d:.2f}", f"{bm3d_s:.0f}"])
        summary.append(f"σ = {sigma255}: aekit {p_ours:.2f} dB vs BM3D {p_bm3d:.2f} ({p_ours - p_bm3d:+.2f})")
        print(rows[-1], flush=True)
    head = section_header("Image denoising: grey photographs")
    table = markdown_table(["σ (0..255)", "noisy PSNR", "aekit PSNR", "aekit training min", "epochs", "BM3D PSNR",
                            "BM3D s"], rows)
    intro = (f"Training: {len(train)} images of natural/train400 (random crops); test: the {len(test)} images of "
             "natural/bsd68 with seeded Gaussian noise, clipped to the pixel range as a saved noisy image would be "
             "(BM3D is given the σ). PSNR per image on the 0..1 scale, averaged. Published: BM3D "
             "31.07 / 28.57 / 25.62 dB, DnCNN-S 31.73 / 29.23 / 26.23 dB at σ = 15 / 25 / 50.")
    return "\n".join(head + ["", intro, "", *[f"- {s}" for s in summary], "", table])


def fit_for_minutes(den: Denoiser, images: list[np.ndarray], minutes: float) -> Denoiser:
    """Fit with a wall-clock budget: a short fit measures seconds per epoch, then the real fit gets the epochs that
    fill ``minutes`` (the measuring fit is not counted in the reported training time)."""
    probe = Denoiser(**{**den.get_params(), "max_iter": 1, "verbose": 0}).fit(images)
    epochs = max(1, int(minutes * 60 / max(probe.train_seconds_, 1e-3)))
    return den.set_params(max_iter=epochs).fit(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("digits", "natural"), default="digits")
    parser.add_argument("--sigmas", type=lambda s: [float(v) for v in s.split(",")], default=None,
                        help="noise levels (digits: 0..1 scale, default 0.3,0.5,0.7; natural: 0..255, 15,25,50)")
    parser.add_argument("--test", type=int, default=1000, help="digits: test images scored (default: 1000)")
    parser.add_argument("--max-test", type=int, default=None, help="natural: score only the first N test images")
    parser.add_argument("--epochs", type=int, default=None, help="aekit epochs (default: the estimator's)")
    parser.add_argument("--minutes", type=float, default=None, help="natural: aekit's training budget")
    parser.add_argument("--widths", type=lambda s: [int(v) for v in s.split(",")], default=[16, 32, 64])
    parser.add_argument("--skip-classical", action="store_true")
    parser.add_argument("--classical", type=lambda s: s.split(","), default=None, metavar="NAMES",
                        help="only these classical denoisers (name parts, e.g. non-local,BM3D), no learned ones")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    if args.part == "digits":
        args.sigmas = args.sigmas or [0.3, 0.5, 0.7]
        publish("denoising-digits", digits_part(args), not args.no_write)
    else:
        args.sigmas = args.sigmas or [15, 25, 50]
        publish("denoising-natural", natural_part(args), not args.no_write)


if __name__ == "__main__":
    main()
