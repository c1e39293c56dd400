"""The one place that decides how long a default run trains.

Every default is a number of gradient steps turned into epochs for the data at hand (:func:`epochs_for_steps`);
callers name their own target: an autoencoder fitted by a user aims for :data:`TARGET_STEPS`, capped by a
compute budget; an anomaly detector's members and the cluster refinement aim for fewer. A kind whose schedule works
best planned in epochs (conv: 40, see ``estimators/presets.py``) passes those instead, under the same cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._utils import clip, next_pow2

# Gradient steps a default autoencoder run aims for; early stopping usually ends it sooner.
TARGET_STEPS = 20_000
# Every default run trains at least 20 epochs -- unless the data is so large (over about 1.3 million rows in
# batches of 256) that 20 epochs would exceed this many steps; then at least enough epochs to reach it.
MAX_FLOOR_STEPS = 5 * TARGET_STEPS
# Cap on forward multiply-adds summed over every sample seen in a default run (about 10-12 minutes of CPU
# training on 2 cores), so large inputs and heavy models get fewer epochs instead of hours.
TRAIN_BUDGET_MACS = 1.4e13


def epochs_for_steps(target_steps: int, n_rows: float, batch_size: int, lo: int, hi: int) -> int:
    """Epochs that give about ``target_steps`` updates on ``n_rows`` rows in batches of ``batch_size``,
    kept within ``[lo, hi]``."""
    steps_per_epoch = math.ceil(n_rows / min(batch_size, max(n_rows, 1)))
    return clip(math.ceil(target_steps / steps_per_epoch), lo, hi)


@dataclass
class TrainingDefaults:
    batch_size: int
    max_epochs: int


def default_training(
    n_train: int, batch_size: int | None, max_epochs: int | None, macs_per_sample: float = 0.0,
    planned_epochs: int | None = None,
) -> TrainingDefaults:
    """Batch size grows with the data (32 to 256); epochs give about ``TARGET_STEPS`` steps (20 to 500; fewer
    than 20 only for data of millions of rows, see ``MAX_FLOOR_STEPS``), fewer when that would exceed
    ``TRAIN_BUDGET_MACS`` of compute (but never fewer than 10, or than the floor for millions of rows).
    ``planned_epochs`` replaces the step target for models that need a fixed number of passes (the same cap
    applies)."""
    bs = batch_size or clip(next_pow2(n_train / 256), 32, 256)
    floor = epochs_for_steps(MAX_FLOOR_STEPS, n_train, bs, 1, 20)
    epochs = planned_epochs or epochs_for_steps(TARGET_STEPS, n_train, bs, floor, 500)
    if macs_per_sample > 0:
        epochs = min(epochs, max(min(10, floor), int(TRAIN_BUDGET_MACS / (macs_per_sample * max(n_train, 1)))))
    return TrainingDefaults(batch_size=bs, max_epochs=max_epochs or epochs)
