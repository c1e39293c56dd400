"""Greedy layer-wise pre-training, the classic *stacked* autoencoder (Bengio et al., 2007,
https://papers.nips.cc/paper/3048-greedy-layer-wise-training-of-deep-networks).

Each encoder layer is trained, in turn, as the encoder of a shallow autoencoder whose decoder is the mirrored
layer of the deep model's decoder, on the codes the layers below it produce; the deep model is then fine-tuned
end to end. This is a training strategy over an MLP autoencoder, not another model: the shallow models share
the deep model's own layers, so their training writes straight into it.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from ..data.batches import Batch, TensorBatches
from ..models.autoencoder import AutoEncoderModel
from .trainer import Trainer, TrainConfig

logger = logging.getLogger("aekit.training")


class _ShallowAE(nn.Module):
    """``x -> out_act(dec(in_act(enc(x))))``: one stage of the stack, reusing the deep model's layers."""

    def __init__(self, enc: nn.Linear, enc_act: nn.Module, dec: nn.Linear, dec_act: nn.Module | None,
                 nll=None) -> None:
        super().__init__()
        self.enc, self.enc_act, self.dec, self.dec_act = enc, enc_act, dec, dec_act
        self.nll = nll  # the deep model's batch loss for the first stage; squared error for inner stages

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc_act(self.enc(x))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The stage's forward pass (what sizes its steps' threads and number format)."""
        return self.dec(self.encode(x))

    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch.x
        out = self.dec(self.encode(x))
        if self.nll is not None:
            recon = self.nll(out, x, batch.observed)
        else:
            recon = 0.5 * F.mse_loss(self.dec_act(out), x, reduction="none").sum(dim=1).mean()
        return {"recon": recon, "total": recon}


def pretrain_layerwise(
    model: AutoEncoderModel,
    train: TensorBatches,
    val: TensorBatches | None,
    config: TrainConfig,
    device: torch.device,
) -> list[list[dict[str, float]]]:
    """Pre-train every layer of an MLP autoencoder greedily; returns each stage's history.

    Inner stages train on the codes of the layers below (no mask: every code is observed)."""
    if model.config.encoder.name != "mlp" or model.config.bottleneck.name != "deterministic":
        raise ValueError("layer-wise pre-training needs an MLP encoder with a deterministic code (kind='stacked')")
    enc_layers = list(model.encoder.layers) + [model.bottleneck.linear]
    enc_acts = [model.encoder.act] * len(model.encoder.layers) + [model.bottleneck.act]
    dec_layers = list(model.decoder.layers)[::-1]  # dec_layers[i] mirrors enc_layers[i]
    histories = []
    h = TensorBatches(train.x.flatten(1), train.observed)
    h_val = None if val is None else TensorBatches(val.x.flatten(1), val.observed)
    for i, (enc, enc_act, dec) in enumerate(zip(enc_layers, enc_acts, dec_layers)):
        first = i == 0
        stage = _ShallowAE(enc, enc_act, dec, None if first else model.decoder.act,
                           nll=model.likelihood.batch_nll if first else None)
        stage_config = replace(config, checkpoint_path=None, seed=config.seed + i,
                               progress_label=f"pre-training layer {i + 1}")
        result = Trainer(stage, stage_config, device).fit(h, h_val)
        logger.info("pre-trained layer %d/%d: %s", i + 1, len(enc_layers), result.stop_reason)
        histories.append(result.history)
        with torch.no_grad():
            h = TensorBatches(stage.encode(h.x.to(device)).cpu())
            h_val = None if h_val is None else TensorBatches(stage.encode(h_val.x.to(device)).cpu())
    return histories
