"""Small helpers used across aekit, written once: atomic writes, JSON reading, powers of two.

Torch-free on purpose: the report layer and the data readers use these without importing torch.
"""

from __future__ import annotations

import gc
import json
import math
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a burst of long-lived allocations, such as importing aekit.

    Importing torch, scikit-learn, pandas and matplotlib creates a few hundred thousand objects that live as long
    as the process; the collector would walk them again and again while they are being made (about 0.3 s of a 2 s
    import on a small machine) and find no garbage. Reference counting still frees everything it can meanwhile;
    the collector resumes as it was.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash never leaves a half-written file.

    The bytes go to a temporary file in the same directory, which is then renamed over the target;
    a rename within one filesystem is atomic, so readers see the old file or the new one, never a mix.
    The file gets ordinary permissions (0o666 less the umask), not ``tempfile``'s private 0o600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike, what: str) -> Any:
    """Read a JSON file, turning a missing or damaged file into a clear error naming ``what`` it is."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} at {path} is not valid JSON ({exc}); the file is damaged or not an aekit file") from exc


def one_line(message: object, limit: int = 2000) -> str:
    """``message`` as one line of at most ``limit`` characters: what a user or a client reads, and a log greps."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def next_pow2(x: float) -> int:
    """Smallest power of two >= x (at least 1)."""
    return 1 << max(0, math.ceil(math.log2(max(x, 1.0))))


def clip(x: int, lo: int, hi: int) -> int:
    """Clamp an integer into ``[lo, hi]``."""
    return max(lo, min(hi, x))
