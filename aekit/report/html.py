"""Single-file HTML training report.

The report is one self-contained ``.html`` file: plots are inlined as base64
PNG data URIs and styling is an inline ``<style>`` block, with no scripts,
fonts or links to fetch. It therefore opens offline, survives being mailed or
attached to a ticket, and cannot leak anything to a third-party server.

Every string that comes from the caller (title, summary keys and values,
section headings) is HTML-escaped. Only the bodies of ``extra_sections`` are
inserted as-is, because other aekit features build those fragments
themselves and are responsible for escaping their own content.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .._utils import atomic_write_text
from .codemap import code_map_png
from .features import feature_error_png
from .images import reconstruction_grid_png
from .losses import loss_curves_png

__all__ = ["png_img_tag", "write_report"]

logger = logging.getLogger(__name__)

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1d1d1f; background: #ffffff; max-width: 1100px; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; word-break: break-word; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
.meta { color: #666; font-size: 0.85rem; margin-top: 0; }
.caption, .note { color: #555; font-size: 0.85rem; }
table.summary { border-collapse: collapse; font-size: 0.9rem; }
table.summary th, table.summary td { border: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left;
                                     vertical-align: top; }
table.summary th { background: #f5f5f7; font-weight: 600; white-space: nowrap; }
table.summary td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-word; }
img.plot { max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }
""".strip()


# --------------------------------------------------------------------------
# Small HTML helpers
# --------------------------------------------------------------------------


def _esc(value: object) -> str:
    """Escape text for HTML element content and quoted attributes."""
    return html.escape(str(value), quote=True)


