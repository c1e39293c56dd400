"""Make the documentation's figures by running its examples: every image a page shows from docs/assets/ is the file
that page's own examples write (see ``docs/examples.py``). Never draw or edit one by hand; run this instead.

    AEKIT_DATA=../shared/data python docs/make_figures.py                 # every page
    AEKIT_DATA=../shared/data python docs/make_figures.py docs/tasks/text.md
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from examples import DOCS, ROOT, figures, pages, run_page  # noqa: E402

ASSETS = DOCS / "assets"


def make(page: Path) -> list[Path]:
    """Run ``page``'s examples in a fresh directory and copy the figures it shows into docs/assets/."""
    wanted = figures(page)
    if not wanted:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        run_page(page, workdir)
        missing = [name for name in wanted if not (workdir / name).is_file()]
        if missing:
            raise SystemExit(f"{page.relative_to(ROOT)} shows {', '.join(missing)} but its examples did not write it")
        ASSETS.mkdir(exist_ok=True)
        return [Path(shutil.copy(workdir / name, ASSETS / name)) for name in wanted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", type=Path, help="Markdown pages (default: every page with a figure)")
    args = parser.parse_args(argv)
    for page in [p.resolve() for p in args.pages] or pages():
        start = time.perf_counter()
        made = make(page)
        if made:
            names = ", ".join(p.name for p in made)
            print(f"{page.relative_to(ROOT)}: {names} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
