"""Reading user data: tables (CSV/Parquet) into encoded matrices, and image folders into arrays."""

from __future__ import annotations

from aekit.data.files import read_table
from aekit.data.images import load_image_folder
from aekit.data.tabular import TabularPreprocessor

__all__ = ["TabularPreprocessor", "load_image_folder", "read_table"]
