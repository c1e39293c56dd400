"""Shared test settings: a data home pointing at the shared data, and few threads for a 2-core CI machine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("AEKIT_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits as images (1797, 1, 8, 8) in [0, 1] and labels."""
    from aekit import datasets

    return datasets.load("digits")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
