"""Several processes training one model: PyTorch's own engine (``torch.distributed``), launched by ``torchrun``.

aekit never starts processes itself. ``torchrun --nproc-per-node N -m aekit train ...`` (or any script run under
``torchrun``) sets ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``; :func:`world` sees them and joins the process group
the first time it is asked (gloo on CPU, NCCL with one GPU per rank), so ``AutoEncoder.fit`` and the Trainer run
unchanged. Without those variables everything here is a no-op for a world of one process.

A collective that waits longer than ``AEKIT_DIST_TIMEOUT`` seconds (default 1800) fails instead of hanging when
another rank has died; ``torchrun`` also stops the other ranks when one exits with an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

DEFAULT_TIMEOUT_S = 1800


class PeerLost(RuntimeError):
    """A collective operation failed: usually another process of the job died or stopped answering."""


@contextmanager
def collective(what: str) -> Iterator[None]:
    """Turn the backend's low-level failure of ``what`` into :class:`PeerLost`, naming this rank."""
    try:
        yield
    except RuntimeError as exc:
        if isinstance(exc, PeerLost) or not (dist.is_available() and dist.is_initialized()):
            raise
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PeerLost(f"rank {dist.get_rank()} of {dist.get_world_size()}: {what} failed ({first_line}); another "
                       "process of this job has probably died or hangs -- see its output. A run with a checkpoint "
                       "continues with --resume") from exc


@dataclass(frozen=True)
class World:
    """This process's place among the processes training together."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints, run directories and reports, and shows progress."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return default if value in (None, "") else int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be a whole number, got {value!r}") from None


def timeout() -> timedelta:
    """How long a collective may wait for the other ranks (``AEKIT_DIST_TIMEOUT`` seconds)."""
    return timedelta(seconds=_env_int("AEKIT_DIST_TIMEOUT", DEFAULT_TIMEOUT_S))


def world() -> World:
    """The current world; joins the process group set up by ``torchrun`` on first use."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), _env_int("LOCAL_RANK", dist.get_rank()))
    size = _env_int("WORLD_SIZE", 1)
    if size <= 1:
        return World()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    local_rank = _env_int("LOCAL_RANK", 0)
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, timeout=timeout())
    return World(dist.get_rank(), dist.get_world_size(), local_rank)


def default_device() -> torch.device:
    """One GPU per rank (``LOCAL_RANK``) when CUDA is present, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", world().local_rank)
    return torch.device("cpu")


def _device_for_collectives() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def all_sum(values: torch.Tensor) -> torch.Tensor:
    """``values`` summed over every rank (returned on the caller's device); itself in a world of one."""
    if not world().active:
        return values
    buf = values.detach().to(_device_for_collectives(), torch.float64).clone()
    with collective("summing losses over ranks"):
        dist.all_reduce(buf, op=dist.ReduceOp.SUM)
    return buf.to(values.device)


def same_on_all_ranks(value: int) -> int:
    """Rank 0's ``value`` on every rank (a seed drawn at random must be one seed for the whole job)."""
    if not world().active:
        return value
    buf = torch.tensor([value], dtype=torch.int64, device=_device_for_collectives())
    with collective("sharing the seed"):
        dist.broadcast(buf, src=0)
    return int(buf.item())


def gather_bytes(data: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's uint8 tensor of the same length (each rank's RNG state, for a checkpoint), in rank order."""
    w = world()
    if not w.active:
        return [data]
    local = data.to(_device_for_collectives())
    parts = [torch.empty_like(local) for _ in range(w.size)]
    with collective("gathering random states for the checkpoint"):
        dist.all_gather(parts, local)
    return [p.cpu() for p in parts]


def barrier() -> None:
    if world().active:
        with collective("waiting for the other ranks"):
            dist.barrier()


def shutdown() -> None:
    """Leave the process group cleanly (all ranks first meet, so none exits while another still talks); quietly
    when another rank is already gone."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        except RuntimeError:
            pass  # a rank is gone: the error that matters was reported where it happened
        dist.destroy_process_group()
