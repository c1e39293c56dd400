"""Files that hold fitted models: the model directory (JSON + safetensors, never pickle)."""

from .model_dir import CONFIG, HISTORY, PREPROCESS, WEIGHTS, read_config, read_model_dir, write_model_dir

__all__ = ["CONFIG", "HISTORY", "PREPROCESS", "WEIGHTS", "read_config", "read_model_dir", "write_model_dir"]
