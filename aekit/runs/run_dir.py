"""The run directory itself: never overwrite a finished run by accident, and remember how its data was read.

``run.json`` keeps what the command line knew about the data but the estimator does not (the label column left
out of training), so a later ``aekit embed``/``reconstruct``/``detect score`` on the same CSV needs no
``--label-col`` again.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .._utils import atomic_write_json, read_json
from ..io import CONFIG

RUN_FACTS = "run.json"


def prepare_run_dir(out: str | os.PathLike, *, resume: bool = False, overwrite: bool = False,
                    option: str = "--out", resumable: bool = False) -> Path:
    """Check ``out`` before training: a directory that already holds a finished model is refused unless told to
    resume or overwrite (then its files are removed first, so nothing of the old run is mistaken for the new one).
    Nothing is created here: a run that fails on its input leaves no empty directory behind."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a directory; choose another {option}")
    if (out / CONFIG).is_file() and not resume:
        if not overwrite:
            resume_hint = " (or --resume to continue a crashed one)" if resumable else ""
            raise FileExistsError(f"{out} already holds a finished run; choose another {option}, or pass --overwrite "
                                  f"to replace it{resume_hint}")
        shutil.rmtree(out)
    return out


def write_run_facts(out: str | os.PathLike, *, label_column: str | None) -> None:
    atomic_write_json(Path(out) / RUN_FACTS, {"label_column": label_column})


def remembered_label_column(run_dir: str | os.PathLike) -> str | None:
    """The label column the run was trained without, if it recorded one."""
    path = Path(run_dir) / RUN_FACTS
    return read_json(path, "run facts").get("label_column") if path.is_file() else None
