"""Every command of the ``aekit`` program: the module that implements it and its one-line help.

The top-level parser lists these without importing any command module (each imports torch, scikit-learn or
pandas, seconds on a small machine); only the module of the command being run is imported. Each module's
``add_parser`` takes its help line from here, so the listing and the command's own parser say the same.
"""

from __future__ import annotations

#: command -> (module in aekit.cli, one-line help), in the order ``aekit --help`` lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("train", "train an autoencoder and write a run directory"),
    "embed": ("apply", "write the codes of DATA under a trained model"),
    "reconstruct": ("apply", "write the reconstructions of DATA under a trained model"),
    "cluster": ("cluster", "cluster DATA without labels and write each row's cluster"),
    "detect": ("detect", "anomaly detection: fit a detector, score data"),
    "impute": ("impute", "fill missing values in a table"),
    "recommend": ("recommend", "recommend items from user-item interactions (RecVAE)"),
    "codec": ("codec", "train a learned image codec for one kind of image"),
    "compress": ("codec", "compress images with a trained codec"),
    "decompress": ("codec", "decompress files written by aekit compress"),
    "denoise": ("denoise", "train a denoiser on clean images; clean noisy images"),
    "text": ("text", "embed, search and generate texts with a sentence autoencoder"),
    "sample": ("sample", "draw new samples from a trained VAE"),
    "serve": ("serve", "answer requests for saved models over HTTP"),
    "export": ("export", "write a saved model's networks as ONNX graphs"),
    "info": ("info", "describe a saved model or run directory"),
}
#: The sub-command that applies a trained model, in the commands whose ``COMMAND RUN_DIR ...`` is short for
#: ``COMMAND apply RUN_DIR ...`` (their sub-commands are ``fit`` and ``apply``).
APPLY = "apply"
SHORT_FORMS = ("denoise", "recommend")
#: other names of a command
ALIASES: dict[str, list[str]] = {"embed": ["encode"]}


def command_help(name: str) -> str:
    return COMMANDS[name][1]
