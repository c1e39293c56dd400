"""MkDocs hooks: the CLI reference is generated from aekit's own argparse parsers at build time.

``docs/reference/cli.md`` holds the marker ``<!-- cli-reference -->``; :func:`on_page_markdown` replaces it with one
section per command and sub-command, each with its one-line summary and the exact text ``aekit ... --help`` prints
(argparse's own formatting at a fixed width), so the page cannot drift from the program.
"""

from __future__ import annotations

import argparse
import os

MARKER = "<!-- cli-reference -->"
#: The width ``--help`` is formatted at on the page (argparse reads ``COLUMNS``).
WIDTH = "100"


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, list[str], str, argparse.ArgumentParser]]:
    """``(name, aliases, help line, parser)`` of each sub-command of ``parser``, in the order ``--help`` lists them."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            seen: dict[int, int] = {}
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias: the same parser under another name
                    found[seen[id(sub)]][1].append(name)
                    continue
                seen[id(sub)] = len(found)
                found.append((name, [], helps.get(name, ""), sub))
    return found


def _sections(parser: argparse.ArgumentParser, words: list[str], level: int) -> list[str]:
    out = []
    for name, aliases, help_line, sub in _subcommands(parser):
        command = " ".join([*words, name])
        out += [f"{'#' * level} `{command}`", ""]
        if aliases:
            spelled = ", ".join("`" + " ".join([*words, alias]) + "`" for alias in aliases)
            out += [f"Also spelled: {spelled}.", ""]
        if help_line:
            out += [help_line[0].upper() + help_line[1:] + ".", ""]
        out += ["```text", sub.format_help().rstrip(), "```", ""]
        out += _sections(sub, [*words, name], min(level + 1, 4))
    return out


def cli_reference() -> str:
    """The Markdown of every ``aekit`` command's ``--help``, top level first."""
    from aekit.cli import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parser = build_parser("*")
        lines = ["```text", parser.format_help().rstrip(), "```", ""]
        lines += _sections(parser, ["aekit"], 2)
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
