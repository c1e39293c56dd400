"""The one place that decides how long a default run trains: one :class:`TaskBudget` per task.

A task's default is a number of gradient steps turned into whole epochs for the data at hand, kept within the
task's epoch range, and cut where the run's forward multiply-adds (a step's cost, summed over every sample seen)
would exceed the task's compute cap, so large inputs, long texts and heavy models get fewer epochs instead of
hours. A kind whose schedule works best planned in epochs (conv: 40, see ``estimators/presets.py``) passes those
instead of the step target, under the same cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._utils import clip, next_pow2

#: Forward multiply-adds over a whole default run (every sample seen, each epoch) that take about 10-12 minutes
#: of CPU training on 2 cores: the compute cap of the tasks whose step cost grows with the data.
TRAIN_BUDGET_MACS = 1.4e13
#: A default run trains at least ``min_epochs`` -- unless the data is so large that this would take more than
#: this many times the step target; then at least enough epochs to reach that many steps.
FLOOR_STEPS_FACTOR = 5
#: The fewest epochs a compute cap leaves a run that its floor allows more of.
MIN_CAPPED_EPOCHS = 10


def epochs_for_steps(target_steps: float, n_rows: float, batch_size: int, lo: int, hi: int) -> int:
    """Epochs that give about ``target_steps`` updates on ``n_rows`` rows in batches of ``batch_size``,
    kept within ``[lo, hi]``."""
    steps_per_epoch = math.ceil(n_rows / min(batch_size, max(n_rows, 1)))
    return clip(math.ceil(target_steps / steps_per_epoch), lo, hi)


@dataclass(frozen=True)
class Budget:
    """What one training run is allowed: ``epochs`` passes over the data in batches of ``batch_size``."""

    epochs: int
    batch_size: int


@dataclass(frozen=True)
class TaskBudget:
    """A task's default training length.

    Parameters
    ----------
    steps : int
        Gradient steps a default run aims for (early stopping may end it sooner).
    min_epochs, max_epochs : int
        The range the epochs are kept in. ``min_epochs`` is lowered for data so large that it would take more
        than ``FLOOR_STEPS_FACTOR * steps`` steps.
    max_macs : float or None
        Compute cap: forward multiply-adds summed over every sample of the run; ``None`` for tasks whose step
        cost does not grow with the data.
    """

    steps: int
    min_epochs: int
    max_epochs: int
    max_macs: float | None = None

    def epochs(self, n_rows: float, batch_size: int, macs_per_sample: float = 0.0,
               planned_epochs: int | None = None) -> int:
        """Epochs for ``n_rows`` rows in batches of ``batch_size`` (``planned_epochs`` replaces the step target),
        cut to the compute cap for samples of ``macs_per_sample`` forward multiply-adds (0: not known)."""
        floor = epochs_for_steps(FLOOR_STEPS_FACTOR * self.steps, n_rows, batch_size, 1, self.min_epochs)
        epochs = planned_epochs or epochs_for_steps(self.steps, n_rows, batch_size, floor, self.max_epochs)
        if self.max_macs and macs_per_sample > 0:
            affordable = int(self.max_macs / (macs_per_sample * max(n_rows, 1)))
            epochs = min(epochs, max(min(MIN_CAPPED_EPOCHS, floor), affordable))
        return epochs


#: An autoencoder fitted by a user: about 20,000 steps, 20 to 500 epochs, about ten minutes at most.
AUTOENCODER = TaskBudget(steps=20_000, min_epochs=20, max_epochs=500, max_macs=TRAIN_BUDGET_MACS)
#: Each member of an anomaly detector: short training on a subsample limits how well anomalies are learned.
DETECTOR_MEMBER = TaskBudget(steps=400, min_epochs=10, max_epochs=200)
#: The cluster refinement (about 15 epochs of MNIST's 60,000 rows, where it was measured).
CLUSTER_REFINEMENT = TaskBudget(steps=3000, min_epochs=15, max_epochs=300)
#: The denoiser: about 3 minutes for MNIST on 2 CPU cores.
DENOISER = TaskBudget(steps=6000, min_epochs=3, max_epochs=100, max_macs=TRAIN_BUDGET_MACS)
#: The learned codec: 9 epochs of MNIST's 60,000 images in batches of 64.
CODEC = TaskBudget(steps=8000, min_epochs=5, max_epochs=200, max_macs=TRAIN_BUDGET_MACS)
#: The recommender's members (validation NDCG picks the best epoch within it).
RECOMMENDER = TaskBudget(steps=3000, min_epochs=20, max_epochs=300)
#: The denoising text autoencoder's code phase: cheap steps (the encoder and the bag of words). 20 epochs of
#: WordNet's 85,000 design definitions scored as 60 did, so a smaller corpus trains at most 20 epochs.
TEXT_CODES = TaskBudget(steps=13_000, min_epochs=5, max_epochs=20)
#: Its word-by-word decoder, whose steps cost grows with the texts' length: 4 epochs at most.
TEXT_DECODER = TaskBudget(steps=2600, min_epochs=1, max_epochs=4, max_macs=TRAIN_BUDGET_MACS)
#: The text VAE, which trains its encoder and decoder together.
TEXT_VAE = TaskBudget(steps=5000, min_epochs=2, max_epochs=10, max_macs=TRAIN_BUDGET_MACS)


def default_batch_size(n_rows: int) -> int:
    """An autoencoder's batch size: grows with the data, 32 to 256."""
    return clip(next_pow2(n_rows / 256), 32, 256)
