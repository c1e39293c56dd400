"""The training loop. It knows nothing about which model it trains: it only calls ``model.loss(batch)``.

The loop itself is short: for each epoch, Adam over the batches a *batch source* hands out (see
``aekit.data.batches``), the mean of every loss term, the validation terms, the best weights so far, and a clean
stop that keeps the last good weights when the loss becomes NaN or infinite. Everything else is a callback
(``callbacks.py``): the learning-rate schedule, checkpoints and resume, the progress bar and log, the loss
threshold and early stopping, and schedules of a part's weight such as KL annealing. ``TrainConfig`` turns its
settings into the standard callbacks, so a caller only says what it wants.

The Trainer also decides how a step computes: how many CPU threads (``threads.py``) and which number format
(``precision.py``), from the multiply-adds of one batch (the model on the source's ``example``, times the batch
size) and the model's weight count, unless the config fixes them.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import nn

from ..data.batches import Batch
from ..models.flops import forward_macs, parameter_count
from . import distributed
from .adam import Adam
from .callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    LearningRateSchedule,
    LossThreshold,
    Progress,
    TrainState,
    snapshot,
)
from .precision import autocast, training_dtype
from .threads import thread_count, threads_for

logger = logging.getLogger("aekit.training")


class BatchSource(Protocol):
    """What the Trainer trains on: a row count, shuffled batches per epoch, and ordered batches to evaluate.

    Under ``torchrun`` the Trainer also passes ``rank``, ``world`` and a ``generator`` seeded alike on every rank
    (to ``epoch``; ``rank`` and ``world`` to ``sequential``), and asks ``batches_per_epoch(batch_size, world)``:
    a source that splits its rows between ranks must give every rank the same number of batches.
    """

    def __len__(self) -> int: ...

    def epoch(self, batch_size: int, rank: int = 0, world: int = 1, generator: torch.Generator | None = None): ...

    def sequential(self, batch_size: int, rank: int = 0, world: int = 1): ...

    def example(self) -> torch.Tensor: ...


@dataclass
class TrainConfig:
    """How to train; defaults are chosen by the estimator layer from the data's size."""

    max_epochs: int = 100
    batch_size: int = 128  # rows per update, over every rank together under torchrun
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "cosine"  # "cosine" (to 5% of the initial rate at max_epochs) | "constant"
    early_stopping: bool = True
    n_iter_no_change: int = 10
    tol: float = 1e-4  # relative improvement that counts as progress
    loss_threshold: float | None = None
    seed: int = 0
    verbose: int = 0
    checkpoint_path: str | None = None
    eval_batch_size: int = 2048
    progress_label: str = "training"
    num_threads: int | None = None  # torch threads while training; None: decided from a step's work
    precision: str = "auto"  # "auto" (bfloat16 on CPUs that have it, for work that gains) | "float32" | "bfloat16"


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_loss: float = math.inf
    stop_reason: str = ""
    seconds: float = 0.0
    threads: int = 1  # CPU threads the steps ran in
    precision: str = "float32"  # number format of the steps' encoder and decoder arithmetic

    @property
    def epochs_run(self) -> int:
        return len(self.history)


