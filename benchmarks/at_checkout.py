"""Run a benchmark script, or aekit's command line, with the aekit of another checkout: before/after figures in
one run, on one machine.

    git worktree add /tmp/before 9fb2b0c
    python benchmarks/at_checkout.py /tmp/before benchmarks/adbench.py --seeds 1 --detectors aekit --no-write
    python benchmarks/at_checkout.py /tmp/before --cli train --out /tmp/run -q

An editable install of this checkout puts a finder ahead of ``sys.path``; it is taken out so that ``import aekit``
finds the other checkout's package.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def use_checkout(tree: Path) -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, str(tree))
    import aekit

    if not Path(aekit.__file__).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"aekit was imported from {aekit.__file__}, not from {tree}")


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    tree, target, rest = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    use_checkout(tree)
    if target == "--cli":  # as the console script runs it
        from aekit.cli import main_entry

        sys.argv = ["aekit", *rest]
        main_entry()
    script = Path(target) if Path(target).is_absolute() else tree / target
    sys.path.insert(0, str(script.parent))
    sys.argv = [str(script), *rest]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
