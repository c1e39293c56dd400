"""Training: one model-agnostic loop over batch sources, its callbacks, checkpoints, the step budget, and greedy
layer-wise pre-training."""

from .budget import default_training, epochs_for_steps
from .callbacks import Callback, Checkpoint, EarlyStopping, LearningRateSchedule, LinearRamp, LossThreshold, Progress
from .checkpoint import load_checkpoint, save_checkpoint
from .device import resolve_device
from .trainer import BatchSource, Trainer, TrainConfig, TrainResult

__all__ = [
    "BatchSource",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "LearningRateSchedule",
    "LinearRamp",
    "LossThreshold",
    "Progress",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "default_training",
    "epochs_for_steps",
    "load_checkpoint",
    "resolve_device",
    "save_checkpoint",
]
