"""What every subcommand shares: the user-error types, argument parsers for shared options, and table output."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import datasets
from ..data.chunks import ChunkWriter
from ..runs import remembered_label_column

# ImportError: an optional dependency is missing; its message says what to install.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError,
               PermissionError, ImportError)
OUTPUT_SUFFIXES = (".csv", ".parquet", ".npy")


def data_help() -> str:
    return (f"a CSV/TSV/Parquet table, a .npy/.npz array, a folder of images (PNG/JPEG; sub-folders are "
            f"classes), or a built-in dataset: {', '.join(datasets.available())}")


def label_column_for(args: argparse.Namespace) -> tuple[str | None, bool]:
    """``(column, optional)``: ``--label-col`` if given (then the table must have it), else the label column the
    run in ``args.run_dir`` was trained without, left out only where the table has it (new data often has no
    labels)."""
    if args.label_col is not None:
        return args.label_col, False
    return remembered_label_column(args.run_dir), True


def add_device_option(parser: argparse.ArgumentParser) -> None:
    """``--device``, the same wherever a command runs a model."""
    parser.add_argument("--device", default="auto",
                        help="where the model runs: auto (CUDA when available), cpu, cuda or cuda:N (default: auto)")


def add_seed_option(parser: argparse.ArgumentParser, what: str = "training") -> None:
    """``--seed``, the same wherever a command draws random numbers."""
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help=f"random seed of the {what}: the same seed gives the same result on the CPU (default: 0)")


def add_fit_options(parser: argparse.ArgumentParser, replaces: str = "a finished run already in the output "
                    "directory") -> None:
    """The options every command that trains shares: --seed, --device, -q/--quiet and --overwrite."""
    add_seed_option(parser)
    add_device_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress (by default a bar on a terminal, one line per epoch elsewhere)")
    parser.add_argument("--overwrite", action="store_true", help=f"replace {replaces}")


def image_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 28x28, got {text!r}") from None
    return h, w


def write_output(path: Path, values: np.ndarray | pd.DataFrame, ids: np.ndarray, prefix: str) -> None:
    """Row-wise results to ``.npy``, or to ``.csv``/``.parquet`` with an ``id`` column first (written atomically)."""
    if path.suffix.lower() == ".npy":
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, values.to_numpy() if isinstance(values, pd.DataFrame) else values, allow_pickle=False)
        return
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"--out must end in one of {', '.join(OUTPUT_SUFFIXES)}, got {path.name!r}")
    if isinstance(values, pd.DataFrame):
        frame = values.copy()
    else:
        flat = np.asarray(values).reshape(len(values), -1)
        frame = pd.DataFrame(flat, columns=[f"{prefix}{i}" for i in range(flat.shape[1])])
    frame.insert(0, "id", ids)
    with ChunkWriter(path) as writer:
        writer.write(frame)
