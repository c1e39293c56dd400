"""The ``aekit`` command line: one module per subcommand, each with ``add_parser`` and ``run``.

``main(argv) -> int`` is the whole program, so tests call it in-process. A user mistake (bad path, wrong
shape, unknown option value) prints one line, ``aekit: error: ...``, and exits with status 2; it never shows a
traceback. A new task's command is one more module in :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .. import __version__
from . import apply, cluster, detect, info, train
from .common import USER_ERRORS

SUBCOMMANDS = (train, apply, cluster, detect, info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aekit",
        description="Train autoencoders on your own data and use them: embed, cluster, detect anomalies, reconstruct.",
        epilog="Run 'aekit COMMAND --help' for the options of each command. Example: aekit train "
        "(a convolutional autoencoder on the bundled digits, written to runs/); aekit detect fit data.csv --out det "
        "(anomaly detection).",
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="aekit: %(message)s")
    try:
        return args.run(args)
    except USER_ERRORS as exc:
        print(f"aekit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted; a run can continue with 'aekit train DATA --out RUN_DIR --resume'", file=sys.stderr)
        return 130


def main_entry() -> None:
    sys.exit(main())


__all__ = ["build_parser", "main", "main_entry"]
