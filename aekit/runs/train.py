"""A *run directory*: a trained model saved with its history and a self-contained report.

``train_run`` is what ``aekit train`` does; it lives here so Python users can make the same directory.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..data.sources import Source
from ..data.table_files import TableFiles
from ..estimators import AutoEncoder
from ..report import image_rows_png, png_img_tag, write_report
from ..training.distributed import barrier, world
from .run_dir import prepare_run_dir, write_run_facts

logger = logging.getLogger("aekit")
REPORT = "report.html"
# Rows used for the report's plots: enough for a readable map, cheap to encode.
REPORT_ROWS = 5000


def train_run(ae: AutoEncoder, source: Source, out: str | os.PathLike, *, resume: bool = False,
              overwrite: bool = False, label_column: str | None = None, fit_data: TableFiles | None = None) -> Path:
    """Fit ``ae`` on ``source`` (or on the streamed ``fit_data``, with ``source`` a preview of it for the report),
    then save the model and write ``report.html`` into ``out``.

    An ``out`` that holds a finished run is refused unless ``resume`` or ``overwrite``; ``label_column`` (left out
    of ``source.X``) is recorded so later commands on the same table leave it out too. Under ``torchrun`` every
    process trains and rank 0 alone prepares and writes the directory."""
    w = world()
    out = prepare_run_dir(out, resume=resume, overwrite=overwrite, resumable=True) if w.is_main else Path(out)
    barrier()  # the other ranks start once rank 0 has checked (and, with overwrite, cleared) the directory
    ae.set_params(checkpoint_dir=str(out))
    ae.fit(source.X if fit_data is None else fit_data, resume=resume)
    if w.is_main:
        ae.save(out)
        write_run_facts(out, label_column=label_column)
        write_run_report(ae, source, out)
    barrier()
    return out


def write_run_report(ae: AutoEncoder, source: Source, out: str | os.PathLike) -> Path:
    """Loss curves, reconstructions (images) or per-feature errors (tables), and the code map."""
    n = len(source.X)
    rows = np.random.default_rng(0).permutation(n)[: min(n, REPORT_ROWS)]
    rows.sort()
    X = source.rows(rows)
    codes = ae.transform(X)
    images = feature_errors = None
    if source.is_image:
        images = (X[:16], ae.reconstruct(X[:16]))
    else:
        feature_errors = (ae.model_feature_names, np.nanmean(ae.feature_errors(X), axis=0))
    labels = None if source.y is None else source.display_labels[rows]
    summary = {
        "data": f"{source.name} {tuple(np.shape(source.X))}",
        "kind": ae.kind,
        "encoder": ae.config_.encoder.name,
        "hidden": tuple(ae.config_.encoder.settings.hidden),
        "latent dim": ae.config_.latent_dim,
        "loss": ae.config_.likelihood.name,
        "epochs run": ae.n_iter_,
        "budget": _budget_text(ae.budget_) if hasattr(ae, "budget_") else "as in the resumed run",
        f"best {'validation' if any('val_total' in r for r in ae.history_) else 'training'} loss "
        f"({ae.config_.likelihood.name} summed over a sample's features, + other terms)": ae.best_loss_,
        "stop reason": ae.stop_reason_,
        "training seconds": round(getattr(ae, "train_seconds_", float("nan")), 1),
        "mean squared reconstruction error per feature (report rows)": float(np.mean(ae.reconstruction_error(X))),
    }
    extra = generation_sections(ae, X) if source.is_image and ae.is_variational else []
    return write_report(Path(out) / REPORT,
                        title=f"aekit run: {ae.kind} autoencoder on {source.name}", summary=summary,
                        history=ae.history_, images=images, feature_errors=feature_errors, codes=codes, labels=labels,
                        extra_sections=extra)


def _budget_text(budget: dict) -> str:
    """One line of what the run was allowed; models saved before the rate was recorded lack it."""
    text = ("{max_epochs} epochs at most, batches of {batch_size}, {training_rows} training + {validation_rows} "
            "validation rows, {threads} thread(s)").format(**budget)
    return text + (f", learning rate {budget['learning_rate']:g}" if "learning_rate" in budget else "")


def generation_sections(ae: AutoEncoder, X: np.ndarray) -> list[tuple[str, str]]:
    """A VAE's report on images: 16 samples from the prior, and interpolations between pairs of report images."""
    samples = ae.sample(16, random_state=0)
    pairs = [(0, 1), (2, 3), (4, 5)][: len(X) // 2]
    rows = [(f"{a} to {b}", ae.interpolate(X[a], X[b], steps=8)) for a, b in pairs]
    sections = [("Samples", png_img_tag(image_rows_png([("prior", samples[:8]), ("prior", samples[8:])],
                                                       "16 images decoded from codes drawn from the prior"),
                                        "samples from the VAE"))]
    if rows:
        sections.append(("Interpolations", png_img_tag(
            image_rows_png(rows, "decodings along straight lines between the codes of two images"),
            "interpolations between pairs of images")))
    return sections
