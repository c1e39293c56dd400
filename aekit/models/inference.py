"""The one batched-inference helper: apply a tensor function to an array in bounded-memory batches."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

#: Rows per inference batch. Large enough that per-batch overhead vanishes, small enough that a conv model's
#: activations for one batch stay well under a gigabyte.
INFERENCE_BATCH = 4096


@torch.no_grad()
def predict_batches(
    fn: Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, ...]],
    x: np.ndarray,
    device: torch.device,
    batch_size: int = INFERENCE_BATCH,
) -> np.ndarray | tuple[np.ndarray, ...]:
    """``fn`` over ``x`` in batches, as float32 NumPy; a function returning a tuple gives a tuple of arrays."""
    outs: list[tuple[np.ndarray, ...]] = []
    single = True
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size])).to(device)
        result = fn(xb)
        single = torch.is_tensor(result)
        outs.append(tuple(t.float().cpu().numpy() for t in ((result,) if single else result)))
    if not outs:
        return np.zeros((0,), dtype=np.float32)
    joined = tuple(np.concatenate(parts) for parts in zip(*outs))
    return joined[0] if single else joined
