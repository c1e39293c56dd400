"""The compressed-file format of a learned codec: a few header bytes and an entropy-coded stream.

Entropy coding is constriction's asymmetric numeral system coder (``AnsCoder``); each code dimension's symbols are
coded with the discretised Laplace prior the codec learned (``QuantisedBottleneck``), so a symbol costs about the
bits the codec was trained to spend on it. Nothing here is a home-made arithmetic coder.

Two layouts, told apart by their first byte:

* **one image** (every byte counts: a 60-byte header would double a 60-byte digit)::

      0xA1 | codec id (2 bytes) | CRC-16 of id and stream (2 bytes) | ANS stream (32-bit words, little-endian,
                                                                        zero high bytes of the last one dropped)

  The image size is the codec's own, so it is not repeated.
* **many images** (identifiers are shared, so they can be long)::

      "AEKC" | version 1 (1 byte) | codec id (8 bytes) | image count (uint32) | CRC-32 (uint32) | ANS stream

A file from another codec (its id differs), a truncated or altered file (its checksum differs) or anything that is
not such a file raises ``ValueError`` saying which; decoding never returns an image from a damaged stream.
"""

from __future__ import annotations

import binascii
import struct
import zlib

import numpy as np

ONE_IMAGE = 0xA1
MANY_IMAGES = b"AEKC"
VERSION = 1
SYMBOL_RANGE = (-255, 255)


def _coder():
    import constriction

    return constriction


def _model(scales: np.ndarray):
    c = _coder()
    return c.stream.model.QuantizedLaplace(*SYMBOL_RANGE), np.zeros(len(scales)), scales.astype(np.float64)


def encode_symbols(symbols: np.ndarray, scales: np.ndarray) -> bytes:
    """Integer symbols ``(n, K)`` as one ANS stream, each column with its Laplace scale.

    The coder writes 32-bit words; the last one holds the top of its state, which is never 0 but often small, so
    its zero high bytes are dropped (up to 3 bytes, about 1 on average) and restored when decoding."""
    symbols = np.asarray(symbols, dtype=np.int32)
    model, means, sc = _model(scales)
    coder = _coder().stream.stack.AnsCoder()
    n = len(symbols)
    coder.encode_reverse(symbols.ravel(), model, np.tile(means, n), np.tile(sc, n))
    return coder.get_compressed().astype("<u4").tobytes().rstrip(b"\0")


def decode_symbols(stream: bytes, n: int, scales: np.ndarray) -> np.ndarray:
    """The ``(n, K)`` symbols of a stream written by :func:`encode_symbols`."""
    stream = stream + b"\0" * (-len(stream) % 4)
    words = np.frombuffer(stream, dtype="<u4").astype(np.uint32)
    model, means, sc = _model(scales)
    try:
        coder = _coder().stream.stack.AnsCoder(words)
        out = coder.decode(model, np.tile(means, n), np.tile(sc, n))
    except Exception as exc:  # constriction signals an impossible stream with its own error types
        raise ValueError(f"the compressed stream cannot be decoded ({exc})") from exc
    return np.asarray(out, dtype=np.int32).reshape(n, len(scales))


def _crc16(*parts: bytes) -> bytes:
    crc = 0
    for part in parts:
        crc = binascii.crc_hqx(part, crc)
    return struct.pack("<H", crc)


def pack_one(symbols: np.ndarray, scales: np.ndarray, codec_id: bytes) -> bytes:
    """One image's symbols ``(K,)`` as a one-image file."""
    stream = encode_symbols(np.asarray(symbols)[None], scales)
    return bytes([ONE_IMAGE]) + codec_id[:2] + _crc16(codec_id[:2], stream) + stream


def pack_many(symbols: np.ndarray, scales: np.ndarray, codec_id: bytes) -> bytes:
    """Every image's symbols ``(n, K)`` as one many-image file."""
    stream = encode_symbols(symbols, scales)
    return (MANY_IMAGES + bytes([VERSION]) + codec_id[:8] + struct.pack("<II", len(symbols), zlib.crc32(stream))
            + stream)


def unpack(data: bytes, scales: np.ndarray, codec_id: bytes, *, name: str = "the file") -> np.ndarray:
    """The ``(n, K)`` symbols of a one-image or many-image file written for the codec ``codec_id``."""
    data = bytes(data)
    if len(data) >= 5 and data[0] == ONE_IMAGE:
        if data[1:3] != codec_id[:2]:
            raise ValueError(f"{name} was written by another codec (id {data[1:3].hex()}, this codec is "
                             f"{codec_id[:2].hex()}); decompress it with the codec that wrote it")
        stream = data[5:]
        if _crc16(data[1:3], stream) != data[3:5] or not stream:
            raise ValueError(f"{name} is damaged or truncated (its checksum does not match)")
        return decode_symbols(stream, 1, scales)
    if data[:4] == MANY_IMAGES:
        if len(data) < 21:
            raise ValueError(f"{name} is truncated (its header is incomplete)")
        if data[4] != VERSION:
            raise ValueError(f"{name} has format version {data[4]}; this aekit reads version {VERSION}")
        if data[5:13] != codec_id[:8]:
            raise ValueError(f"{name} was written by another codec (id {data[5:13].hex()}, this codec is "
                             f"{codec_id[:8].hex()}); decompress it with the codec that wrote it")
        n, crc = struct.unpack("<II", data[13:21])
        stream = data[21:]
        if zlib.crc32(stream) != crc or not stream:
            raise ValueError(f"{name} is damaged or truncated (its checksum does not match)")
        return decode_symbols(stream, n, scales)
    raise ValueError(f"{name} is not an aekit compressed file")
