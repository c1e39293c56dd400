"""What ``aekit denoise fit`` does: a denoiser directory with a report of what it achieves on its own noise."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..estimators import Denoiser
from ..metrics import psnr
from ..report import image_rows_png, png_img_tag, write_report
from .run_dir import prepare_run_dir

REPORT = "report.html"
#: Training images (or crops of them) the report measures PSNR on, with seeded noise.
REPORT_IMAGES = 256
#: Side of the crops shown and measured for large images.
REPORT_CROP = 96


def report_examples(images: list[np.ndarray]) -> np.ndarray:
    """Up to 256 same-sized examples ``(n, c, h, w)``: the images when they share a small size, else centre crops."""
    sizes = {im.shape for im in images}
    if len(sizes) == 1 and max(images[0].shape[1:]) <= REPORT_CROP:
        return np.stack(images[:REPORT_IMAGES])
    side = min(REPORT_CROP, *(min(im.shape[1:]) for im in images))
    crops = []
    for im in images[:REPORT_IMAGES]:
        top, left = (im.shape[1] - side) // 2, (im.shape[2] - side) // 2
        crops.append(im[:, top : top + side, left : left + side])
    return np.stack(crops)


def fit_denoise_run(denoiser: Denoiser, images: list[np.ndarray], out: str | os.PathLike, *,
                    overwrite: bool = False, name: str = "images") -> tuple[Path, dict]:
    """Fit ``denoiser`` on clean ``images`` (a list of ``(c, h, w)`` floats), save it to ``out`` with ``report.html``:
    the training curve, clean / noisy / denoised examples, and PSNR before and after on up to 256 of the training
    images with seeded noise of the kind it was trained for (in-sample: a first check, not a test score)."""
    out = prepare_run_dir(out, overwrite=overwrite)
    denoiser.fit(images)
    denoiser.save(out)
    clean = report_examples(images)
    noisy = denoiser.corrupt(clean, random_state=0)
    cleaned = denoiser.transform(noisy)
    summary = {
        "data": f"{name}: {len(images)} image(s)",
        "noise": f"{denoiser.noise} {denoiser.level}",
        "channels": denoiser.channels_,
        "loss": denoiser.config_.loss,
        "epochs": denoiser.n_iter_,
        "training seconds": round(denoiser.train_seconds_, 1),
        "images measured": len(clean),
        "PSNR noisy (dB)": float(psnr(clean, noisy).mean()),
        "PSNR denoised (dB)": float(psnr(clean, cleaned).mean()),
    }
    grid = image_rows_png([("clean", clean[:16]), ("noisy", noisy[:16]), ("denoised", cleaned[:16])],
                          "training images with fresh noise, and the denoiser's output")
    write_report(out / REPORT, title=f"aekit denoiser on {name}", summary=summary, history=denoiser.history_,
                 extra_sections=[("Examples", png_img_tag(grid, "clean, noisy and denoised examples"))])
    return out, summary
