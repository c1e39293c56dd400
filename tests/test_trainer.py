"""The training loop: stop rules, checkpoints, resume, and the NaN guard, on tiny models."""

from __future__ import annotations

import math

import pytest
import torch

from aekit.data.batches import TensorBatches
from aekit.models import AutoEncoderModel, ModelConfig
from aekit.training import Trainer, TrainConfig, load_checkpoint


def _model():
    torch.manual_seed(0)
    return AutoEncoderModel(ModelConfig(input_shape=(8,), latent_dim=2, encoder={"name": "mlp", "hidden": (6,)},
                                        corruption={"name": "gaussian", "level": 0.1}))


def _data():
    g = torch.Generator().manual_seed(0)
    return TensorBatches(torch.randn(64, 8, generator=g)), TensorBatches(torch.randn(16, 8, generator=g))


class _Crash(Exception):
    pass


def test_resume_after_crash_continues_exactly_where_it_stopped(tmp_path):
    x, x_val = _data()
    cfg = TrainConfig(max_epochs=5, batch_size=16, seed=3, early_stopping=False,
                      checkpoint_path=str(tmp_path / "ckpt.safetensors"))
    straight = _model()
    full = Trainer(straight, cfg).fit(x, x_val)

    def crash_after_two(row):
        if row["epoch"] == 2:
            raise _Crash

    crashed = _model()
    with pytest.raises(_Crash):
        Trainer(crashed, cfg, callbacks=[crash_after_two]).fit(x, x_val)
    assert load_checkpoint(tmp_path / "ckpt.safetensors")["trainer_state"]["epoch"] == 2

    resumed_model = _model()
    resumed = Trainer(resumed_model, cfg).fit(x, x_val, resume=True)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4, 5]
    for a, b in zip(full.history, resumed.history):
        assert a["train_total"] == pytest.approx(b["train_total"], rel=1e-6)
    for k, v in straight.state_dict().items():
        torch.testing.assert_close(resumed_model.state_dict()[k], v)


def test_max_epochs_and_loss_threshold_stop_training():
    x, x_val = _data()
    res = Trainer(_model(), TrainConfig(max_epochs=3, batch_size=16, early_stopping=False)).fit(x, x_val)
    assert res.epochs_run == 3 and "max_epochs" in res.stop_reason
    res = Trainer(_model(), TrainConfig(max_epochs=50, batch_size=16, loss_threshold=1e9)).fit(x, x_val)
    assert res.epochs_run == 1 and "loss_threshold" in res.stop_reason


def test_early_stopping_keeps_the_best_weights():
    x, x_val = _data()
    model = _model()
    res = Trainer(model, TrainConfig(max_epochs=400, batch_size=16, n_iter_no_change=3, learning_rate=0.05)).fit(
        x, x_val)
    assert "early stopping" in res.stop_reason and res.epochs_run < 400
    best = min(r["val_total"] for r in res.history)
    assert res.best_loss == pytest.approx(best)
    assert Trainer(model, TrainConfig()).evaluate(x_val)["total"] == pytest.approx(best, rel=1e-5)


class _Explodes(torch.nn.Module):
    """A model whose loss becomes NaN at its 7th call (in the 2nd epoch of 4 batches)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.calls = 0

    def loss(self, batch):
        self.calls += 1
        value = (self.w * batch.x).pow(2).mean()
        if self.training and self.calls >= 7:
            value = value * math.nan
        return {"total": value}


def test_nan_loss_stops_cleanly_and_keeps_last_good_checkpoint(tmp_path):
    x, _ = _data()
    model = _Explodes()
    ckpt = tmp_path / "ckpt.safetensors"
    res = Trainer(model, TrainConfig(max_epochs=10, batch_size=16, early_stopping=False,
                                     checkpoint_path=str(ckpt))).fit(x)
    assert "NaN/inf in epoch 2" in res.stop_reason
    assert res.epochs_run == 1
    assert torch.isfinite(model.w).all()
    saved = load_checkpoint(ckpt)
    assert saved["trainer_state"]["epoch"] == 1
    torch.testing.assert_close(saved["model_state"]["w"], model.w.detach())


def test_damaged_checkpoint_gives_clear_error(tmp_path):
    bad = tmp_path / "ckpt.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="damaged"):
        load_checkpoint(bad)


def test_training_is_reproducible_and_leaves_global_rng_alone():
    x, x_val = _data()
    cfg = TrainConfig(max_epochs=2, batch_size=16, seed=7)
    m1, m2 = _model(), _model()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = Trainer(m1, cfg).fit(x, x_val).history
    b = Trainer(m2, cfg).fit(x, x_val).history
    assert torch.equal(before, torch.get_rng_state())
    assert a == [dict(r, seconds=a_r["seconds"]) for r, a_r in zip(b, a)]


def test_progress_off_a_terminal_is_one_line_per_epoch(capsys):
    """A log file or CI gets one line an epoch, not hundreds of carriage-return updates of a bar."""
    model = AutoEncoderModel(ModelConfig(input_shape=(6,), latent_dim=2, encoder={"name": "mlp", "hidden": [8]}))
    Trainer(model, TrainConfig(max_epochs=3, batch_size=8, early_stopping=False, verbose=1,
                               progress_label="tiny")).fit(TensorBatches(torch.randn(64, 6)))
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("tiny: epoch")]
    assert [line.split()[2] for line in lines] == ["1/3", "2/3", "3/3"] and "loss=" in lines[0]
