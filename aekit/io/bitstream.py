"""The compressed-file format of a learned codec: a few header bytes and an entropy-coded stream.

Entropy coding is constriction's range coder (``RangeEncoder``; a queue, so symbols are decoded in the order they
were written, which the two-level code needs): each image's global symbols with the discretised Laplace prior
the codec learned per dimension, then its spatial symbols, each with the Gaussian scale the codec's prior net
predicted from the global ones (an index into ``models.hyperprior.SCALE_TABLE``). So a symbol costs about the
bits the codec was trained to spend on it. Nothing here is a home-made arithmetic coder.

Two layouts, told apart by their first byte:

* **one image** (every byte counts: a 20-byte header would double a 20-byte digit)::

      0xA2 | check (2 bytes) | range-coded stream (32-bit words, little-endian, trailing zero bytes dropped)

  The check is a CRC-16 of the codec's full id, the stream and the decoded symbols, so it is verified after
  decoding and refuses, in one test, a file from another codec, a damaged or truncated stream, and a decoder whose
  arithmetic disagreed with the encoder's. The image size is the codec's own, so it is not repeated.
* **many images** (identifiers are shared, so they can be long)::

      "AEKC" | version 2 (1 byte) | codec id (8 bytes) | image count (uint32) | CRC-32 (uint32) | stream

  The CRC-32 covers the codec id, the stream and the decoded symbols, as above.

A file from another codec, a truncated or altered file, a file of an older format or anything that is not such a
file raises ``ValueError`` saying which; decoding never returns an image from a damaged stream.
"""

from __future__ import annotations

import binascii
import contextlib
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ONE_IMAGE = 0xA2
MANY_IMAGES = b"AEKC"
VERSION = 2
#: First bytes of the files of format version 1 (a global code only, written by aekit 0.1).
OLDER_ONE_IMAGE = {0xA1: 1}
SYMBOL_RANGE = (-255, 255)
MANY_HEADER = 21


def _constriction():
    import constriction

    return constriction


@dataclass
class Symbols:
    """The integer code of ``n`` images: global symbols ``(n, K)`` and spatial symbols ``(n, M)``."""

    global_: np.ndarray
    spatial: np.ndarray

    def __len__(self) -> int:
        return len(self.global_)

    def check_bytes(self, codec_id: bytes, stream: bytes) -> bytes:
        """What a file's check value is computed over: the codec's id, the stream, then every symbol as int16."""
        return codec_id + stream + self.global_.astype("<i2").tobytes() + self.spatial.astype("<i2").tobytes()


def encode(symbols: Symbols, global_scales: np.ndarray, spatial_scales: np.ndarray) -> bytes:
    """One range-coded stream: every image's global symbols (Laplace, one scale per dimension), then every image's
    spatial symbols (Gaussian, ``spatial_scales`` ``(n, M)`` one per symbol). Trailing zero bytes are dropped
    (about one per stream) and restored as zeros when reading."""
    c = _constriction()
    n = len(symbols)
    coder = c.stream.queue.RangeEncoder()
    if symbols.global_.size:
        coder.encode(symbols.global_.astype(np.int32).ravel(), c.stream.model.QuantizedLaplace(*SYMBOL_RANGE),
                     np.zeros(symbols.global_.size), np.tile(np.asarray(global_scales, np.float64), n))
    if symbols.spatial.size:
        coder.encode(symbols.spatial.astype(np.int32).ravel(), c.stream.model.QuantizedGaussian(*SYMBOL_RANGE),
                     np.zeros(symbols.spatial.size), np.asarray(spatial_scales, np.float64).ravel())
    return coder.get_compressed().astype("<u4").tobytes().rstrip(b"\0")


