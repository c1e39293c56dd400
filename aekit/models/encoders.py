"""Encoder families: each registered name builds an encoder and the decoder that mirrors it.

* ``mlp``: fully connected layers (basic, deep and stacked autoencoders; any input flattened).
* ``conv``: stride-2 convolutions for images ``(C, H, W)`` of any size.
* ``bag``: ``mlp`` over rows scaled to unit length, for bags of items (recommendation); optionally with layer
  norms and a linear decoder (RecVAE's shape).

``build(input_shape, latent_dim, config)`` returns ``(encoder, decoder)``; the encoder exposes ``out_dim``, the
width of the features the bottleneck reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from ..registry import Registry
from .conv import ConvDecoder, ConvEncoder
from .mlp import BagEncoder, MLPDecoder, MLPEncoder

ENCODERS: Registry[type] = Registry("encoder")


@ENCODERS.register("mlp")
class MLPFamily:
    @dataclass
    class Config:
        hidden: tuple[int, ...] = (256,)  # layer widths, first to last
        activation: str = "relu"
        linear_path: bool = False  # a linear map from the row to the code and from the code back, beside the layers

    @staticmethod
    def build(input_shape: tuple[int, ...], latent_dim: int, config: Config) -> tuple[nn.Module, nn.Module]:
        d = math.prod(input_shape)
        hidden = tuple(int(h) for h in config.hidden)
        return (MLPEncoder(d, hidden, config.activation, linear_path=config.linear_path),
                MLPDecoder(latent_dim, hidden, d, config.activation, config.linear_path))


@ENCODERS.register("bag")
class BagFamily:
    @dataclass
    class Config:
        hidden: tuple[int, ...] = (256,)
        activation: str = "relu"
        layer_norm: bool = False  # a layer norm after each encoder activation
        linear_decoder: bool = False  # code -> items in one linear layer instead of the mirror of the encoder

    @staticmethod
    def build(input_shape: tuple[int, ...], latent_dim: int, config: Config) -> tuple[nn.Module, nn.Module]:
        d = math.prod(input_shape)
        hidden = tuple(int(h) for h in config.hidden)
        return (BagEncoder(d, hidden, config.activation, config.layer_norm),
                MLPDecoder(latent_dim, () if config.linear_decoder else hidden, d, config.activation))


@ENCODERS.register("conv")
class ConvFamily:
    @dataclass
    class Config:
        hidden: tuple[int, ...] = (16, 32)  # channels per stride-2 stage
        activation: str = "relu"
        dense: int = 0  # units of a dense layer between the last feature map and the code (0: none)
        upsample: str = "transpose"  # decoder stages: "transpose" (stride-2 transposed conv) | "resize" (+ conv)
        norm: str = "none"  # after each convolution: "none" | "batch"
        linear_path: bool = False  # a linear map from pixels to code and code to pixels beside the convolutions

    @staticmethod
    def build(input_shape: tuple[int, ...], latent_dim: int, config: Config) -> tuple[nn.Module, nn.Module]:
        if len(input_shape) != 3:
            raise ValueError(f"a conv encoder needs image input (C, H, W), got input shape {tuple(input_shape)}")
        hidden = tuple(int(h) for h in config.hidden)
        return (ConvEncoder(tuple(input_shape), hidden, config.activation, config.dense, config.norm,
                            config.linear_path),
                ConvDecoder(latent_dim, tuple(input_shape), hidden, config.activation, config.dense,
                            config.upsample, config.norm, config.linear_path))
