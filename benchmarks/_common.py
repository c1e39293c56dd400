"""Shared by the benchmark scripts: data home, timing, and writing a section of BENCHMARKS.md."""

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
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
os.environ.setdefault("AEKIT_DATA", str(ROOT.parent / "shared" / "data"))


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in ["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}, {date.today()}")


def commit() -> str:
    """The checked-out commit, marked when the working tree has changes (a figure from uncommitted code)."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def section_header(title: str) -> list[str]:
    """The lines every BENCHMARKS.md section starts with: its title, the command and commit that wrote it, the
    machine."""
    return [f"## {title}", "", f"Command: `{command_line()}` at commit {commit()}  ", f"Machine: {machine()}  "]


def update_section(name: str, body: str) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` (appending it if absent)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def publish(section: str, body: str, write: bool) -> None:
    """Print a benchmark's section and, unless told not to, write it into BENCHMARKS.md."""
    print(body)
    if write:
        update_section(section, body)
