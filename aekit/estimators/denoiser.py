"""``Denoiser``: clean up noisy images with a fully convolutional denoising autoencoder.

Why this shape: a user has clean examples of their kind of image (or a clean photo collection) and noisy ones to
fix. ``fit`` trains on freshly corrupted copies of the clean images every step -- the noise they choose (Gaussian
with a fixed strength or a range, salt-and-pepper, masking) -- so the model never sees the same noise twice and
cannot memorise it. The network (``models/denoising_unet.py``) has no dense layer, so it trains on small random
crops of large images and is then applied to whole images of any size, in overlapping tiles when they are large.
Outputs keep the input's shape, dtype and value range: uint8 in, uint8 out.
"""

from __future__ import annotations

import math
from itertools import pairwise
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._utils import clip
from ..data.batches import TensorBatches
from ..data.image_crops import ImageCrops
from ..data.images import uint8_pixels, unit_pixels
from ..models.denoising_unet import MULTIPLE, DenoiserConfig, DenoisingUNet
from ..models.flops import forward_macs
from ..training import Budget, resolve_device
from ..training.budget import DENOISER
from ..training.threads import thread_count, threads_for
from .base import TRAINING_CONSTRAINTS, ModelEstimator, register_format

NOISES = ("gaussian", "salt-and-pepper", "masking")
#: Pixels per inference batch; larger images are cleaned in overlapping tiles of about this many pixels.
INFERENCE_PIXELS = 512 * 512
#: Pixels of context kept on each side of a tile (more than the network's receptive field), so tiles join exactly.
TILE_MARGIN = 48


def as_image_list(X: object, what: str = "images") -> tuple[list[np.ndarray], dict]:
    """Images as a list of float32 ``(c, h, w)`` arrays in [0, 1], and how to give results back in the user's form.

    Accepted: an array ``(n, h, w)`` / ``(n, c, h, w)``, or a list of ``(h, w)`` / ``(c, h, w)`` arrays of any
    sizes; uint8 (0..255) or floats in [0, 1].
    """
    if isinstance(X, np.ndarray) or (hasattr(X, "__array__") and not isinstance(X, (list, tuple))):
        arr = np.asarray(X)
        if arr.ndim not in (3, 4) or arr.shape[0] == 0:
            raise ValueError(f"{what} must be a non-empty array (n, h, w) or (n, c, h, w), or a list of images; "
                             f"got shape {arr.shape}")
        form = {"array": True, "grey": arr.ndim == 3, "dtype": arr.dtype}
        items = list(arr[:, None] if arr.ndim == 3 else arr)
    elif isinstance(X, (list, tuple)):
        if not X:
            raise ValueError(f"{what}: got an empty list")
        items = [np.asarray(im) for im in X]
        bad = [im.shape for im in items if im.ndim not in (2, 3)]
        if bad:
            raise ValueError(f"each image must be (h, w) or (c, h, w); got one of shape {bad[0]}")
        form = {"array": False, "grey": [im.ndim == 2 for im in items], "dtype": [im.dtype for im in items]}
        items = [im[None] if im.ndim == 2 else im for im in items]
    else:
        raise TypeError(f"{what} must be a NumPy array of images or a list of them, got {type(X).__name__}")
    wide = [im.shape for im in items if im.shape[0] > 4]
    if wide:
        raise ValueError(f"images must be channels-first (c, h, w) with 1 to 4 channels; got shape {wide[0]} "
                         "(for (h, w, c) arrays use np.moveaxis(image, -1, 0))")
    return [unit_pixels(im, what) for im in items], form


def _give_back(images: list[np.ndarray], form: dict) -> np.ndarray | list[np.ndarray]:
    """Cleaned ``(c, h, w)`` floats in [0, 1] back in the form and dtype the user passed."""
    def one(im: np.ndarray, grey: bool, dtype: np.dtype) -> np.ndarray:
        im = uint8_pixels(im) if dtype == np.uint8 else np.clip(im, 0.0, 1.0).astype(dtype, copy=False)
        return im[0] if grey else im

    if form["array"]:
        return np.stack([one(im, form["grey"], form["dtype"]) for im in images])
    return [one(im, g, d) for im, g, d in zip(images, form["grey"], form["dtype"])]


