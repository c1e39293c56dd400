"""What the Trainer does besides the update step, one small class each.

A callback sees the :class:`TrainState` at four moments: the start of ``fit`` (resume loads there), before every
update (schedules set the learning rate or a part's weight there), after every epoch's history row is recorded
(checkpoints, progress, stop rules) and at the end (early stopping restores the best weights). A stop rule asks
for a stop by setting ``state.stop_reason``.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn
from tqdm.auto import tqdm

from . import distributed
from .adam import Adam
from .checkpoint import load_checkpoint, save_checkpoint

if TYPE_CHECKING:
    from .trainer import Trainer

logger = logging.getLogger("aekit.training")


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@dataclass
class TrainState:
    """Everything a run has accumulated; a checkpoint saves it and a resume restores it."""

    model: nn.Module
    optimizer: Adam
    max_epochs: int
    best_weights: dict[str, torch.Tensor]
    last_good: dict[str, torch.Tensor] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    epoch: int = 0  # epochs completed
    step: int = 0  # index of the current update
    steps_per_epoch: int = 1
    rows_per_epoch: int = 0  # over every rank
    rows_seen: int = 0  # rows trained on so far in this fit, over every rank
    best_loss: float = math.inf
    best_epoch: int = 0
    wait: int = 0  # epochs since the monitored loss last improved
    monitored: float = math.inf  # this epoch's validation total (training total without validation rows)
    stop_reason: str = ""

    @property
    def total_steps(self) -> int:
        return self.max_epochs * self.steps_per_epoch


class Callback:
    """Base class: every hook does nothing unless overridden."""

    def on_fit_start(self, trainer: Trainer, state: TrainState) -> None:
        pass

    def on_step_start(self, trainer: Trainer, state: TrainState) -> None:
        pass

    def on_step_end(self, trainer: Trainer, state: TrainState) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, state: TrainState, row: dict[str, float]) -> None:
        pass

    def on_fit_end(self, trainer: Trainer, state: TrainState) -> None:
        pass


class LearningRateSchedule(Callback):
    """``"cosine"``: from the initial rate down to 5% of it at the last planned step; ``"constant"``: unchanged."""

    def __init__(self, learning_rate: float, kind: str = "cosine") -> None:
        if kind not in ("cosine", "constant"):
            raise ValueError(f"unknown lr_schedule {kind!r}; choose 'cosine' or 'constant'")
        self.learning_rate, self.kind = learning_rate, kind

    def rate(self, step: int, total_steps: int) -> float:
        if self.kind == "constant":
            return self.learning_rate
        progress = min(step / max(total_steps, 1), 1.0)
        return self.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    def on_step_start(self, trainer: Trainer, state: TrainState) -> None:
        for group in state.optimizer.param_groups:
            group["lr"] = self.rate(state.step, state.total_steps)


class LinearRamp(Callback):
    """Raise a part's attribute linearly from ``start`` to ``end`` over ``steps`` updates, then hold it.

    KL annealing is ``LinearRamp(model.bottleneck, "beta", 0.0, 1.0, steps)``: the Gaussian bottleneck weighs its
    KL term by its ``beta`` attribute at every step.
    """

    def __init__(self, module: nn.Module, attribute: str, start: float, end: float, steps: int) -> None:
        if not hasattr(module, attribute):
            raise ValueError(f"{type(module).__name__} has no attribute {attribute!r} to schedule")
        self.module, self.attribute, self.start, self.end, self.steps = module, attribute, start, end, max(steps, 1)

    def on_step_start(self, trainer: Trainer, state: TrainState) -> None:
        share = min(state.step / self.steps, 1.0)
        setattr(self.module, self.attribute, self.start + share * (self.end - self.start))


class Checkpoint(Callback):
    """Write everything needed to resume after each epoch (atomically); with ``resume`` read it back first.

    Under ``torchrun`` rank 0 writes, with every rank's random state, and each rank resumes from its own."""

    def __init__(self, path: str, resume: bool = False) -> None:
        self.path, self.resume = path, resume

    def on_fit_start(self, trainer: Trainer, state: TrainState) -> None:
        if not self.resume:
            return
        saved = load_checkpoint(self.path)
        state.model.load_state_dict(saved["model_state"])
        state.optimizer.load_state_dict(saved["optimizer_state"])
        rank, states = distributed.world().rank, saved["rng_states"]
        if rank >= len(states):
            raise ValueError(f"{self.path} was written by a run of {len(states)} process(es); resume it with as many "
                             "(or start a new run)")
        torch.set_rng_state(states[rank])
        state.best_weights = saved["best_state"]
        ts = saved["trainer_state"]
        state.history, state.best_epoch, state.best_loss = ts["history"], ts["best_epoch"], ts["best_loss"]
        state.wait, state.epoch = ts["wait"], ts["epoch"]
        logger.info("resumed from %s after epoch %d", self.path, state.epoch)

    def on_epoch_end(self, trainer: Trainer, state: TrainState, row: dict[str, float]) -> None:
        rng_states = distributed.gather_bytes(torch.get_rng_state())  # every rank takes part; rank 0 writes
        if not distributed.world().is_main:
            return
        save_checkpoint(
            self.path,
            model_state=state.last_good,
            best_state=state.best_weights,
            optimizer_state=state.optimizer.state_dict(),
            rng_states=rng_states,
            trainer_state={"history": state.history, "best_epoch": state.best_epoch, "best_loss": state.best_loss,
                           "wait": state.wait, "epoch": state.epoch},
        )


