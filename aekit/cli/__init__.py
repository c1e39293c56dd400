"""The ``aekit`` command line: one module per subcommand, each with ``add_parser`` and ``run``.

``main(argv) -> int`` is the whole program, so tests call it in-process. A user mistake (bad path, wrong
shape, unknown option value) prints one line, ``aekit: error: ...``, and exits with status 2; it never shows a
traceback. Only the module of the command being run is imported (``commands.py`` lists them all), so ``aekit``,
``aekit --help`` and ``aekit --version`` answer at once. A new task's command is one more module and one more
entry in :data:`~aekit.cli.commands.COMMANDS`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
import warnings

from .. import __version__
from .._utils import collection_paused, one_line
from .commands import ALIASES, APPLY, COMMANDS, SHORT_FORMS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line like every other error (``aekit: error: ...``, status 2)."""

    def error(self, message: str) -> None:
        print(f"aekit: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def _command_module(name: str):
    with collection_paused():  # see its docstring: a third of a second of the first import of torch and the rest
        return importlib.import_module(f".{COMMANDS[name][0]}", __name__)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser: every command listed with its help line; the full options of ``command`` (and of the commands
    its module adds with it), or of every command when ``command`` is ``"*"``."""
    parser = _Parser(
        prog="aekit",
        description="Train autoencoders on your own data and use them: embed, cluster, detect anomalies, fill "
        "missing values, recommend, compress and denoise images, embed and search texts, reconstruct.",
        epilog="Run 'aekit COMMAND --help' for the options of each command. Example: aekit train "
        "(a convolutional autoencoder on the bundled digits, written to runs/); aekit detect fit data.csv --out det "
        "(anomaly detection).",
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    full = {COMMANDS[n][0] for n in COMMANDS} if command == "*" else {COMMANDS[command][0]} if command else set()
    added: set[str] = set()
    for name, (module, text) in COMMANDS.items():
        if module in full:
            if module not in added:
                _command_module(name).add_parser(sub)
                added.add(module)
        else:  # listed only: never parsed, because the command being run is never one of these
            sub.add_parser(name, aliases=ALIASES.get(name, []), help=text)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option; the top level has no valued options),
    by its name or an alias; None when there is none or it is not a command."""
    word = next((a for a in argv if not a.startswith("-")), None)
    for name, aliases in ALIASES.items():
        if word in aliases:
            return name
    return word if word in COMMANDS else None


def spelled_out(argv: list[str]) -> list[str]:
    """``argv`` with a command's short form spelled out: ``denoise RUN_DIR ...`` and ``recommend RUN_DIR ...`` are
    ``denoise apply RUN_DIR ...`` and ``recommend apply RUN_DIR ...``."""
    if len(argv) >= 2 and argv[0] in SHORT_FORMS and argv[1] not in ("fit", APPLY) and not argv[1].startswith("-"):
        return [argv[0], APPLY, *argv[1:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    argv = spelled_out(sys.argv[1:] if argv is None else list(argv))
    command = _command_in(argv)
    try:
        args = build_parser(command).parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    from ..training.distributed import PeerLost  # imported with the command's module already
    from .common import USER_ERRORS

    logging.basicConfig(level=logging.WARNING, format="aekit: %(message)s")
    # aekit's own notes (what a run is about to do, each detector member, where a report went) unless told to be
    # quiet; every epoch's terms stay at debug level: the progress display shows them.
    logging.getLogger("aekit").setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return args.run(args)
    except USER_ERRORS as exc:
        print(f"aekit: error: {exc}", file=sys.stderr)
        return 2
    except PeerLost as exc:
        print(f"aekit: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("aekit: interrupted; a run can continue with 'aekit train DATA --out RUN_DIR --resume'", file=sys.stderr)
        return 130


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings from aekit or the libraries it uses, as one line a user reads (no source path, no code line)."""
    print(f"aekit: warning: {one_line(message)}", file=sys.stderr)


def main_entry() -> None:
    """The ``aekit`` console script.

    Everything imported so far lives until the process ends, so it is frozen out of the cyclic collector's
    reach (fewer objects to walk in every full collection while training); and again at the end, because the
    interpreter's final collections would otherwise walk every object of torch and scikit-learn once more (about
    0.4 s of a 3 s command) just before the operating system frees it all. Only the console script does this:
    a program that calls :func:`main` keeps its own collector as it was.
    """
    gc.freeze()
    status = main()
    gc.freeze()
    sys.exit(status)


__all__ = ["build_parser", "main", "main_entry", "spelled_out"]