def _auto_loss(images: list[np.ndarray]) -> str:
    """"bce" when at least half of the pixels (of up to 64 images) are exactly 0 or 1, else "mse"."""
    sample = images[:: max(1, len(images) // 64)][:64]
    at_ends = sum(int(((im == 0) | (im == 1)).sum()) for im in sample)
    return "bce" if at_ends >= 0.5 * sum(im.size for im in sample) else "mse"


@register_format
class Denoiser(TransformerMixin, ModelEstimator):
    """Remove noise from images: ``fit`` on clean images, ``transform`` noisy ones.

    Parameters
    ----------
    noise : {"gaussian", "salt-and-pepper", "masking"}, default="gaussian"
        The corruption to train against: additive Gaussian noise, pixels set to black or white, or pixels
        set to black (occlusion).
    level : float or (float, float), default=0.5
        Strength on the [0, 1] pixel scale: the Gaussian σ (σ = 25 on the 0..255 scale is 25/255 ≈ 0.1), or the
        fraction of pixels hit. A pair ``(low, high)`` of Gaussian σ trains a *blind* denoiser for any σ in range.
    widths : (int, int, int), default=(16, 32, 64)
        Channels of the network's three resolutions (full, half, quarter); wider is slower and, with enough
        training, better.
    loss : {"auto", "mse", "bce"}, default="auto"
        ``"mse"``: the network predicts the noise (photographs); ``"bce"``: it corrects the image's logits, so
        outputs reach pure black and white (digits, scans, masks). ``"auto"`` picks "bce" when at least half of the
        training pixels sit at the ends of the range (0 or 1), else "mse" (see ``models/denoising_unet.py``).
    patch_size : int, default=48
        Side of the random training crops taken from images larger than this; smaller images train whole.
    max_iter : int, optional
        Epochs; ``None`` sizes training to the data (about 6,000 steps).
    batch_size : int, optional
        ``None``: 128 for images up to 32x32, fewer for larger crops.
    learning_rate : float, default=1e-3
    device : str, default="auto"
    random_state : int, RandomState or None
    verbose : int, default=0

    Attributes
    ----------
    model_ : DenoisingUNet
    channels_ : int
    history_ : list of dict
    train_seconds_ : float
    """

    FORMAT = "aekit.denoiser"

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "noise": [StrOptions(set(NOISES))],
        "level": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "widths": ["array-like"],
        "loss": [StrOptions({"auto", "mse", "bce"})],
        "patch_size": [Interval(Integral, 8, None, closed="left")],
    }

    def __init__(self, noise: str = "gaussian", level: float | tuple[float, float] = 0.5, *,
                 widths: tuple[int, int, int] = (16, 32, 64), loss: str = "auto", patch_size: int = 48,
                 max_iter: int | None = None, batch_size: int | None = None, learning_rate: float = 1e-3,
                 device: str = "auto",
                 random_state: int | np.random.RandomState | None = None, verbose: int = 0) -> None:
        self.noise = noise
        self.level = level
        self.widths = widths
        self.loss = loss
        self.patch_size = patch_size
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _corruption(self) -> dict:
        level = self.level
        if isinstance(level, (tuple, list, np.ndarray)):
            lo, hi = (float(v) for v in level) if len(level) == 2 else (None, None)
            if lo is None or not 0 <= lo < hi:
                raise ValueError(f"level as a range must be (low, high) with 0 <= low < high; got {tuple(level)}")
            if self.noise != "gaussian":
                raise ValueError(f"a range of levels is for noise='gaussian' (a blind denoiser); {self.noise!r} "
                                 "takes one fraction")
            return {"name": "gaussian", "level": lo, "max_level": hi}
        if self.noise != "gaussian" and not 0 < level < 1:
            raise ValueError(f"level for noise={self.noise!r} is the fraction of pixels hit, in (0, 1); got {level}")
        return {"name": self.noise, "level": float(level)}

    # ------------------------------------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: object, y: object = None) -> Denoiser:
        """Train on clean images (``y`` is ignored): an array of images, or a list of images of any sizes."""
        corruption = self._corruption()
        widths = tuple(int(w) for w in self.widths)
        if len(widths) != 3 or min(widths) < 1:
            raise ValueError(f"widths must be three positive channel counts; got {tuple(self.widths)}")
        images, _ = as_image_list(X, "training images")
        channels = {im.shape[0] for im in images}
        if len(channels) > 1:
            raise ValueError(f"training images mix channel counts {sorted(channels)}; convert them all to grey or "
                             "all to colour")
        self.channels_ = channels.pop()
        self.n_features_in_ = self.channels_
        seed = self._fit_seed()
        self.config_ = DenoiserConfig(channels=self.channels_, widths=widths, corruption=corruption,
                                      loss=self.loss if self.loss != "auto" else _auto_loss(images))
        self.device_ = resolve_device(self.device)
        self.model_ = self._build_model(lambda: DenoisingUNet(self.config_), seed)
        data, side = self._training_source(images)
        batch = self.batch_size or clip(128 * 32 * 32 // (side * side), 16, 128)
        epochs = self.max_iter or DENOISER.epochs(len(data), batch, forward_macs(self.model_, data.example()))
        self._fit_model(self.model_, data, Budget(epochs, batch), seed=seed, label="denoiser", early_stopping=False)
        return self

    def _training_source(self, images: list[np.ndarray]) -> tuple[TensorBatches | ImageCrops, int]:
        """Whole images when they are small and all one size; random crops otherwise. Also the training side."""
        sizes = {im.shape[1:] for im in images}
        patch = int(self.patch_size)
        if len(sizes) == 1 and max(next(iter(sizes))) <= patch:
            h, w = next(iter(sizes))
            if min(h, w) < MULTIPLE:
                raise ValueError(f"images must be at least {MULTIPLE}x{MULTIPLE} pixels; got {h}x{w}")
            return TensorBatches.from_numpy(np.stack(images)), max(h, w)
        smallest = min(min(s) for s in sizes)
        if smallest < patch:
            patch = max(MULTIPLE, smallest - smallest % MULTIPLE)
        crops = max(len(images), int(sum(im.shape[1] * im.shape[2] for im in images) / patch**2))
        return ImageCrops(images, patch, crops), patch

    # ------------------------------------------------------------------------------------------ denoise
    def transform(self, X: object) -> np.ndarray | list[np.ndarray]:
        """Cleaned images in the form, shape and dtype of ``X`` (uint8 in, uint8 out)."""
        check_is_fitted(self)
        images, form = as_image_list(X, "noisy images")
        wrong = [im.shape for im in images if im.shape[0] != self.channels_ and self.channels_ != 1]
        if wrong:
            raise ValueError(f"this denoiser cleans {self.channels_}-channel images; got one of shape {wrong[0]} "
                             "(channels first)")
        # A grey denoiser cleans each channel of a colour image as a grey image.
        planes = [im[k : k + 1] for im in images for k in range(im.shape[0])] if self.channels_ == 1 else images
        m = self.model_.eval().to(self.device_)
        macs = forward_macs(m, torch.zeros(1, self.channels_, 32, 32)) * min(len(planes), INFERENCE_PIXELS // 1024)
        with torch.no_grad(), thread_count(threads_for(macs)):
            if form["array"] and planes[0].shape[1] * planes[0].shape[2] <= INFERENCE_PIXELS:
                cleaned = list(self._batched(np.stack(planes)))
            else:
                cleaned = [self._tiled(im) for im in planes]
        if self.channels_ == 1:
            counts = np.cumsum([0] + [im.shape[0] for im in images])
            cleaned = [np.concatenate(cleaned[a:b]) for a, b in pairwise(counts)]
        return _give_back(cleaned, form)

    @torch.no_grad()
    def _batched(self, x: np.ndarray) -> np.ndarray:
        per = max(1, INFERENCE_PIXELS // (x.shape[2] * x.shape[3]))
        out = np.empty_like(x)
        for i in range(0, len(x), per):
            out[i : i + per] = self.model_(torch.from_numpy(x[i : i + per]).to(self.device_)).float().cpu().numpy()
        return out

    def _tiled(self, im: np.ndarray) -> np.ndarray:
        """One image, in overlapping tiles whose borders are thrown away, so the seams match a whole-image pass."""
        _, h, w = im.shape
        if h * w <= INFERENCE_PIXELS:
            return self._batched(im[None])[0]
        side = int(math.sqrt(INFERENCE_PIXELS)) - 2 * TILE_MARGIN
        out = np.empty_like(im)
        for top in range(0, h, side):
            for left in range(0, w, side):
                t0, l0 = max(0, top - TILE_MARGIN), max(0, left - TILE_MARGIN)
                t1, l1 = min(h, top + side + TILE_MARGIN), min(w, left + side + TILE_MARGIN)
                part = self._batched(im[None, :, t0:t1, l0:l1])[0]
                bottom, right = min(h, top + side), min(w, left + side)
                out[:, top:bottom, left:right] = part[:, top - t0 : bottom - t0, left - l0 : right - l0]
        return out

    def corrupt(self, X: object, random_state: int | None = None) -> np.ndarray | list[np.ndarray]:
        """Images with the training noise added (clipped to the value range), in the form of ``X``: to see what the
        denoiser was trained against, or to make test pairs."""
        check_is_fitted(self)
        images, form = as_image_list(X)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if random_state is None else int(random_state))
            noisy = [self.model_.corrupted(torch.from_numpy(im)[None])[0].numpy() for im in images]
        return _give_back(noisy, form)

    # -------------------------------------------------------------------------------------- persist
    def _state(self) -> dict[str, Any]:
        return {"config": {"model": self.config_.to_dict(), "n_iter": self.n_iter_, "train_seconds": self.train_seconds_},
                "tensors": self.model_.state_dict(), "history": self.history_}

    def _restore(self, saved: dict[str, Any], path: Path, device: str) -> None:
        fitted = saved["config"]["fitted"]
        self.config_ = DenoiserConfig.from_dict(fitted["model"])
        self.model_ = self._placed(DenoisingUNet(self.config_), saved["state_dict"], device)
        self.channels_, self.n_iter_ = self.config_.channels, fitted["n_iter"]
        self.train_seconds_, self.history_ = fitted["train_seconds"], saved["history"]

    @classmethod
    def describe(cls, config: dict) -> dict[str, Any]:
        params = config.get("params", {})
        return {"estimator": cls.__name__, "channels": config.get("fitted", {}).get("model", {}).get("channels"),
                "noise": f"{params.get('noise')} {params.get('level')}"}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # images (n, h, w) / (n, c, h, w) or a list of them, not tables
        tags.input_tags.three_d_array = True
        return tags


__all__ = ["Denoiser", "as_image_list"]