class Progress(Callback):
    """A progress bar over rows (``verbose >= 1``: rows/s, the epoch and the loss), every epoch's terms in the log,
    and printed with ``verbose >= 2``. Only rank 0 shows or logs anything under ``torchrun``.

    Where standard error is not a terminal (a log file, CI), the bar's carriage-return updates would fill the file
    with hundreds of partial lines; there it writes one line per epoch instead."""

    #: Updates between refreshes of the bar's row count (tqdm's own cost stays far below a step's).
    EVERY = 16

    def __init__(self, verbose: int, label: str = "training") -> None:
        self.verbose, self.label = verbose, label

    def on_fit_start(self, trainer: Trainer, state: TrainState) -> None:
        self.main = distributed.world().is_main
        self.lines = self.verbose >= 1 and self.main and not _is_terminal(sys.stderr)
        self.shown = state.epoch * state.rows_per_epoch
        self.bar = tqdm(total=state.max_epochs * state.rows_per_epoch, initial=state.epoch * state.rows_per_epoch,
                        disable=self.verbose < 1 or not self.main or self.lines, desc=self.label, unit="rows",
                        unit_scale=True)
        self.bar.set_postfix(epoch=f"{state.epoch + 1}/{state.max_epochs}")

    def on_step_end(self, trainer: Trainer, state: TrainState) -> None:
        if (state.step + 1) % self.EVERY == 0:
            self.bar.update(state.rows_seen - self.shown)
            self.shown = state.rows_seen

    def on_epoch_end(self, trainer: Trainer, state: TrainState, row: dict[str, float]) -> None:
        if not self.main:
            return
        msg = " ".join(f"{k}={v:.5g}" for k, v in row.items() if k != "epoch")
        logger.debug("epoch %d: %s", row["epoch"], msg)
        if self.lines:
            brief = f"loss={state.monitored:.4g} best={state.best_loss:.4g} seconds={row['seconds']:.1f}"
            sys.stderr.write(f"{self.label}: epoch {int(row['epoch'])}/{state.max_epochs} "
                             f"{msg if self.verbose >= 2 else brief}\n")
            sys.stderr.flush()
        elif self.verbose >= 2:
            tqdm.write(f"epoch {int(row['epoch'])}: {msg}")
        self.bar.update(state.rows_seen - self.shown)
        self.shown = state.rows_seen
        self.bar.set_postfix(epoch=f"{int(row['epoch'])}/{state.max_epochs}", loss=f"{state.monitored:.4g}",
                             best=f"{state.best_loss:.4g}")

    def on_fit_end(self, trainer: Trainer, state: TrainState) -> None:
        self.bar.close()


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class LossThreshold(Callback):
    """Stop once the monitored loss is at or below ``threshold``."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def on_epoch_end(self, trainer: Trainer, state: TrainState, row: dict[str, float]) -> None:
        if not state.stop_reason and state.monitored <= self.threshold:
            state.stop_reason = f"loss {state.monitored:.5g} reached loss_threshold={self.threshold}"


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without improvement, and end with the best weights seen."""

    def __init__(self, patience: int) -> None:
        self.patience = patience

    def on_epoch_end(self, trainer: Trainer, state: TrainState, row: dict[str, float]) -> None:
        if not state.stop_reason and state.wait >= self.patience:
            state.stop_reason = f"early stopping: no improvement for {self.patience} epochs"

    def on_fit_end(self, trainer: Trainer, state: TrainState) -> None:
        state.model.load_state_dict(state.best_weights)
