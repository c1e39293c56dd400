"""What ``aekit text fit`` does beyond the estimator: a run directory with the model and a report a person reads
to judge the embedding -- reconstructions, the neighbours of a few texts, and (VAE) samples and interpolations."""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np

from ..data.texts import read_texts
from ..estimators import TextAutoEncoder
from ..report import write_report
from .run_dir import prepare_run_dir

REPORT = "report.html"
#: Texts shown in the report's reconstruction and neighbour tables.
SHOWN = 8


def _table(header: list[str], rows: list[list[object]]) -> str:
    cells = lambda tag, row: "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in row)
    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def text_sections(tae: TextAutoEncoder, texts: list[str], seed: int = 0) -> list[tuple[str, str]]:
    """Report sections: reconstructions and nearest neighbours of a few fitted texts; samples and an interpolation
    for a VAE."""
    rng = np.random.default_rng(seed)
    shown = [texts[i] for i in rng.choice(len(texts), size=min(SHOWN, len(texts)), replace=False)]
    sections = [("Reconstructions (greedy decoding from each text's code)",
                 _table(["text", "written back"], [[t, r] for t, r in zip(shown, tae.reconstruct(shown))]))]
    near = tae.neighbours(shown[:4], k=4, corpus=None if getattr(tae, "corpus_", None) else texts)
    near = near[near["text"] != near["query"]].groupby("query", sort=False).head(3)
    sections.append(("Nearest neighbours by cosine similarity of the codes",
                     _table(["query", "neighbour", "similarity"],
                            [[q, t, f"{s:.3f}"] for q, t, s in zip(near["query"], near["text"], near["similarity"])])))
    if tae.kind == "vae":
        sections.append(("Samples from the prior", _table(["sample"], [[s] for s in tae.sample(SHOWN, seed)])))
        steps = tae.interpolate(shown[0], shown[1], steps=6)
        sections.append(("Interpolation between two texts' codes",
                         _table(["step", "text"], [[i, s] for i, s in enumerate(steps)])))
    return sections


def fit_text_run(tae: TextAutoEncoder, texts: object, out: str | os.PathLike, *, overwrite: bool = False,
                 name: str = "texts") -> Path:
    """Fit ``tae`` on ``texts``, save it to ``out`` with ``report.html``."""
    out = prepare_run_dir(out, overwrite=overwrite)
    given, _ = read_texts(texts, tae.text_col)
    tae.fit(given)
    tae.save(out)
    sample = given[:: max(len(given) // 2000, 1)]
    summary = {
        "data": name,
        "kind": tae.kind,
        "texts": len(given),
        "vocabulary (word pieces)": tae.tokenizer_.vocab_size,
        "embedding size": tae.latent_dim,
        "epochs run": tae.n_iter_,
        "stop reason": tae.stop_reason_,
        "training seconds": round(tae.train_seconds_, 1),
        f"token accuracy (teacher-forced, {len(sample)} fitted texts)": round(tae.token_accuracy(sample), 4),
    }
    write_report(out / REPORT, title=f"aekit text autoencoder ({tae.kind}) on {name}", summary=summary,
                 history=tae.history_, extra_sections=text_sections(tae, given))
    return out
