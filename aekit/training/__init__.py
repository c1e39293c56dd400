"""Training: one model-agnostic loop over batch sources, its callbacks, checkpoints, the step budget, and greedy
layer-wise pre-training."""

from .budget import Budget, TaskBudget, epochs_for_steps
from .callbacks import Callback, Checkpoint, EarlyStopping, LearningRateSchedule, LinearRamp, LossThreshold, Progress
from .checkpoint import load_checkpoint, save_checkpoint
from .device import resolve_device
from .trainer import BatchSource, Trainer, TrainConfig, TrainResult

__all__ = [
    "BatchSource",
    "Budget",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "LearningRateSchedule",
    "LinearRamp",
    "LossThreshold",
    "Progress",
    "TaskBudget",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "epochs_for_steps",
    "load_checkpoint",
    "resolve_device",
    "save_checkpoint",
]
