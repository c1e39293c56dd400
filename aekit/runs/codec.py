"""What ``aekit codec train`` does: a codec directory with a report of what it achieves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data.images import uint8_pixels
from ..estimators import Codec
from ..estimators.codec import as_unit_images
from ..metrics import psnr
from ..report import write_report
from .run_dir import prepare_run_dir

REPORT = "report.html"
#: Images the report measures bytes and PSNR on.
REPORT_IMAGES = 1000


def fit_codec_run(codec: Codec, images: object, out: str | os.PathLike, *, overwrite: bool = False,
                  name: str = "images") -> tuple[Path, dict]:
    """Fit ``codec`` on ``images``, save it to ``out`` with ``report.html``: training curves (bits and squared
    error), originals above their decoded versions, and bytes per image and PSNR on up to 1,000 of the images."""
    out = prepare_run_dir(out, overwrite=overwrite)
    codec.fit(images)
    codec.save(out)
    sample = uint8_pixels(as_unit_images(images)[:REPORT_IMAGES])
    sample = sample[:, 0] if sample.shape[1] == 1 else sample
    files = codec.compress_each(sample)
    decoded = codec.decompress(files)
    summary = {
        "data": f"{name} {tuple(np.shape(images))}",
        "lmbda": codec.lmbda_,
        "target PSNR (dB)": codec.target_psnr,
        "image shape (c, h, w)": codec.image_shape_,
        "epochs": codec.n_iter_,
        "training seconds": round(codec.train_seconds_, 1),
        "images measured": len(sample),
        "bytes per image (one file each)": float(np.mean([len(f) for f in files])),
        "bytes per image (one file for all)": len(codec.compress(sample)) / len(sample),
        "PSNR (dB)": float(psnr(sample, decoded).mean()),
        "codec id": codec.codec_id_.hex()[:16],
    }
    as_float = lambda a: (a[:, None] if a.ndim == 3 else a).astype(np.float32) / 255
    write_report(out / REPORT, title=f"aekit codec on {name}", summary=summary, history=codec.history_,
                 images=(as_float(sample[:16]), as_float(decoded[:16])))
    return out, summary
