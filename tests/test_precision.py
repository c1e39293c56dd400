"""bfloat16 training: the encoder and decoder compute in bfloat16, the code and loss in float32."""

import numpy as np
import pytest
import torch

from aekit import AutoEncoder
from aekit.data.batches import Batch
from aekit.models import AutoEncoderModel
from aekit.models.config import ModelConfig
from aekit.training.precision import MIN_WEIGHT_REUSE, native_bfloat16_cpu, training_dtype
from aekit.training.threads import SMALL_WORK_MACS


def test_precision_names_map_to_dtypes():
    cpu = torch.device("cpu")
    assert training_dtype("float32", cpu) == torch.float32
    assert training_dtype("bfloat16", cpu) == torch.bfloat16
    assert training_dtype("auto", cpu) == (torch.bfloat16 if native_bfloat16_cpu() else torch.float32)
    with pytest.raises(ValueError, match="precision must be one of auto, float32, bfloat16"):
        training_dtype("half", cpu)


def test_small_work_trains_in_float32_unless_asked():
    cpu = torch.device("cpu")
    big = torch.bfloat16 if native_bfloat16_cpu() else torch.float32
    assert training_dtype("auto", cpu, SMALL_WORK_MACS / 10) == torch.float32
    assert training_dtype("auto", cpu, SMALL_WORK_MACS * 10) == big
    assert training_dtype("bfloat16", cpu, SMALL_WORK_MACS / 10) == torch.bfloat16
    ae = AutoEncoder(latent_dim=2, max_iter=1, random_state=0).fit(np.random.default_rng(0).random((50, 6)))
    assert ae.budget_["precision"] == "float32"  # a 6-column table is small work
    forced = AutoEncoder(latent_dim=2, max_iter=1, precision="bfloat16", random_state=0)
    assert forced.fit(np.random.default_rng(0).random((50, 6))).budget_["precision"] == "bfloat16"


def test_a_dense_model_at_batch_64_trains_in_float32_and_at_batch_256_in_bfloat16():
    # Autocast casts every weight once per step; a dense layer uses each weight once per row, so below
    # MIN_WEIGHT_REUSE rows the casts cost what bfloat16 saves (precision.py has the timings).
    cpu = torch.device("cpu")
    big = torch.bfloat16 if native_bfloat16_cpu() else torch.float32
    weights = 10 * SMALL_WORK_MACS
    assert training_dtype("auto", cpu, weights * (MIN_WEIGHT_REUSE - 1), weights) == torch.float32
    assert training_dtype("auto", cpu, weights * MIN_WEIGHT_REUSE, weights) == big
    assert training_dtype("bfloat16", cpu, weights, weights) == torch.bfloat16  # asked for: kept
    X = np.random.default_rng(0).random((256, 784), dtype=np.float32)
    budgets = {batch: AutoEncoder(kind="basic", hidden_dims=(256,), latent_dim=32, batch_size=batch, max_iter=1,
                                  random_state=0).fit(X).budget_ for batch in (32, 64, 256)}
    assert budgets[32]["precision"] == budgets[64]["precision"] == "float32"
    assert budgets[256]["precision"] == str(big).removeprefix("torch.")


@pytest.mark.parametrize("likelihood", ["mse", "bce"])
def test_under_autocast_only_the_bodies_compute_in_bfloat16(likelihood):
    torch.manual_seed(0)
    model = AutoEncoderModel(ModelConfig(input_shape=(1, 8, 8), latent_dim=3, encoder={"name": "conv", "hidden": (4,)},
                                         bottleneck={"name": "gaussian"}, likelihood={"name": likelihood}))
    seen = {}
    model.encoder.register_forward_hook(lambda m, i, o: seen.__setitem__("encoder", o.dtype))
    model.decoder.register_forward_hook(lambda m, i, o: seen.__setitem__("decoder", o.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        terms, code = model.loss_and_code(Batch(torch.rand(4, 1, 8, 8)))
    assert seen == {"encoder": torch.bfloat16, "decoder": torch.bfloat16}
    assert code.dtype == torch.float32
    assert all(t.dtype == torch.float32 for t in terms.values()), {k: t.dtype for k, t in terms.items()}
    terms["total"].backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in model.parameters())


def test_estimator_precision_takes_effect_and_both_train():
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(128, 3)) @ rng.normal(size=(3, 20))).astype(np.float32)  # rank 3: learnable
    fits = {p: AutoEncoder(latent_dim=3, max_iter=80, early_stopping=False, precision=p, random_state=0).fit(X)
            for p in ("float32", "bfloat16")}
    for ae in fits.values():
        assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]
    assert not np.array_equal(fits["float32"].transform(X), fits["bfloat16"].transform(X))
    with pytest.raises(ValueError, match="precision"):
        AutoEncoder(precision="half").fit(X)
