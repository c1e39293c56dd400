"""Which number format the training step computes in.

Why: on CPUs with native bfloat16 arithmetic (AVX512-BF16 or AMX), running the encoder's and decoder's matrix
products and convolutions in bfloat16 under ``torch.autocast`` trains the dense 784-256-32 autoencoder 1.35x
(batch 32) to 2.7x (batch 256) faster per thread, and a conv autoencoder 1.25x (a one-thread timing of the bare
step; ``benchmarks/train_speed.py`` gives the end-to-end figures on the docs' Benchmarks page). Weights, optimizer
state, the bottleneck and the loss stay in float32 (see ``AutoEncoderModel.loss_and_code``). CPUs without it
would only emulate bfloat16 (slower), so they, and GPUs, keep float32 unless asked. So does small work (under
``SMALL_WORK_MACS`` multiply-adds per batch, the line ``threads.py`` draws): there each product is too small to
gain and the casts add kernels -- ``aekit detect fit`` on a 569 x 30 table took 5.6 s instead of 4.8 s.

So does work that uses each weight too few times per batch (``MIN_WEIGHT_REUSE``): autocast casts every weight
to bfloat16 and every weight gradient back once per step, and a dense layer uses each weight once per row, so
at small batches the casts cost what the faster products save. How much depends on the CPU's memory speed.
Measured with two threads, bfloat16 against float32 samples/s, dense 784-256-32 on MNIST: on one 2-core machine
a tie at batch 32 (reuse 32) and 2x at batch 256; on another of the same kind with slower small steps
0.81x at batch 32, 0.85x at 64, 1.01x at 128 and 1.22x at 256 (`benchmarks/train_speed.py --compare-precision`),
while a conv autoencoder at batch 32 (each weight used ~570 times) gained 1.18x. With the optimizer no longer
computing on subnormal moments (smaller fixed costs per step), the second machine measured 0.75x at batch 48,
0.86x at 64, 0.82x at 96 and 0.99x at 128 (`--compare-precision --epochs 1 --batch-sizes 48,64,96,128`). The line sits between 96, where bfloat16 still lost, and 128, where the two tie.
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import ContextManager

import torch

from .threads import SMALL_WORK_MACS

PRECISIONS = ("auto", "float32", "bfloat16")


@functools.cache
def native_bfloat16_cpu() -> bool:
    """True when this CPU has bfloat16 instructions (AVX512-BF16 or AMX tiles)."""
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)


#: Multiply-adds per weight per batch below which autocast's weight casts cost what bfloat16 saves (see above).
MIN_WEIGHT_REUSE = 112


def training_dtype(precision: str, device: torch.device, macs_per_batch: float = math.inf,
                   weights: int = 0) -> torch.dtype:
    """The autocast dtype for ``precision`` on ``device``. ``"auto"`` is bfloat16 on a CPU that has it, for work
    of at least ``SMALL_WORK_MACS`` multiply-adds per batch that uses each of the model's ``weights`` (0: not
    known) at least ``MIN_WEIGHT_REUSE`` times; float32 otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "auto":
        reused = weights <= 0 or macs_per_batch >= MIN_WEIGHT_REUSE * weights
        gains = device.type == "cpu" and native_bfloat16_cpu() and macs_per_batch >= SMALL_WORK_MACS and reused
        return torch.bfloat16 if gains else torch.float32
    return torch.bfloat16 if precision == "bfloat16" else torch.float32


def autocast(dtype: torch.dtype, device: torch.device) -> ContextManager:
    """``torch.autocast`` to ``dtype`` on ``device``, or nothing for float32."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def step_arithmetic(precision: str, device: torch.device, macs_per_batch: float,
                    weights: int = 0) -> tuple[int, str]:
    """CPU threads and number format name (``"float32"`` / ``"bfloat16"``) for training steps of this size on a
    model of ``weights`` parameters: what every estimator passes to ``TrainConfig(num_threads=..., precision=...)``."""
    from .threads import threads_for

    dtype = training_dtype(precision, device, macs_per_batch, weights)
    return threads_for(macs_per_batch), str(dtype).removeprefix("torch.")
