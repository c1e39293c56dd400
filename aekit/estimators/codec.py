"""``Codec``: a learned lossy image codec for one domain (digits, scans, sensor frames, product photos).

Why this shape: a convolutional autoencoder whose code is quantised to integers and entropy-coded is a codec
(Ballé et al., 2017/2018). Its bottleneck (``models/quantised.py``) learns a prior for every code dimension and
reports the bits the code costs; training minimises ``bits + lmbda x squared error`` (per image, pixels in
[0, 1]), so ``lmbda`` trades size against quality: larger is sharper and bigger. Images of the domain it was
trained on need far fewer bytes than a general codec, because the decoder already knows what such images look
like; other images it serves badly, like any learned codec.

The files are real: ``aekit.io.bitstream`` writes a 5-byte header and an ANS stream (constriction) for one image,
or a shared header for many; the codec's id (a hash of its weights and architecture) is in every file, so a file
is never decoded by the wrong codec, and a checksum refuses damaged or truncated files.
"""

from __future__ import annotations

import hashlib
import json
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._utils import clip, next_pow2
from ..data.batches import TensorBatches
from ..data.images import unit_pixels
from ..io.bitstream import pack_many, pack_one, unpack
from ..models import AutoEncoderModel, ModelConfig
from ..models.inference import predict_batches
from ..models.input_norm import channel_moments
from ..training import epochs_for_steps, resolve_device
from .base import TRAINING_CONSTRAINTS, ModelEstimator, register_format
from .presets import ENCODER_SETTINGS

#: Gradient steps a default run aims for (epochs 5 to 200).
TARGET_STEPS = 8000
#: Images encoded or decoded per batch (what the compression benchmark's speed was measured with).
CODING_BATCH = 1024


def as_unit_images(X: object, what: str = "images") -> np.ndarray:
    """Images ``(n, h, w)`` or ``(n, c, h, w)``, uint8 (0..255) or floats in [0, 1], as float32 ``(n, c, h, w)``."""
    arr = np.asarray(X)
    if arr.ndim not in (3, 4) or arr.shape[0] == 0:
        raise ValueError(f"{what} must be a non-empty array of images (n, h, w) or (n, c, h, w); got shape {arr.shape}")
    arr = unit_pixels(arr, what)
    return arr[:, None] if arr.ndim == 3 else arr


