"""``Codec``: a learned lossy image codec for one domain (digits, scans, sensor frames, product photos).

Why this shape: an autoencoder whose code is quantised to integers and entropy-coded is a codec (Ballé et al.,
2017/2018). Its model (``models/hyperprior.py``) has two codes: a small global one that carries the gist of the
image, and a spatial one for the local detail, whose prior the global code predicts, so the file pays only for
what the global code could not foresee. Training minimises ``bits + lmbda x squared error`` (per image, pixels in
[0, 1]), so ``lmbda`` trades size against quality: larger is sharper and bigger. Images of the domain it was
trained on need far fewer bytes than a general codec, because the decoder already knows what such images look
like; other images it serves badly, like any learned codec.

The files are real: ``aekit.io.bitstream`` writes a 3-byte header and a range-coded stream (constriction) for one
image, or a shared header for many. Every file carries a check value over the codec's id, the stream and the decoded
symbols, so a file is never decoded into a wrong image by the wrong codec, nor from a damaged or truncated stream.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._utils import clip, next_pow2
from ..data.batches import TensorBatches
from ..data.images import uint8_pixels, unit_pixels
from ..io import bitstream
from ..metrics import psnr
from ..models.hyperprior import SCALE_TABLE, HyperpriorCodecModel, HyperpriorConfig
from ..models.inference import predict_batches
from ..models.input_norm import channel_moments
from ..models.flops import forward_macs
from ..training import Budget, resolve_device
from ..training.budget import CODEC
from ..training.callbacks import Callback
from ..training.precision import autocast, native_bfloat16_cpu
from .base import TRAINING_CONSTRAINTS, ModelEstimator, register_format

#: Images encoded or decoded per batch (what the compression benchmark's speed was measured with).
CODING_BATCH = 1024
#: With a target PSNR: change of log10(lmbda) per dB the round trip misses it by, after each epoch. On MNIST a
#: decade of lmbda moved PSNR by about 6 dB (the compression benchmark: 100 -> 28.1 dB, 1,000 -> 34.2 dB), so 1/6
#: would correct fully; three quarters of that damps the noise of one epoch's measurement.
LMBDA_PER_DB = 0.12
#: Most log10(lmbda) moves in one epoch (a factor of 2): early epochs miss any target because the model has not
#: learned yet, not because lmbda is wrong.
MAX_STEP = 0.3
#: Training images whose round trip the target PSNR is measured on.
TARGET_SAMPLE = 512


class QualityTarget(Callback):
    """Steers ``lmbda`` toward a target PSNR while training: after each epoch, the round trip of a fixed sample of
    training images (through rounded codes, in 8-bit pixels, as a file would decode) is measured and ``lmbda`` is
    multiplied by ``10 ** (LMBDA_PER_DB * (target - measured))``, by at most a factor of 2 either way. The later
    epochs, at small learning rates, then train at the trade-off that reaches the target."""

    def __init__(self, model: HyperpriorCodecModel, sample: torch.Tensor, target_psnr: float) -> None:
        self.model, self.sample, self.target = model, sample, float(target_psnr)
        self.reference = uint8_pixels(sample.cpu().numpy())

    def on_epoch_end(self, trainer: Any, state: Any, row: dict[str, float]) -> None:
        training = self.model.training
        self.model.eval()
        with torch.no_grad():
            decoded = uint8_pixels(self.model.reconstruct(self.sample).cpu().numpy())
        self.model.train(training)
        measured = float(psnr(self.reference, decoded).mean())
        step = float(np.clip(LMBDA_PER_DB * (self.target - measured), -MAX_STEP, MAX_STEP))
        self.model.config.lmbda *= 10**step
        row.update(sample_psnr=measured, lmbda=self.model.config.lmbda)


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
    lmbda : float, default=1000.0
        Weight of the squared error (summed over an image's pixels in [0, 1]) against the bits: larger gives
        sharper, bigger files. On MNIST's test digits 100 gives 28.1 dB PSNR in 29 bytes per one-image file and
        1,000 gives 34.2 dB in 60 (the compression benchmark). With ``target_psnr``, the value training starts
        from.
    target_psnr : float, optional
        Quality to reach instead of a fixed ``lmbda``: after each epoch ``lmbda`` is moved toward the value whose
        round trip reaches this PSNR (dB, mean over a sample of the training images); ``lmbda_`` is where it ended.
    latent_dim : int, default=64
        Values of the global code (an upper bound: its prior learns to spend no bits on those it does not need).
    spatial_channels : int, default=8
        Channels of the spatial code, which has a quarter of the image's height and width.
    channels : int, default=64
        Width of the convolutions.
    max_iter, batch_size : int, optional
        ``None`` sizes them to the data (about 8,000 steps in batches of 16 to 64: 9 epochs of 60,000 images).
    learning_rate : float, default=1e-3
    device : str, default="auto"
    random_state : int, RandomState or None
    verbose : int, default=0

    Attributes
    ----------
    model_ : HyperpriorCodecModel
    lmbda_ : float
        The trade-off the codec was trained at last (``lmbda``, unless ``target_psnr`` moved it).
    image_shape_ : tuple
        ``(c, h, w)`` of the images it codes.
    codec_id_ : bytes
        SHA-256 of its architecture and weights; every file's check value covers it.
    history_ : list of dict
    """

    FORMAT = "aekit.codec"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "lmbda": [Interval(Real, 0, None, closed="neither")],
        "target_psnr": [Interval(Real, 0, None, closed="neither"), None],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "spatial_channels": [Interval(Integral, 1, None, closed="left")],
        "channels": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, *, lmbda: float = 1000.0, target_psnr: float | None = None, latent_dim: int = 64,
                 spatial_channels: int = 8, channels: int = 64,
                 max_iter: int | None = None, batch_size: int | None = None, learning_rate: float = 1e-3,
                 device: str = "auto", random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0) -> None:
        self.lmbda = lmbda
        self.target_psnr = target_psnr
        self.latent_dim = latent_dim
        self.spatial_channels = spatial_channels
        self.channels = channels
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
        seed = self._fit_seed()
        moments = channel_moments(x)
        self.config_ = HyperpriorConfig(
            input_shape=self.image_shape_, channels=int(self.channels), spatial_channels=int(self.spatial_channels),
            global_dim=int(self.latent_dim), mean=list(moments["mean"]), std=list(moments["std"]),
            lmbda=float(self.lmbda))
        self.device_ = resolve_device(self.device)
        self.model_ = self._build_model(lambda: HyperpriorCodecModel(self.config_), seed)
        # Small batches: a step of 256 images took as long per epoch as four of 64 on MNIST (the convolutions are
        # the cost, not the per-step overhead), so 64 buys four times the updates for the same time.
        batch = self.batch_size or clip(next_pow2(len(x) / 1000), 16, 64)
        data = TensorBatches.from_numpy(x)
        epochs = self.max_iter or CODEC.epochs(len(x), batch, forward_macs(self.model_, data.example()))
        callbacks = []
        if self.target_psnr is not None:
            rows = np.random.default_rng(seed).permutation(len(x))[:TARGET_SAMPLE]
            sample = torch.from_numpy(x[np.sort(rows)]).to(self.device_)
            callbacks.append(QualityTarget(self.model_, sample, self.target_psnr))
        self._fit_model(self.model_, data, Budget(epochs, batch), seed=seed, label="codec", early_stopping=False,
                        callbacks=callbacks)
        self.lmbda_ = self.config_.lmbda
        self._set_identity()
        return self

    def _set_identity(self) -> None:
        digest = hashlib.sha256(json.dumps(self.config_.to_dict(), sort_keys=True).encode())
        for name, value in sorted(self.model_.state_dict().items()):
            digest.update(name.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        self.codec_id_ = digest.digest()
        self.scales_ = self.model_.global_code.scales().detach().cpu().double().numpy()

    # ---------------------------------------------------------------------------------------- coding
    def symbols(self, X: object) -> bitstream.Symbols:
        """The integer code of images (global and spatial symbols): what the files hold."""
        return self._encoded(X)[0]

    def _encoded(self, X: object) -> tuple[bitstream.Symbols, np.ndarray]:
        """Images' symbols and the coder's scale for each spatial symbol ``(n, M)``."""
        check_is_fitted(self)
        with self._coding_arithmetic():
            g, s, index = predict_batches(self.model_.eval().symbols, self._checked(X), self.device_,
                                          batch_size=CODING_BATCH)
        return bitstream.Symbols(g.astype(np.int32), s.astype(np.int32)), SCALE_TABLE.numpy()[index.astype(np.int64)]

    def images_from_symbols(self, symbols: bitstream.Symbols, mean: np.ndarray | None = None) -> np.ndarray:
        """Decoded uint8 images ``(n, c, h, w)`` (``(n, h, w)`` for one channel) from integer codes (``mean``: the
        prior's spatial means, when already computed)."""
        check_is_fitted(self)
        k, m = symbols.global_.shape[1], symbols.spatial.shape[1]
        parts = [symbols.global_, symbols.spatial] + ([] if mean is None else [mean])
        with self._coding_arithmetic():
            widths = [k, m, m][: len(parts)]
            decoded = predict_batches(lambda t: self.model_.eval().decode(*t.double().split(widths, 1)),
                                      np.concatenate(parts, 1).astype(np.float64), self.device_,
                                      batch_size=CODING_BATCH)
        images = uint8_pixels(decoded)
        return images[:, 0] if images.shape[1] == 1 else images

    def _coding_arithmetic(self) -> contextlib.AbstractContextManager:
        """bfloat16 convolutions when coding on a CPU that has them: twice as fast on MNIST, and within 0.01 dB of
        float32 (the probabilities, which encoder and decoder must agree on, stay in float64 regardless)."""
        native = self.device_.type == "cpu" and native_bfloat16_cpu()
        return autocast(torch.bfloat16 if native else torch.float32, self.device_)

    def _checked(self, X: object) -> np.ndarray:
        x = as_unit_images(X)
        if x.shape[1:] != self.image_shape_:
            raise ValueError(f"this codec codes images of shape {self.image_shape_} (channels, height, width); got "
                             f"{x.shape[1:]}; resize them, or train a codec on images of that size")
        return x

    def compress(self, X: object) -> bytes:
        """All images in one many-image file (a shared header: the cheapest per image)."""
        sym, spatial_scales = self._encoded(X)
        return bitstream.pack_many(bitstream.encode(sym, self.scales_, spatial_scales), sym, self.codec_id_)

    def compress_each(self, X: object) -> list[bytes]:
        """One self-contained one-image file per image (3 header bytes each)."""
        sym, spatial_scales = self._encoded(X)
        files = []
        for i in range(len(sym)):
            one = bitstream.Symbols(sym.global_[i : i + 1], sym.spatial[i : i + 1])
            files.append(bitstream.pack_one(bitstream.encode(one, self.scales_, spatial_scales[i : i + 1]), one,
                                            self.codec_id_))
        return files

    def decompress(self, data: bytes | list[bytes], *, name: str = "the file") -> np.ndarray:
        """uint8 images from a many-image file, or from a list of one-image files (their images in order): ``(n, c,
        h, w)``, or ``(n, h, w)`` for a one-channel codec whichever of the two shapes was compressed."""
        check_is_fitted(self)
        single = isinstance(data, (bytes, bytearray, memoryview))
        files = [bytes(data)] if single else [bytes(d) for d in data]
        names = [name] if single else [f"{name} {i}" for i in range(len(files))]
        parsed = [bitstream.parse(d, self.codec_id_, name=n) for d, n in zip(files, names)]
        reader = bitstream.Reader([p.stream for p in parsed], [p.n for p in parsed], names)
        global_symbols = reader.global_symbols(self.scales_)
        mean, index = predict_batches(self.model_.eval().prior, global_symbols.astype(np.float32), self.device_,
                                      batch_size=CODING_BATCH)
        decoded = reader.spatial_symbols(SCALE_TABLE.numpy()[index.astype(np.int64)])
        checked = [bitstream.verified(p, s, name=n) for p, s, n in zip(parsed, decoded, names)]
        symbols = bitstream.Symbols(global_symbols, np.concatenate([s.spatial for s in checked]))
        return self.images_from_symbols(symbols, mean)

    # -------------------------------------------------------------------------------------- persist
    def _state(self) -> dict[str, Any]:
        return {"config": {"model": self.config_.to_dict(), "image_shape": list(self.image_shape_),
                           "n_iter": self.n_iter_, "codec_id": self.codec_id_.hex()},
                "tensors": self.model_.state_dict(), "history": self.history_}

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted = saved["config"]["fitted"]
        self.config_ = HyperpriorConfig.from_dict(fitted["model"])
        self.model_ = self._placed(HyperpriorCodecModel(self.config_), saved["state_dict"], device)
        self.image_shape_ = tuple(fitted["image_shape"])
        self.n_iter_, self.history_ = fitted["n_iter"], saved["history"]
        self.lmbda_ = self.config_.lmbda
        self._set_identity()
        if self.codec_id_.hex() != fitted["codec_id"]:
            raise ValueError(f"{path}: the weights do not match the codec id in config.json; the directory was altered")

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        fitted = config.get("fitted", {})
        return {**super().describe(config), "image shape": fitted.get("image_shape"),
                "lmbda": config.get("params", {}).get("lmbda"), "codec id": (fitted.get("codec_id") or "")[:16]}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images (n, h, w) / (n, c, h, w), not tables
        tags.input_tags.three_d_array = True
        return tags


__all__ = ["Codec", "QualityTarget", "as_unit_images"]
