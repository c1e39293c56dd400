"""Training reports: static PNG figures (one module per figure family) and a self-contained HTML report.

Kept free of torch so that reports can be rendered from saved histories and
arrays on machines without a GPU stack.
"""

from __future__ import annotations

from .codemap import code_map_png
from .features import feature_error_png
from .figures import save_png
from .html import png_img_tag, write_report
from .images import cluster_examples_png, image_rows_png, reconstruction_grid_png, tile_images
from .losses import loss_curves_png
from .projection import code_map_2d
from .scores import score_histogram_png

__all__ = [
    "cluster_examples_png",
    "code_map_2d",
    "code_map_png",
    "feature_error_png",
    "image_rows_png",
    "loss_curves_png",
    "png_img_tag",
    "reconstruction_grid_png",
    "save_png",
    "score_histogram_png",
    "tile_images",
    "write_report",
]
