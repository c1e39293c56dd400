"""Resume is exact for every kind: a run that crashed after an epoch and was resumed ends with the same weights as
one that was never interrupted (conv included: its channels-last weights once resumed differently)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit import KINDS, AutoEncoder
from aekit.training.callbacks import Progress


class _Crash(Exception):
    pass


@pytest.mark.parametrize("kind", KINDS)
def test_resumed_run_equals_an_uninterrupted_one(kind, digits, tmp_path, monkeypatch):
    X, _ = digits
    X = X[:160] if kind == "conv" else X[:160].reshape(160, -1)
    params = dict(kind=kind, latent_dim=4, max_iter=3, batch_size=32, random_state=0)
    straight = AutoEncoder(**params, checkpoint_dir=str(tmp_path / "a")).fit(X)

    original = Progress.on_epoch_end

    def crash_after_first_epoch(self, trainer, state, row):
        original(self, trainer, state, row)
        if trainer.config.checkpoint_path and row["epoch"] == 1:  # the main run, not a pre-training stage
            raise _Crash

    monkeypatch.setattr(Progress, "on_epoch_end", crash_after_first_epoch)
    with pytest.raises(_Crash):
        AutoEncoder(**params, checkpoint_dir=str(tmp_path / "b")).fit(X)
    monkeypatch.setattr(Progress, "on_epoch_end", original)

    resumed = AutoEncoder(**params, checkpoint_dir=str(tmp_path / "b")).fit(X, resume=True)
    assert [r["epoch"] for r in resumed.history_] == [1, 2, 3]
    for name, value in straight.model_.state_dict().items():
        assert torch.equal(resumed.model_.state_dict()[name], value), name
    np.testing.assert_array_equal(resumed.transform(X), straight.transform(X))
