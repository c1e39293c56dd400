"""Every Python example of README.md and docs/ runs, and every ``aekit`` command line in them parses.

The examples run on small data (the bundled digits, scikit-learn's tables, ``tests/data``) with short training
budgets, so the documentation cannot rot. A block that needs large data is marked ``<!-- not run: REASON -->``
on the line before it (``docs/examples.py``); the reason is required. Each page's examples must write the figures
the page shows from ``docs/assets/`` (``docs/make_figures.py`` copies them there).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
import examples  # noqa: E402

PAGES = [p for p in examples.pages() if examples.blocks(p)]


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_examples_run_and_draw_the_figures_shown(page: Path, tmp_path: Path) -> None:
    runnable = [b for b in examples.blocks(page) if b.not_run is None]
    assert examples.run_page(page, tmp_path) == len(runnable)
    for name in examples.figures(page):
        assert (tmp_path / name).is_file(), f"{_name(page)} shows {name}, which its examples did not write"
        assert (ROOT / "docs" / "assets" / name).is_file(), f"run docs/make_figures.py {_name(page)}"


def test_every_example_runs_or_says_why() -> None:
    every = [b for p in examples.pages() for b in examples.blocks(p)]
    for block in every:
        assert block.not_run is None or block.not_run.strip(), f"{block.where}: 'not run' needs a reason"
    ran = [b for b in every if b.not_run is None]
    assert len(ran) >= 20 and len(ran) >= 3 * (len(every) - len(ran))   # almost all of them run
    assert {_name(p) for p in PAGES} >= {"README.md", *(f"docs/tasks/{t}.md" for t in (
        "representation", "anomaly", "imputation", "denoising", "compression", "recommendation", "text", "scaling"))}


def test_a_block_marked_not_run_is_skipped_with_its_reason(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```python\nx = 1\n```\n\n<!-- not run: needs MNIST -->\n```python\nraise SystemExit\n```\n"
                    "\n=== \"Tab\"\n\n    ```python\n    y = x + 1\n    ```\n")
    found = examples.blocks(page)
    assert [b.not_run for b in found] == [None, "needs MNIST", None]
    assert [b.code for b in found] == ["x = 1\n", "raise SystemExit\n", "y = x + 1\n"]
    assert examples.run_page(page, tmp_path / "run") == 2


def _command_lines(page: Path) -> list[tuple[str, list[str]]]:
    """``(where, argv)`` of every aekit invocation in the page's bash blocks (after ``aekit`` or ``-m aekit``)."""
    found = []
    for block in examples.blocks(page, "bash"):
        text = block.code.replace("\\\n", " ")
        for line in text.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if "aekit" in words and words[0] in ("aekit", "torchrun"):
                    found.append((block.where, words[words.index("aekit") + 1:]))
    return found


def test_command_lines_in_the_docs_parse() -> None:
    from aekit.cli import build_parser, spelled_out

    parser = build_parser("*")
    lines = [line for p in examples.pages() for line in _command_lines(p)]
    assert len(lines) >= 30
    for where, argv in lines:
        try:
            parser.parse_args(spelled_out(argv))
        except SystemExit as exc:
            pytest.fail(f"{where}: 'aekit {' '.join(argv)}' does not parse (status {exc.code})")
