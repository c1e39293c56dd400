"""The documentation's examples: find every ```python block of README.md and docs/, and run a page's blocks.

Used by ``tests/test_docs_examples.py`` (every example runs in the test suite, so the documentation cannot rot)
and by ``docs/make_figures.py`` (the figures the pages show are what their examples draw).

* The blocks of one page run in order in one namespace, like a reader typing them into one Python prompt,
  in a working directory of their own that holds a link to the repository's ``tests/data`` (the small tables the
  examples read).
* A block that needs data too large for the test suite (MNIST, a folder of your own images) is preceded by the
  line ``<!-- not run: REASON -->``; it is not run, and the reason is required.
* A page's figures are the images it shows from ``docs/assets/`` (``![...](../assets/NAME.png)``); its examples
  must write each of them, by that file name, into their working directory.
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: A fenced block, at any indentation (inside a tab or an admonition), of the given language.
_FENCE = r"^(?P<indent>[ \t]*)```{lang}[^\n]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$"
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>[^>]*?)\s*-->\s*$")
_FIGURE = re.compile(r"!\[[^\]]*\]\((?:\.\./)+assets/(?P<name>[^)\s]+\.png)\)")


@dataclass(frozen=True)
class Example:
    """One fenced block: where it is, its code, and why it is not run (``None`` when it is)."""

    page: Path
    line: int
    code: str
    not_run: str | None

    @property
    def where(self) -> str:
        return f"{_shown(self.page)}:{self.line}"


def _shown(page: Path) -> str:
    """``page`` relative to the repository when it is inside it."""
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/ (the benchmark results hold no examples)."""
    found = [ROOT / "README.md"]
    found += sorted(p for p in DOCS.rglob("*.md") if "results" not in p.relative_to(DOCS).parts)
    return found


def blocks(page: Path, lang: str = "python") -> list[Example]:
    """The ``lang`` blocks of ``page`` in order, each with the not-run reason written on the line before it."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(_FENCE.format(lang=re.escape(lang)), text, flags=re.M | re.S):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NOT_RUN.search(before)
        code = textwrap.dedent(match.group("code"))
        found.append(Example(page, line, code, marker.group("reason") if marker else None))
    return found


def figures(page: Path) -> list[str]:
    """File names of the figures ``page`` shows from docs/assets/."""
    return sorted(set(_FIGURE.findall(page.read_text(encoding="utf-8"))))


def run_page(page: Path, workdir: Path) -> int:
    """Run the runnable examples of ``page`` in order, in one namespace, inside ``workdir``; returns how many ran.

    An example that raises stops the page; the error names the page and line of the block."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workdir.mkdir(parents=True, exist_ok=True)
    data_link = workdir / "tests" / "data"
    if not data_link.exists():
        data_link.parent.mkdir(parents=True, exist_ok=True)
        data_link.symlink_to(ROOT / "tests" / "data", target_is_directory=True)
    namespace: dict = {"__name__": "__main__"}
    previous = Path.cwd()
    ran = 0
    os.chdir(workdir)
    try:
        for example in blocks(page):
            if example.not_run is not None:
                continue
            # padded so that a traceback's line numbers are the page's
            code = compile("\n" * example.line + example.code, _shown(page), "exec")
            exec(code, namespace)  # noqa: S102 - the documentation's own examples
            ran += 1
    finally:
        os.chdir(previous)
        plt.close("all")
    return ran