class Trainer:
    """Train ``model`` (anything with ``loss(batch) -> dict`` holding ``"total"``) on a batch source.

    ``callbacks`` run after the standard ones that ``config`` asks for (schedule, checkpoint, progress) and before
    the stop rules (loss threshold, early stopping); each is a :class:`~aekit.training.callbacks.Callback` or a
    plain function of the epoch's history row.
    """

    def __init__(self, model: nn.Module, config: TrainConfig, device: torch.device | str = "cpu",
                 callbacks: list[Callback | object] | None = None) -> None:
        self.model = model
        self.config = config
        self.device = torch.device(device)
        self.user_callbacks = [c if isinstance(c, Callback) else _FunctionCallback(c) for c in callbacks or []]

    def _callbacks(self, resume: bool) -> list[Callback]:
        cfg = self.config
        found: list[Callback] = [LearningRateSchedule(cfg.learning_rate, cfg.lr_schedule)]
        if cfg.checkpoint_path:
            found.append(Checkpoint(cfg.checkpoint_path, resume=resume))
        elif resume:
            raise ValueError("resume=True needs a checkpoint path (checkpoint_dir) to resume from")
        found.append(Progress(cfg.verbose, cfg.progress_label))
        found += self.user_callbacks
        if cfg.loss_threshold is not None:
            found.append(LossThreshold(cfg.loss_threshold))
        if cfg.early_stopping:
            found.append(EarlyStopping(cfg.n_iter_no_change))
        return found

    @torch.no_grad()
    def evaluate(self, data: BatchSource) -> dict[str, float]:
        """Mean of every loss term over ``data`` in evaluation mode (no corruption, VAE codes at their mean);
        under ``torchrun`` each rank evaluates its share and the means are over every rank's rows."""
        self.model.eval()
        w = distributed.world()
        batches = data.sequential(self.config.eval_batch_size, w.rank, w.size) if w.active else \
            data.sequential(self.config.eval_batch_size)
        totals = _TermTotals()
        for batch in batches:
            totals.add(self.model.loss(batch.to(self.device)), len(batch))
        return _means(totals.sums(), totals.rows, self.device)

    def fit(self, train: BatchSource, val: BatchSource | None = None, resume: bool = False) -> TrainResult:
        """Train until a stop rule fires; with early stopping the model ends with its best weights.

        The global torch RNG is forked, so training is reproducible from ``config.seed`` without changing the
        caller's random state.
        """
        threads, dtype = self.threads_and_precision(train)
        if self.config.verbose >= 1 and distributed.world().is_main:
            logger.info("%s: at most %d epochs of %d rows in batches of %d, %d CPU thread(s), %s",
                        self.config.progress_label, self.config.max_epochs, len(train), self.config.batch_size,
                        threads, str(dtype).removeprefix("torch."))
        with torch.random.fork_rng(devices=[]), thread_count(threads):
            result = self._fit(train, val, resume, dtype)
        result.threads, result.precision = threads, str(dtype).removeprefix("torch.")
        return result

    def threads_and_precision(self, train: BatchSource) -> tuple[int, torch.dtype]:
        """CPU threads and autocast dtype of this run's steps: the config's where it fixes them, else decided from
        the forward multiply-adds of a batch (``example`` of ``train`` times the batch size) and the weight count.
        The rule depends on the work only, not on the machine's load, so a seeded run repeats."""
        cfg = self.config
        if cfg.num_threads is not None and cfg.precision != "auto":
            return cfg.num_threads, training_dtype(cfg.precision, self.device)
        example = train.example()
        params = next(self.model.parameters(), None)
        macs = forward_macs(self.model, example if params is None else example.to(params.device))
        if macs is None:  # a model that is only a loss: torch's threads, the format the config asks for
            return cfg.num_threads or torch.get_num_threads(), training_dtype(cfg.precision, self.device)
        macs *= cfg.batch_size
        dtype = training_dtype(cfg.precision, self.device, macs, parameter_count(self.model))
        return cfg.num_threads or threads_for(macs), dtype

    def _fit(self, train: BatchSource, val: BatchSource | None, resume: bool, dtype: torch.dtype) -> TrainResult:
        cfg, model = self.config, self.model.to(self.device)
        w = distributed.world()
        torch.manual_seed(cfg.seed + w.rank)  # ranks draw different noise; the data order is seeded per epoch
        if self.device.type != "cpu" and hasattr(train, "to"):
            train = train.to(self.device)  # the whole set on the accelerator when it fits: no copy per batch
        optimizer = Adam(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        state = TrainState(model=model, optimizer=optimizer, max_epochs=cfg.max_epochs, best_weights=snapshot(model))
        # batch_size is the batch of one update over all ranks: each rank takes its share, so a run on N processes
        # makes the same updates per epoch as on one, with the same effective batch.
        bs = math.ceil(min(cfg.batch_size, len(train)) / w.size)
        state.steps_per_epoch = train.batches_per_epoch(bs, w.size) if hasattr(train, "batches_per_epoch") else \
            math.ceil(len(train) / bs)
        state.rows_per_epoch = len(train) // w.size * w.size
        callbacks = self._callbacks(resume)
        # Per-step hooks only of the callbacks that have them: a small model makes thousands of ~1 ms steps.
        step_starts = [cb for cb in callbacks if type(cb).on_step_start is not Callback.on_step_start]
        step_ends = [cb for cb in callbacks if type(cb).on_step_end is not Callback.on_step_end]
        for cb in callbacks:
            cb.on_fit_start(self, state)
        state.rows_seen = state.epoch * state.rows_per_epoch
        step_module = _data_parallel(model, self.device) if w.active else model
        last_good = snapshot(model)
        t0 = time.perf_counter() - (state.history[-1]["seconds"] if state.history else 0.0)
        stop_reason = f"reached max_epochs={cfg.max_epochs}"
        for epoch in range(state.epoch, cfg.max_epochs):
            model.train()
            totals = _TermTotals()
            if w.active:
                order = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
                batches = train.epoch(bs, w.rank, w.size, order)
            else:
                batches = train.epoch(bs)
            for i, batch in enumerate(batches):
                state.step = epoch * state.steps_per_epoch + i
                for cb in step_starts:
                    cb.on_step_start(self, state)
                with autocast(dtype, self.device):
                    terms = step_module(batch.to(self.device)) if w.active else model.loss(batch.to(self.device))
                state.optimizer.zero_grad(set_to_none=True)
                if w.active:
                    with distributed.collective("averaging gradients (DistributedDataParallel)"):
                        terms["total"].backward()
                else:
                    terms["total"].backward()
                state.optimizer.step()
                totals.add(terms, len(batch))
                state.rows_seen += len(batch) * w.size
                for cb in step_ends:
                    cb.on_step_end(self, state)
            row: dict[str, float] = {"epoch": epoch + 1}
            row.update({f"train_{k}": v for k, v in _means(totals.sums(), totals.rows, self.device).items()})
            finite = all(math.isfinite(v) for v in row.values())
            if finite and val is not None and len(val):
                row.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
                finite = all(math.isfinite(v) for v in row.values())
            if not finite:
                model.load_state_dict(last_good)
                stop_reason = (f"loss became NaN/inf in epoch {epoch + 1}; kept the weights of epoch {epoch} "
                               "(lower learning_rate, or check the data for extreme values)")
                logger.warning(stop_reason)
                break
            row["lr"] = state.optimizer.param_groups[0]["lr"]
            row["seconds"] = time.perf_counter() - t0
            if w.active:
                row["world_size"] = w.size
            state.history.append(row)
            state.epoch = epoch + 1
            state.monitored = row.get("val_total", row["train_total"])
            if state.monitored < state.best_loss - cfg.tol * abs(state.best_loss) or not math.isfinite(state.best_loss):
                state.best_loss, state.best_epoch, state.wait = state.monitored, epoch + 1, 0
                state.best_weights = snapshot(model)
            else:
                state.wait += 1
            last_good = snapshot(model)
            state.last_good = last_good
            for cb in callbacks:
                cb.on_epoch_end(self, state, row)
            if state.stop_reason:
                stop_reason = state.stop_reason
                break
        for cb in callbacks:
            cb.on_fit_end(self, state)
        model.eval()
        return TrainResult(history=state.history, best_epoch=state.best_epoch, best_loss=state.best_loss,
                           stop_reason=stop_reason, seconds=time.perf_counter() - t0)


class _TermTotals:
    """Row-weighted totals of each loss term over an epoch. The batch values are kept and summed once at the end:
    a running sum costs two tensor operations per term and step, a few percent of a small model's step."""

    def __init__(self) -> None:
        self.values: dict[str, list[torch.Tensor]] = {}
        self.batch_rows: list[int] = []
        self.rows = 0

    def add(self, terms: dict[str, torch.Tensor], rows: int) -> None:
        for name, value in terms.items():
            self.values.setdefault(name, []).append(value.detach())
        self.batch_rows.append(rows)
        self.rows += rows

    def sums(self) -> dict[str, torch.Tensor]:
        if not self.batch_rows:
            return {}
        device = next(iter(self.values.values()))[0].device
        weights = torch.tensor(self.batch_rows, dtype=torch.float64, device=device)
        return {name: torch.stack(values).to(torch.float64) @ weights for name, values in self.values.items()}


def _means(sums: dict[str, torch.Tensor], rows: int, device: torch.device) -> dict[str, float]:
    """Each summed term divided by the rows it was summed over, both totalled over every rank."""
    names = sorted(sums)
    if not distributed.world().active:
        return {name: float(sums[name]) / max(rows, 1) for name in names}
    local = torch.stack([torch.as_tensor(sums[n], dtype=torch.float64, device=device) for n in names]
                        + [torch.tensor(float(rows), dtype=torch.float64, device=device)])
    total = distributed.all_sum(local).cpu()
    return {name: float(total[i]) / max(float(total[-1]), 1.0) for i, name in enumerate(names)}


class _LossStep(nn.Module):
    """``model.loss`` as ``forward``: DistributedDataParallel synchronises gradients only through ``forward``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        return self.model.loss(batch)


def _data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    """The model wrapped in PyTorch's DistributedDataParallel (gradients averaged over ranks in backward)."""
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(_LossStep(model), device_ids=ids)


class _FunctionCallback(Callback):
    """A plain function of the history row, called at the end of every epoch."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def on_epoch_end(self, trainer: Trainer, state: TrainState, row: dict[str, float]) -> None:
        self.fn(row)


__all__ = ["Batch", "BatchSource", "TrainConfig", "TrainResult", "Trainer"]
