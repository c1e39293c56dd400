"""Open the built documentation in a real headless browser and check that every page renders with its figures.

For each HTML page of the site (``mkdocs build`` first): the page loads over HTTP without a console error, it
has a title and a main article, and every image in it has loaded (``complete`` and ``naturalWidth > 0``). Prints
one line per page and exits non-zero if any page fails. Not part of CI (it needs a browser); run it after
changing the docs:

    mkdocs build --strict --site-dir /tmp/aekit-site
    python docs/check_render.py /tmp/aekit-site

Needs ``pip install playwright`` and a Chromium (Debian: ``apt-get install chromium``); no browser is downloaded.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import threading
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]

#: Runs in the page: what was rendered, and which images did not load.
PAGE_FACTS = """() => ({
    title: document.title,
    article: !!document.querySelector("article"),
    images: [...document.images].map(i => ({src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0})),
})"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # one line per page is printed instead
        pass


def serve(site: Path) -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``site`` on a free local port, in a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check(site: Path, executable: str) -> int:
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(site) for p in site.rglob("*.html") if p.name != "404.html")
    server = serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    failures = images_total = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for rel in pages:
            errors.clear()
            response = page.goto(base + rel.as_posix(), wait_until="load")
            facts = page.evaluate(PAGE_FACTS)
            broken = [i["src"] for i in facts["images"] if not i["ok"]]
            images_total += len(facts["images"])
            problems = []
            if response is None or not response.ok:
                problems.append(f"HTTP {response.status if response else 'no response'}")
            if not facts["title"] or not facts["article"]:
                problems.append("no title or article")
            problems += [f"image not loaded: {src}" for src in broken] + [f"console: {e}" for e in errors]
            failures += bool(problems)
            print(f"{'FAIL' if problems else 'ok  '} {rel}  ({len(facts['images'])} images)"
                  + "".join(f"\n     {p}" for p in problems))
        browser.close()
    server.shutdown()
    print(f"{len(pages) - failures} of {len(pages)} pages render; {images_total} images checked; {failures} failed")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, nargs="?", default=Path("site"), help="the built site (default: site/)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the browser binary")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        parser.error(f"{args.site} holds no built site; run 'mkdocs build --site-dir {args.site}' first")
    return check(args.site, args.chromium)


if __name__ == "__main__":
    raise SystemExit(main())
