"""The one batched-inference helper: apply a tensor function to an array in bounded-memory batches."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

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


class _Method(nn.Module):
    """``model.<name>`` as ``forward``: ``functional_call`` runs a module's ``forward`` only."""

    def __init__(self, model: nn.Module, name: str) -> None:
        super().__init__()
        self.model, self.name = model, name

    def forward(self, x: torch.Tensor):
        return getattr(self.model, self.name)(x)


def in_float64(model: nn.Module, method: str) -> Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, ...]]:
    """``model.<method>`` computed in float64, for results that must not depend on how many rows are computed
    together (float32 kernels round by batch size). The weights and buffers are lent as float64 copies for the
    call; the module itself is neither copied nor changed (a deep copy of a small model costs ~1 ms per call, this
    ~0.2 ms)."""
    state = {f"model.{name}": t.double() if t.is_floating_point() else t
             for name, t in chain(model.named_parameters(), model.named_buffers())}
    wrapper = _Method(model, method)
    return lambda x: functional_call(wrapper, state, (x.double(),))
