"""Training reports: static PNG plots and a self-contained HTML report.

Kept free of torch so that reports can be rendered from saved histories and
arrays on machines without a GPU stack.
"""

from __future__ import annotations

from aekit.report.html import png_img_tag, write_report
from aekit.report.plots import (
    cluster_examples_png,
    code_map_2d,
    code_map_png,
    feature_error_png,
    loss_curves_png,
    reconstruction_grid_png,
    save_png,
    score_histogram_png,
)

__all__ = [
    "cluster_examples_png",
    "code_map_2d",
    "code_map_png",
    "feature_error_png",
    "loss_curves_png",
    "png_img_tag",
    "reconstruction_grid_png",
    "save_png",
    "score_histogram_png",
    "write_report",
]
