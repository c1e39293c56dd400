"""The training loop. It knows nothing about which autoencoder it trains: it only calls ``model.loss``.

What it does for every model: Adam on shuffled mini-batches taken straight from in-memory tensors (no
per-sample Python work), a cosine learning-rate decay, a validation split, early stopping on the validation
loss, a stop at a loss threshold or a maximum number of epochs, a progress bar and a per-epoch log of every loss
term, an atomic checkpoint after each epoch, ``resume`` after a crash, and a clean stop that keeps the last good
weights when the loss becomes NaN or infinite.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, save_checkpoint

logger = logging.getLogger("aekit.training")


@dataclass
class TrainConfig:
    """How to train; defaults are chosen by the estimator layer from the data's size."""

    max_epochs: int = 100
    batch_size: int = 128
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


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_loss: float = math.inf
    stop_reason: str = ""
    seconds: float = 0.0

    @property
    def epochs_run(self) -> int:
        return len(self.history)


def _adam(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam with its fused kernel where this torch build has one (about 1.5x faster steps for small models)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class Trainer:
    """Train ``model`` (anything with ``loss(x, observed) -> dict`` holding ``"total"``) on tensors.

    ``callbacks`` are called after each epoch (once its checkpoint is written) with the epoch's history row.
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        device: torch.device | str = "cpu",
        callbacks: list[Callable[[dict[str, float]], None]] | None = None,
    ) -> None:
        self.model = model
        self.config = config
        self.device = torch.device(device)
        self.callbacks = callbacks or []

    def _lr(self, step: int, total_steps: int) -> float:
        lr = self.config.learning_rate
        if self.config.lr_schedule == "constant":
            return lr
        progress = min(step / max(total_steps, 1), 1.0)
        return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, observed: torch.Tensor | None = None) -> dict[str, float]:
        """Mean of every loss term over ``x`` in evaluation mode (no corruption, VAE codes at their mean)."""
        self.model.eval()
        sums: dict[str, torch.Tensor] = {}
        bs = self.config.eval_batch_size
        for i in range(0, len(x), bs):
            xb = x[i : i + bs].to(self.device, non_blocking=True)
            ob = None if observed is None else observed[i : i + bs].to(self.device, non_blocking=True)
            for name, value in self.model.loss(xb, ob).items():
                sums[name] = sums.get(name, 0.0) + value.detach() * len(xb)
        return {name: float(v) / len(x) for name, v in sums.items()}

    def fit(
        self,
        x: torch.Tensor,
        x_val: torch.Tensor | None = None,
        observed: torch.Tensor | None = None,
        observed_val: torch.Tensor | None = None,
        resume: bool = False,
    ) -> TrainResult:
        """Train until a stop rule fires; the model ends with its best weights (lowest monitored loss).

        The global torch RNG is forked, so training is reproducible from ``config.seed`` without changing the
        caller's random state.
        """
        with torch.random.fork_rng(devices=[]):
            return self._fit(x, x_val, observed, observed_val, resume)

    def _fit(self, x, x_val, observed, observed_val, resume) -> TrainResult:
        cfg, model = self.config, self.model.to(self.device)
        torch.manual_seed(cfg.seed)
        if self.device.type != "cpu":
            # Keep the whole training set on the accelerator when it fits: no host-to-device copy per batch.
            x = x.to(self.device)
            observed = None if observed is None else observed.to(self.device)
        optimizer = _adam(model, cfg)
        result = TrainResult()
        best_state, wait, start_epoch = _snapshot(model), 0, 0
        ckpt = Path(cfg.checkpoint_path) if cfg.checkpoint_path else None
        if resume:
            if ckpt is None:
                raise ValueError("resume=True needs a checkpoint path (checkpoint_dir) to resume from")
            state = load_checkpoint(ckpt)
            model.load_state_dict(state["model_state"])
            optimizer.load_state_dict(state["optimizer_state"])
            torch.set_rng_state(state["rng_state"])
            best_state = state["best_state"]
            ts = state["trainer_state"]
            result.history, result.best_epoch, result.best_loss = ts["history"], ts["best_epoch"], ts["best_loss"]
            wait, start_epoch = ts["wait"], ts["epoch"]
            logger.info("resumed from %s after epoch %d", ckpt, start_epoch)

        n, bs = len(x), min(cfg.batch_size, len(x))
        steps_per_epoch = math.ceil(n / bs)
        total_steps = cfg.max_epochs * steps_per_epoch
        last_good = _snapshot(model)
        t0 = time.perf_counter() - (result.history[-1]["seconds"] if result.history else 0.0)
        bar = tqdm(range(start_epoch, cfg.max_epochs), disable=cfg.verbose < 1, desc="training", unit="epoch",
                   initial=start_epoch, total=cfg.max_epochs)
        result.stop_reason = f"reached max_epochs={cfg.max_epochs}"
        for epoch in bar:
            model.train()
            perm = torch.randperm(n, device=x.device)
            sums: dict[str, torch.Tensor] = {}
            for i in range(steps_per_epoch):
                idx = perm[i * bs : (i + 1) * bs]
                xb = x[idx].to(self.device, non_blocking=True)
                ob = None if observed is None else observed[idx].to(self.device, non_blocking=True)
                for group in optimizer.param_groups:
                    group["lr"] = self._lr(epoch * steps_per_epoch + i, total_steps)
                terms = model.loss(xb, ob)
                optimizer.zero_grad(set_to_none=True)
                terms["total"].backward()
                optimizer.step()
                for name, value in terms.items():
                    sums[name] = sums.get(name, 0.0) + value.detach() * len(idx)
            row: dict[str, float] = {"epoch": epoch + 1}
            row.update({f"train_{k}": float(v) / n for k, v in sums.items()})
            finite = all(math.isfinite(v) for v in row.values())
            if finite and x_val is not None and len(x_val):
                row.update({f"val_{k}": v for k, v in self.evaluate(x_val, observed_val).items()})
                finite = all(math.isfinite(v) for v in row.values())
            if not finite:
                model.load_state_dict(last_good)
                result.stop_reason = (
                    f"loss became NaN/inf in epoch {epoch + 1}; kept the weights of epoch {epoch} "
                    "(lower learning_rate, or check the data for extreme values)"
                )
                logger.warning(result.stop_reason)
                break
            row["lr"] = optimizer.param_groups[0]["lr"]
            row["seconds"] = time.perf_counter() - t0
            result.history.append(row)
            monitored = row.get("val_total", row["train_total"])
            if monitored < result.best_loss - cfg.tol * abs(result.best_loss) or not math.isfinite(result.best_loss):
                result.best_loss, result.best_epoch, wait = monitored, epoch + 1, 0
                best_state = _snapshot(model)
            else:
                wait += 1
            last_good = _snapshot(model)
            if ckpt is not None:
                save_checkpoint(
                    ckpt,
                    model_state=last_good,
                    best_state=best_state,
                    optimizer_state=optimizer.state_dict(),
                    rng_state=torch.get_rng_state(),
                    trainer_state={"history": result.history, "best_epoch": result.best_epoch,
                                   "best_loss": result.best_loss, "wait": wait, "epoch": epoch + 1},
                )
            msg = " ".join(f"{k}={v:.5g}" for k, v in row.items() if k not in ("epoch",))
            logger.info("epoch %d: %s", epoch + 1, msg)
            if cfg.verbose >= 2:
                tqdm.write(f"epoch {epoch + 1}: {msg}")
            bar.set_postfix(loss=f"{monitored:.4g}", best=f"{result.best_loss:.4g}")
            for callback in self.callbacks:
                callback(row)
            if cfg.loss_threshold is not None and monitored <= cfg.loss_threshold:
                result.stop_reason = f"loss {monitored:.5g} reached loss_threshold={cfg.loss_threshold}"
                break
            if cfg.early_stopping and wait >= cfg.n_iter_no_change:
                result.stop_reason = f"early stopping: no improvement for {cfg.n_iter_no_change} epochs"
                break
        bar.close()
        if cfg.early_stopping:
            model.load_state_dict(best_state)
        result.seconds = time.perf_counter() - t0
        model.eval()
        return result
