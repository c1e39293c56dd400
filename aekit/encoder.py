"""Keep only the encoder: a fitted encoder that turns data into features, saved and loaded on its own."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ._input import InputAdapter
from ._utils import resolve_device
from .io import read_model_dir, write_model_dir
from .models import AutoEncoderModel, EncoderModel, ModelConfig

FORMAT = "aekit.encoder/1"


@torch.no_grad()
def predict_batches(
    fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, device: torch.device, batch_size: int = 4096
) -> np.ndarray:
    """Apply a tensor function to an array in batches (bounded memory), returning float32 NumPy."""
    outs = []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size])).to(device)
        outs.append(fn(xb).float().cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros((0,), dtype=np.float32)


class Encoder:
    """A fitted encoder: ``transform(X)`` gives the codes its autoencoder would give.

    Obtain one with ``AutoEncoder(...).fit(X).encoder_``; ``save`` writes only the encoder's weights and the
    input preprocessing, and ``Encoder.load`` reads them back without the decoder.
    """

    def __init__(self, model: EncoderModel, adapter: InputAdapter, device: torch.device) -> None:
        self.model, self.adapter, self.device = model.eval(), adapter, device

    @classmethod
    def from_autoencoder(cls, model: AutoEncoderModel, adapter: InputAdapter, device: torch.device) -> Encoder:
        return cls(EncoderModel(model.config, parts=(model.encoder, model.bottleneck)), adapter, device)

    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim

    def transform(self, X: object) -> np.ndarray:
        """Codes ``(n, latent_dim)``, float32."""
        x, _ = self.adapter.transform(X)
        return predict_batches(self.model.encode, x, self.device)

    def save(self, path: str | os.PathLike) -> Path:
        config = {"format": FORMAT, "model": self.model.config.to_dict()}
        return write_model_dir(path, config=config, state_dict=self.model.state_dict(),
                               preprocess=self.adapter.to_dict(), history=[])

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> Encoder:
        """Load an encoder saved by :meth:`save`, or the encoder part of a saved ``AutoEncoder``."""
        from .autoencoder import FORMAT as AE_FORMAT

        saved = read_model_dir(path, (FORMAT, AE_FORMAT))
        try:
            config = ModelConfig.from_dict(saved["config"]["model"])
            model = EncoderModel(config)
            state = {k: v for k, v in saved["state_dict"].items() if k.startswith(("encoder.", "bottleneck."))}
            model.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"{path} does not hold a consistent aekit encoder ({exc})") from exc
        dev = resolve_device(device)
        return cls(model.to(dev), InputAdapter.from_dict(saved["preprocess"]), dev)
