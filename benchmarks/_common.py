"""Shared by the benchmark scripts: data home, the command/commit/machine header, and publishing a result.

Each benchmark's result is one Markdown file, ``docs/benchmarks/results/<name>.md``, which the documentation's
Benchmarks pages include (``--8<--`` snippets): re-running a benchmark rewrites its file, and the next docs build
shows the new figures with the command, commit and machine that printed them. Figures a benchmark draws go beside
it (:data:`RESULTS`), linked from the result by a path relative to the Benchmarks page (:func:`figure_link`).
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import sys
from datetime import date
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
#: Where each benchmark writes its result (``<name>.md``) and its figures; the docs include them from here.
RESULTS = ROOT / "docs" / "benchmarks" / "results"
os.environ.setdefault("AEKIT_DATA", str(ROOT.parent / "shared" / "data"))


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in ["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}, {date.today()}")


def commit() -> str:
    """The checked-out commit, marked when the working tree has changes (a figure from uncommitted code); the
    results folder is left out of that test, since benchmarks write there and it holds nothing they measure."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs/benchmarks/results")
    return head + (" + uncommitted changes" if changed else "")


def section_header(title: str) -> list[str]:
    """The lines every published result starts with: its title (a section of the Benchmarks page), the command
    and commit that wrote it, the machine."""
    return [f"## {title}", "", f"Command: `{command_line()}` at commit {commit()}  ", f"Machine: {machine()}  "]


def result_path(name: str) -> Path:
    """The file a benchmark's result ``name`` is written to (and the docs include)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ValueError(f"result name {name!r} must be lower-case letters, digits and hyphens (it names a file)")
    return RESULTS / f"{name}.md"


def figure_link(path: Path, alt: str) -> str:
    """Markdown for a figure saved under :data:`RESULTS`, as the Benchmarks page (one level above it) sees it."""
    return f"![{alt}]({RESULTS.name}/{path.relative_to(RESULTS).as_posix()})"


def write_result(name: str, body: str) -> Path:
    """Write ``body`` as the result ``name`` (replacing the last run's), with a line saying which script wrote it."""
    path = result_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    note = f"<!-- written by benchmarks/{Path(sys.argv[0]).name}; re-run it to update, do not edit by hand -->"
    path.write_text(f"{note}\n{body.rstrip()}\n")
    return path


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def publish(section: str, body: str, write: bool) -> None:
    """Print a benchmark's result and, unless told not to, write it to ``docs/benchmarks/results/<section>.md``,
    where the Benchmarks page includes it."""
    print(body)
    if write:
        print(f"wrote {write_result(section, body).relative_to(ROOT)}")