@register_format
class Codec(ModelEstimator):
    """A learned image codec: ``fit`` on images of a domain, then ``compress`` / ``decompress`` real bytes.

    Parameters
    ----------
    lmbda : float, default=100.0
        Weight of the squared error (summed over an image's pixels in [0, 1]) against the bits: larger gives
        sharper, bigger files. On MNIST digits 100 gives 26 dB PSNR in 35 bytes and 1,000 gives 27.5 dB in 51
        (BENCHMARKS.md, compression).
    latent_dim : int, default=64
        Code dimensions (upper bound: the prior learns to spend no bits on the ones it does not need).
    hidden_dims : tuple of int, default=(32, 64)
        Channels of the stride-2 convolution stages.
    dense : int, default=256
        Units of the dense layer between the last feature map and the code.
    max_iter, batch_size : int, optional
        ``None`` sizes them to the data (about 8,000 steps in batches of 32 to 256).
    learning_rate : float, default=1e-3
    device : str, default="auto"
    random_state : int, RandomState or None
    verbose : int, default=0

    Attributes
    ----------
    model_ : AutoEncoderModel
    image_shape_ : tuple
        ``(c, h, w)`` of the images it codes.
    codec_id_ : bytes
        SHA-256 of its architecture and weights; its first bytes are in every file it writes.
    history_ : list of dict
    """

    FORMAT = "aekit.codec/1"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "lmbda": [Interval(Real, 0, None, closed="neither")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dims": ["array-like"],
        "dense": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, *, lmbda: float = 100.0, latent_dim: int = 64, hidden_dims: tuple[int, ...] = (32, 64),
                 dense: int = 256, max_iter: int | None = None, batch_size: int | None = None,
                 learning_rate: float = 1e-3, device: str = "auto",
                 random_state: int | np.random.RandomState | None = None, verbose: int = 0) -> None:
        self.lmbda = lmbda
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.dense = dense
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None) -> Codec:
        """Train on images of the domain (``y`` is ignored)."""
        x = as_unit_images(X)
        if len(x) < 2:
            raise ValueError(f"a codec needs at least 2 images to learn from; got {len(x)}")
        self.image_shape_ = tuple(int(s) for s in x.shape[1:])
        self.n_features_in_ = int(np.prod(self.image_shape_))
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        self.config_ = ModelConfig(
            input_shape=self.image_shape_, latent_dim=self.latent_dim,
            encoder={"name": "conv", "hidden": [int(h) for h in self.hidden_dims], "dense": int(self.dense),
                     **ENCODER_SETTINGS["conv"]},
            # total = 0.5 x squared error + rate_weight x bits, i.e. (bits + lmbda x squared error) x rate_weight
            bottleneck={"name": "quantised", "rate_weight": 0.5 / float(self.lmbda)},
            likelihood={"name": "mse"},
            input_norm={**channel_moments(x), "low": 0.0, "high": 1.0},
        )
        self.device_ = resolve_device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model_ = AutoEncoderModel(self.config_)
        batch = self.batch_size or clip(next_pow2(len(x) / 256), 32, 256)
        epochs = self.max_iter or epochs_for_steps(TARGET_STEPS, len(x), batch, 5, 200)
        self._train(self.model_, TensorBatches.from_numpy(x), sample_shape=self.image_shape_, epochs=epochs,
                    batch=batch, seed=seed, label="codec", early_stopping=False)
        self._set_identity()
        return self

    def _set_identity(self) -> None:
        digest = hashlib.sha256(json.dumps(self.config_.to_dict(), sort_keys=True).encode())
        for name, value in sorted(self.model_.state_dict().items()):
            digest.update(name.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        self.codec_id_ = digest.digest()
        self.scales_ = self.model_.bottleneck.scales().detach().cpu().double().numpy()

    # ---------------------------------------------------------------------------------------- coding
    def symbols(self, X: object) -> np.ndarray:
        """The integer code ``(n, latent_dim)`` of images: what the files hold."""
        check_is_fitted(self)
        m = self.model_.eval()
        code = predict_batches(lambda xb: m.bottleneck.symbols(m.encoder_features(xb)), self._checked(X),
                               self.device_, batch_size=CODING_BATCH)
        return code.astype(np.int32)

    def images_from_symbols(self, symbols: np.ndarray) -> np.ndarray:
        """Decoded uint8 images ``(n, c, h, w)`` (``(n, h, w)`` for one channel) from integer codes."""
        check_is_fitted(self)
        m = self.model_.eval()
        decoded = predict_batches(lambda s: m.decode(m.bottleneck.dequantise(s)),
                                  np.asarray(symbols, dtype=np.float32), self.device_, batch_size=CODING_BATCH)
        images = np.clip(np.rint(decoded * 255.0), 0, 255).astype(np.uint8)
        return images[:, 0] if images.shape[1] == 1 else images

    def _checked(self, X: object) -> np.ndarray:
        x = as_unit_images(X)
        if x.shape[1:] != self.image_shape_:
            raise ValueError(f"this codec codes images of shape {self.image_shape_} (channels, height, width); got "
                             f"{x.shape[1:]}; resize them, or train a codec on images of that size")
        return x

    def compress(self, X: object) -> bytes:
        """All images in one many-image file (a shared header: the cheapest per image)."""
        return pack_many(self.symbols(X), self.scales_, self.codec_id_)

    def compress_each(self, X: object) -> list[bytes]:
        """One self-contained one-image file per image (5 header bytes each)."""
        return [pack_one(s, self.scales_, self.codec_id_) for s in self.symbols(X)]

    def decompress(self, data: bytes | list[bytes], *, name: str = "the file") -> np.ndarray:
        """uint8 images from a many-image file, or from a list of one-image files (their images in order)."""
        check_is_fitted(self)
        if isinstance(data, (bytes, bytearray, memoryview)):
            symbols = unpack(bytes(data), self.scales_, self.codec_id_, name=name)
        else:
            symbols = np.concatenate([unpack(d, self.scales_, self.codec_id_, name=f"{name} {i}")
                                      for i, d in enumerate(data)])
        return self.images_from_symbols(symbols)

    # -------------------------------------------------------------------------------------- persist
    def _state(self) -> dict[str, Any]:
        return {"config": {"model": self.config_.to_dict(), "image_shape": list(self.image_shape_),
                           "n_iter": self.n_iter_, "codec_id": self.codec_id_.hex()},
                "tensors": self.model_.state_dict(), "history": self.history_}

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted = saved["config"]["fitted"]
        self.config_ = ModelConfig.from_dict(fitted["model"])
        self.model_ = self._placed(AutoEncoderModel(self.config_), saved["state_dict"], device)
        self.image_shape_ = tuple(fitted["image_shape"])
        self.n_iter_, self.history_ = fitted["n_iter"], saved["history"]
        self._set_identity()
        if self.codec_id_.hex() != fitted["codec_id"]:
            raise ValueError(f"{path}: the weights do not match the codec id in config.json; the directory was altered")

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        fitted = config.get("fitted", {})
        return {**super().describe(config), "image shape": fitted.get("image_shape"),
                "lmbda": config.get("params", {}).get("lmbda"), "codec id": (fitted.get("codec_id") or "")[:16]}


__all__ = ["Codec", "as_unit_images"]