class Reader:
    """Reads streams written by :func:`encode` (``counts[i]`` images in ``streams[i]``, called ``names[i]`` in
    errors) in two passes: every stream's global symbols, then, given the scales the codec's prior net predicts
    from those, every stream's spatial symbols. So many one-image files cost one pass of the prior net, not one
    each."""

    def __init__(self, streams: list[bytes], counts: list[int], names: list[str]) -> None:
        c = _constriction()
        self._laplace = c.stream.model.QuantizedLaplace(*SYMBOL_RANGE)
        self._gaussian = c.stream.model.QuantizedGaussian(*SYMBOL_RANGE)
        self.counts, self.names, self.coders = counts, names, []
        for stream, name in zip(streams, names):
            words = np.frombuffer(stream + b"\0" * (-len(stream) % 4), dtype="<u4").astype(np.uint32)
            with _undecodable(name):
                self.coders.append(c.stream.queue.RangeDecoder(words))
        self._global: list[np.ndarray] = []

    def global_symbols(self, global_scales: np.ndarray) -> np.ndarray:
        """Every stream's global symbols, ``(sum(counts), K)``."""
        scales = np.asarray(global_scales, np.float64)
        k = len(scales)
        for coder, n, name in zip(self.coders, self.counts, self.names):
            with _undecodable(name):
                g = coder.decode(self._laplace, np.zeros(n * k), np.tile(scales, n)) if n * k else []
            self._global.append(np.asarray(g, np.int32).reshape(n, k))
        return np.concatenate(self._global)

    def spatial_symbols(self, spatial_scales: np.ndarray) -> list[Symbols]:
        """Every stream's symbols, given the scales ``(sum(counts), M)`` of all spatial symbols in stream order."""
        spatial_scales = np.asarray(spatial_scales, np.float64)
        out, row = [], 0
        for coder, g, name in zip(self.coders, self._global, self.names):
            sc = spatial_scales[row : row + len(g)]
            with _undecodable(name):
                s = coder.decode(self._gaussian, np.zeros(sc.size), sc.ravel()) if sc.size else []
            out.append(Symbols(g, np.asarray(s, np.int32).reshape(sc.shape)))
            row += len(g)
        return out


@contextlib.contextmanager
def _undecodable(name: str):
    """constriction's own errors for a stream no encoder could have written, as one ``ValueError``."""
    try:
        yield
    except Exception as exc:
        raise ValueError(f"{name} is damaged or truncated (its stream cannot be decoded: {exc})") from exc


def _crc16(data: bytes) -> bytes:
    return struct.pack("<H", binascii.crc_hqx(data, 0))


def pack_one(stream: bytes, symbols: Symbols, codec_id: bytes) -> bytes:
    """A one-image file: its 3-byte header, then its stream."""
    return bytes([ONE_IMAGE]) + _crc16(symbols.check_bytes(codec_id, stream)) + stream


def pack_many(stream: bytes, symbols: Symbols, codec_id: bytes) -> bytes:
    """A many-image file: the shared header, then one stream for all images."""
    check = zlib.crc32(symbols.check_bytes(codec_id, stream))
    return MANY_IMAGES + bytes([VERSION]) + codec_id[:8] + struct.pack("<II", len(symbols), check) + stream


@dataclass
class Parsed:
    """A file's stream, its image count, and the check its decoded symbols must pass."""

    stream: bytes
    n: int
    verify: Callable[[Symbols], bool]


def parse(data: bytes, codec_id: bytes, *, name: str = "the file") -> Parsed:
    """Split a one-image or many-image file written for the codec ``codec_id`` into its parts (header errors are
    raised here; the check is passed to :func:`verified` after decoding)."""
    data = bytes(data)
    if data[:1] and data[0] in OLDER_ONE_IMAGE or (data[:4] == MANY_IMAGES and data[4:5] == b"\x01"):
        raise ValueError(f"{name} has format version 1 (written by an earlier aekit codec); this aekit reads version "
                         f"{VERSION}: decompress it with the aekit that wrote it")
    if data[:1] == bytes([ONE_IMAGE]):
        if len(data) < 4:
            raise ValueError(f"{name} is truncated (its header is incomplete)")
        expected, stream = data[1:3], data[3:]
        return Parsed(stream, 1, lambda s: _crc16(s.check_bytes(codec_id, stream)) == expected)
    if data[:4] == MANY_IMAGES:
        if len(data) < MANY_HEADER:
            raise ValueError(f"{name} is truncated (its header is incomplete)")
        if data[4] != VERSION:
            raise ValueError(f"{name} has format version {data[4]}; this aekit reads version {VERSION}")
        if data[5:13] != codec_id[:8]:
            raise ValueError(f"{name} was written by another codec (id {data[5:13].hex()}, this codec is "
                             f"{codec_id[:8].hex()}); decompress it with the codec that wrote it")
        n, crc = struct.unpack("<II", data[13:MANY_HEADER])
        stream = data[MANY_HEADER:]
        return Parsed(stream, n, lambda s: zlib.crc32(s.check_bytes(codec_id, stream)) == crc)
    raise ValueError(f"{name} is not an aekit compressed file")


def verified(parsed: Parsed, symbols: Symbols, *, name: str = "the file") -> Symbols:
    """``symbols`` if they pass the file's check, else a ``ValueError`` saying what that means."""
    if not parsed.verify(symbols):
        if parsed.n == 1:
            raise ValueError(f"{name} does not match this codec: it was written by another codec, or it is damaged "
                             "or truncated (its check value differs)")
        raise ValueError(f"{name} is damaged or truncated (its checksum does not match)")
    return symbols


__all__ = ["MANY_IMAGES", "ONE_IMAGE", "SYMBOL_RANGE", "VERSION", "Parsed", "Symbols", "encode",
           "pack_many", "pack_one", "parse", "verified", "Reader"]
