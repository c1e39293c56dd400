"""How many CPU threads a model's work gets.

Torch splits every matrix product over all cores. For a small model that is a loss: the pieces are too small to
pay for the hand-offs, and when another process holds a core the threads wait on each other for whole scheduler
slices (the bundled digits' main job took 37 s alone but 120 s beside one busy process with two threads, 32 s
with one). So work whose batches are small runs in one thread; large work keeps torch's default.
``AEKIT_NUM_THREADS`` overrides the choice (for example ``AEKIT_NUM_THREADS=1`` on a shared machine).

Measured on a 2-core x86_64 machine (training steps/s, two threads relative to one):

=====================  ================  =====  ===================
work                   MACs per batch    alone  beside 1 busy process
=====================  ================  =====  ===================
cancer table MLP, b32  7.6e4             0.94   0.45
digits conv, b32       4.2e6             1.12   0.39
MLP 64-128, b64        2.2e6             1.07   0.29
MLP 256-256, b128      2.1e7             1.52   0.42
MNIST deep, b256       2.8e8             1.65   0.52
MNIST conv, b256       1.2e9             2.30   0.45
=====================  ================  =====  ===================

Two threads lose whenever a core is taken, at every size, but win clearly on an idle machine once a batch
costs more than about 1e7 multiply-adds. The rule depends on the work only, not on the machine's load, because
convolutions give (slightly) different results with different thread counts and a seeded run must repeat.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

#: Forward multiply-adds per batch below which a second thread gains little even on an idle machine (see above).
SMALL_WORK_MACS = 1e7


def thread_override() -> int | None:
    """The thread count ``AEKIT_NUM_THREADS`` sets, or ``None`` when it is not set."""
    override = os.environ.get("AEKIT_NUM_THREADS")
    if not override:
        return None
    try:
        return max(1, int(override))
    except ValueError:
        raise ValueError(f"AEKIT_NUM_THREADS must be a whole number, got {override!r}") from None


def threads_for(macs_per_batch: float) -> int:
    """Threads for work of ``macs_per_batch`` forward multiply-adds per batch."""
    override = thread_override()
    if override is not None:
        return override
    return 1 if macs_per_batch < SMALL_WORK_MACS else torch.get_num_threads()


def limit_thread_pools(threads: int) -> None:
    """Give work started from the calling thread ``threads`` CPU threads: torch's, and the OpenMP loops of
    scikit-learn (the detector's neighbour search), with BLAS at one thread.

    Call it on the thread that runs the work. OpenMP keeps the thread count per calling thread: a limit set on the
    main thread does not reach a worker thread, whose OpenMP loops then use every core (a 256-row detector call took
    5.1 ms instead of 3.2 ms on a 2-core machine). BLAS stays at one thread because the neighbour search calls it
    inside its OpenMP loop, where a threaded OpenBLAS oversubscribes the cores and warns on every call that it may
    hang.
    """
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads, user_api="openmp")
    threadpool_limits(1, user_api="blas")


@contextmanager
def thread_count(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the caller's setting."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)
