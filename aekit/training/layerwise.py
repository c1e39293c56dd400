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

    def loss(self, x: torch.Tensor, observed: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        out = self.dec(self.encode(x))
        if self.nll is not None:
            recon = self.nll(out, x, observed)
        else:
            recon = 0.5 * F.mse_loss(self.dec_act(out), x, reduction="none").sum(dim=1).mean()
        return {"recon": recon, "total": recon}


def pretrain_layerwise(
    model: AutoEncoderModel,
    x: torch.Tensor,
    x_val: torch.Tensor | None,
    config: TrainConfig,
    device: torch.device,
    observed: torch.Tensor | None = None,
) -> list[list[dict[str, float]]]:
    """Pre-train every layer of an MLP autoencoder greedily; returns each stage's history."""
    if model.config.encoder != "mlp" or model.config.bottleneck != "deterministic":
        raise ValueError("layer-wise pre-training needs an MLP encoder with a deterministic code (kind='stacked')")
    enc_layers = list(model.encoder.layers) + [model.bottleneck.linear]
    enc_acts = [model.encoder.act] * len(model.encoder.layers) + [model.bottleneck.act]
    dec_layers = list(model.decoder.layers)[::-1]  # dec_layers[i] mirrors enc_layers[i]
    histories = []
    h, h_val = x.flatten(1), None if x_val is None else x_val.flatten(1)
    for i, (enc, enc_act, dec) in enumerate(zip(enc_layers, enc_acts, dec_layers)):
        first = i == 0
        stage = _ShallowAE(enc, enc_act, dec, None if first else model.decoder.act,
                           nll=model.likelihood.batch_nll if first else None)
        result = Trainer(stage, replace(config, checkpoint_path=None, seed=config.seed + i), device).fit(
            h, h_val, observed=observed if first else None)
        logger.info("pre-trained layer %d/%d: %s", i + 1, len(enc_layers), result.stop_reason)
        histories.append(result.history)
        with torch.no_grad():
            h = stage.encode(h.to(device)).cpu()
            h_val = None if h_val is None else stage.encode(h_val.to(device)).cpu()
    return histories
