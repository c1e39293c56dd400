"""Keep only the encoder: a fitted encoder that turns data into features, saved and loaded on its own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..data.input import InputAdapter
from ..io import read_model_dir, write_model_dir
from ..models import AutoEncoderModel, EncoderModel, ModelConfig
from ..models.inference import predict_batches
from ..models.missing_flags import blank_missing
from ..training import resolve_device
from .base import FORMATS

FORMAT = "aekit.encoder"
#: An encoder also loads from a whole autoencoder's directory (its decoder is left out).
AUTOENCODER_FORMAT = "aekit.autoencoder"


class Encoder:
    """A fitted encoder: ``transform(X)`` gives the codes its autoencoder would give.

    Obtain one with ``AutoEncoder(...).fit(X).encoder_``; ``save`` writes only the encoder's weights and the
    input preprocessing, and ``Encoder.load`` reads them back without the decoder.
    """

    def __init__(self, model: EncoderModel, adapter: InputAdapter, device) -> None:
        self.model, self.adapter, self.device = model.eval(), adapter, device

    @classmethod
    def from_autoencoder(cls, model: AutoEncoderModel, adapter: InputAdapter, device) -> Encoder:
        return cls(EncoderModel(model.config, parts=(model.encoder, model.bottleneck)), adapter, device)

    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim

    def transform(self, X: object) -> np.ndarray:
        """Codes ``(n, latent_dim)``, float32."""
        x = blank_missing(*self.adapter.transform(X), self.model.config.missing_indicator)
        return predict_batches(self.model.encode, x, self.device)

    def input_spec(self) -> dict[str, Any]:
        """What :meth:`transform` takes, as plain data (see ``ModelEstimator.input_spec``)."""
        return self.adapter.spec()

    def save(self, path: str | os.PathLike) -> Path:
        config = {"format": FORMAT, "fitted": {"model": self.model.config.to_dict()}}
        return write_model_dir(path, config=config, state_dict=self.model.state_dict(),
                               preprocess={"input": self.adapter.to_dict()}, history=[])

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> Encoder:
        """Load an encoder saved by :meth:`save`, or the encoder part of a saved ``AutoEncoder``."""
        saved = read_model_dir(path, (FORMAT, AUTOENCODER_FORMAT))
        try:
            config = ModelConfig.from_dict(saved["config"]["fitted"]["model"])
            adapter = InputAdapter.from_dict(saved["preprocess"]["input"])
            model = EncoderModel(config)
            state = {k: v for k, v in saved["state_dict"].items() if k.startswith(("encoder.", "bottleneck."))}
            model.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"{path} does not hold a consistent aekit encoder ({exc})") from exc
        dev = resolve_device(device)
        return cls(model.to(dev), adapter, dev)

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        model = config.get("fitted", {}).get("model", {})
        return {"estimator": "Encoder", "input shape": model.get("input_shape"),
                "latent dim": model.get("latent_dim"), "encoder": model.get("encoder", {}).get("name")}


FORMATS.register(FORMAT)(Encoder)
