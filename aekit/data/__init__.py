"""Data layer: built-in datasets (a registry), reading tables and image folders, the input mapping from user data
to model arrays, and the batch sources the Trainer iterates over (in memory, or streamed from files)."""

from __future__ import annotations

from . import datasets
from .batches import Batch, TensorBatches
from .files import read_table
from .images import load_image_folder
from .stream_batches import StreamBatches
from .table_files import TableFiles
from .tabular import TabularPreprocessor

__all__ = ["Batch", "StreamBatches", "TableFiles", "TabularPreprocessor", "TensorBatches", "datasets", "load_image_folder", "read_table"]
