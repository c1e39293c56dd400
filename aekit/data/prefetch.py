"""Produce an iterator's items in a background thread while the caller works on the previous ones.

Reading and encoding file chunks (Parquet decoding, NumPy) mostly runs outside Python's lock, so on a machine
whose training step uses fewer threads than it has cores, the next chunks are ready when the step wants them.
The items come in the same order as without the thread, so seeded runs repeat; an error in the thread is raised
in the caller; closing the consumer stops the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetched(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """``items``, produced up to ``depth`` ahead in a daemon thread."""
    buffer: queue.Queue = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Put ``item`` when there is room; False once the consumer has gone."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, which raises it
            offer(_Failure(exc))

    thread = threading.Thread(target=produce, name="aekit-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