def _format_value(value: object) -> str:
    """Human-readable text for one summary value (not yet escaped).

    Floats get six significant digits because full ``repr`` precision is
    noise in a summary; shapes and other sequences print element-wise so that
    NumPy scalars do not show up as ``np.int64(3)``.
    """
    if value is None:
        return "\u2014"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return f"{number:.6g}" if math.isfinite(number) else str(number)
    if isinstance(value, np.ndarray):
        if value.size > 20:
            return f"array of shape {tuple(value.shape)}"
        return _format_value(value.tolist())
    if isinstance(value, tuple):
        inner = ", ".join(_format_value(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {_format_value(item)}" for key, item in value.items())
    return str(value)


def png_img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` tag with the PNG inlined as a data URI."""
    payload = base64.b64encode(png).decode("ascii")
    return f'<img class="plot" src="data:image/png;base64,{payload}" alt="{_esc(alt)}">'


def _section(section_id: str, heading: str, body: str) -> str:
    """Wrap a report section; ``section_id`` is internal, ``heading`` is escaped."""
    return f'<section id="{_esc(section_id)}">\n<h2>{_esc(heading)}</h2>\n{body}\n</section>'


def _caption(text: str) -> str:
    """Explanatory line under a plot, so readers know what they are looking at."""
    return f'<p class="caption">{_esc(text)}</p>'


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


def _summary_section(summary: Mapping[str, object]) -> str:
    """Key/value table of the run's headline facts."""
    if not summary:
        return _section("summary", "Summary", '<p class="note">No summary values were given.</p>')
    rows = "\n".join(
        f'<tr><th scope="row">{_esc(key)}</th><td>{_esc(_format_value(value))}</td></tr>'
        for key, value in summary.items()
    )
    return _section("summary", "Summary", f'<table class="summary">\n<tbody>\n{rows}\n</tbody>\n</table>')


def _loss_section(history: Sequence[Mapping[str, float]]) -> str:
    """Loss curves, or a note when no epoch was recorded."""
    if not history:
        return _section("loss-curves", "Loss curves", '<p class="note">No training history was recorded.</p>')
    body = png_img_tag(loss_curves_png(list(history)), "Loss curves per term") + _caption(
        "Training (solid) and validation (dashed) loss per epoch, one panel per loss term; "
        "a panel uses a log scale when all its values are positive."
    )
    return _section("loss-curves", "Loss curves", body)


def _reconstruction_section(images: tuple[np.ndarray, np.ndarray]) -> str:
    """Input images above their reconstructions."""
    inputs, reconstructions = _pair(images, "images", "(inputs, reconstructions)")
    body = png_img_tag(reconstruction_grid_png(inputs, reconstructions), "Inputs and reconstructions") + _caption(
        "Each input image is shown directly above its reconstruction (values clipped to [0, 1])."
    )
    return _section("reconstructions", "Inputs and reconstructions", body)


def _feature_error_section(feature_errors: tuple[list[str], np.ndarray]) -> str:
    """Bar chart of the worst-reconstructed features."""
    names, errors = _pair(feature_errors, "feature_errors", "(feature_names, errors)")
    body = png_img_tag(feature_error_png(list(names), errors), "Per-feature reconstruction error") + _caption(
        "Mean reconstruction error of each feature, largest first: "
        "features at the top are the ones the model reconstructs worst."
    )
    return _section("feature-errors", "Per-feature reconstruction error", body)


def _code_map_section(codes: np.ndarray, labels: np.ndarray | None) -> str:
    """2-D map of the latent codes."""
    body = png_img_tag(code_map_png(codes, labels), "Latent code map") + _caption(
        "Latent codes in 2-D (the axis labels say whether they are raw or projected)"
        + (", coloured by label." if labels is not None else ".")
    )
    return _section("code-map", "Latent code map", body)


def _extra_sections(extra: Sequence[tuple[str, str]]) -> list[str]:
    """Caller-built sections: heading escaped, fragment trusted."""
    parts = []
    for index, item in enumerate(extra):
        if not (isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ValueError(f"extra_sections[{index}] must be a (heading, html) tuple of strings")
        heading, fragment = item
        parts.append(_section(f"extra-{index + 1}", heading, fragment))
    return parts


def _pair(value: object, name: str, expected: str) -> tuple[object, object]:
    """Unpack a two-element tuple argument with a clear error."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise ValueError(f"{name} must be a tuple {expected}")
    return value[0], value[1]


# --------------------------------------------------------------------------
# Document and file
# --------------------------------------------------------------------------


def _render(title: str, sections: Sequence[str]) -> str:
    """Assemble the complete HTML document."""
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{_esc(title)}</h1>\n<p class=\"meta\">Generated by aekit on {generated}</p>\n</header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def write_report(
    path: str | os.PathLike[str],
    *,
    title: str,
    summary: dict[str, object],
    history: list[dict[str, float]],
    images: tuple[np.ndarray, np.ndarray] | None = None,
    feature_errors: tuple[list[str], np.ndarray] | None = None,
    codes: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    extra_sections: list[tuple[str, str]] | None = None,
) -> Path:
    """Write a self-contained HTML report of a training run.

    One file with everything inlined is the easiest artefact to keep next to
    a checkpoint and to share: it needs no server, no network and no
    companion image folder.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; missing parent directories are created. An existing file
        is replaced atomically.
    title : str
        Report title (escaped).
    summary : dict
        Headline facts shown as a key/value table in the given order, e.g.
        model kind, latent dim, epochs run, best validation loss, stop
        reason, data shape, seconds. Keys and values are escaped; floats are
        shown with 6 significant digits.
    history : list of dict
        Per-epoch rows as accepted by :func:`aekit.report.losses.loss_curves_png`.
        An empty list gives a note instead of the plot.
    images : tuple of numpy.ndarray, optional
        ``(inputs, reconstructions)`` image batches; adds the comparison grid.
    feature_errors : tuple, optional
        ``(feature_names, errors)``; adds the per-feature error chart.
    codes : numpy.ndarray, optional
        Latent codes ``(n, k)``; adds the 2-D code map.
    labels : numpy.ndarray, optional
        One label per row of ``codes``, used to colour the code map.
    extra_sections : list of (str, str), optional
        ``(heading, html_fragment)`` pairs appended at the end. Headings are
        escaped; fragments are inserted verbatim and must already be safe and
        self-contained.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        On malformed arguments (see the plot functions), ``labels`` without
        ``codes``, or a malformed ``extra_sections`` entry.
    """
    if not isinstance(summary, Mapping):
        raise ValueError(f"summary must be a dict, got {type(summary).__name__}")
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise ValueError(f"history must be a list of dicts, got {type(history).__name__}")
    if labels is not None and codes is None:
        raise ValueError("labels were given without codes; they only colour the code map")
    sections = [_summary_section(summary), _loss_section(history)]
    if images is not None:
        sections.append(_reconstruction_section(images))
    if feature_errors is not None:
        sections.append(_feature_error_section(feature_errors))
    if codes is not None:
        sections.append(_code_map_section(codes, labels))
    sections.extend(_extra_sections(extra_sections or []))
    target = Path(path)
    atomic_write_text(target, _render(str(title), sections))
    logger.info("wrote report to %s", target)
    return target
