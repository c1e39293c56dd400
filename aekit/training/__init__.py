"""Training: the model-agnostic loop, checkpoints, and greedy layer-wise pre-training."""

from .checkpoint import load_checkpoint, save_checkpoint
from .trainer import Trainer, TrainConfig, TrainResult

__all__ = ["TrainConfig", "TrainResult", "Trainer", "load_checkpoint", "save_checkpoint"]
