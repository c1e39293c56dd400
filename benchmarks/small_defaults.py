"""Every task's estimator at its defaults on a small input, as a new user first tries it: fit seconds.

Inputs (each a few thousand rows, images or texts at most; seed 0 for every estimator):

* AutoEncoder, Clusterer: scikit-learn's bundled digits (1,797 images of 8x8).
* AnomalyDetector: scikit-learn's breast-cancer table (569 rows, 30 columns).
* Imputer: the first 3,000 rows of the letter table (16 columns) with 20% of the cells removed at random.
* Denoiser, Codec: the first 2,000 MNIST training images (28x28, uint8).
* Recommender: MovieLens-100K ratings of at least 4 (943 users, 1,682 items).
* TextAutoEncoder: 10,000 texts of about 25 words (two random WordNet glosses each).

Each fit runs in this process, one after the other, alone on the machine; the table gives the wall seconds of
``fit`` and the epochs it ran.

    python benchmarks/small_defaults.py                  # every task; writes the results
    python benchmarks/small_defaults.py --only Codec,Denoiser --no-write
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from _common import markdown_table, publish, section_header

from aekit import (AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Imputer, Recommender, TextAutoEncoder,
                   datasets)

DATA = os.environ["AEKIT_DATA"]


def _digits() -> np.ndarray:
    return datasets.load("digits")[0]


def _cancer() -> np.ndarray:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer().data


def _letter_with_holes() -> pd.DataFrame:
    table = pd.read_csv(os.path.join(DATA, "tabular", "letter.csv")).iloc[:3000]
    holes = np.random.default_rng(0).random(table.shape) < 0.2
    return table.mask(holes)


def _mnist() -> np.ndarray:
    return datasets.load("mnist", split="train")[0][:2000]


def _ratings() -> pd.DataFrame:
    path = os.path.join(DATA, "movielens", "ml-100k", "u.data")
    frame = pd.read_csv(path, sep="\t", names=["user", "item", "rating", "time"])
    return frame[frame["rating"] >= 4]


def _texts() -> list[str]:
    glosses = pd.read_csv(os.path.join(DATA, "text", "wordnet_glosses.tsv.gz"), sep="\t", keep_default_na=False,
                          dtype=str)["gloss"].to_numpy()
    rng = np.random.default_rng(0)
    return [f"{a} {b}" for a, b in zip(rng.choice(glosses, 10_000), rng.choice(glosses, 10_000))]


#: name -> (estimator at its defaults, its input, what the input is)
TASKS: dict[str, tuple[Callable[[], object], Callable[[], object], str]] = {
    "AutoEncoder": (lambda: AutoEncoder(random_state=0), _digits, "digits, 1,797 images 8x8"),
    "AnomalyDetector": (lambda: AnomalyDetector(random_state=0), _cancer, "breast cancer, 569 x 30"),
    "Clusterer": (lambda: Clusterer(random_state=0), _digits, "digits, 1,797 images 8x8"),
    "Imputer": (lambda: Imputer(random_state=0), _letter_with_holes, "letter, 3,000 x 16, 20% missing"),
    "Denoiser": (lambda: Denoiser(random_state=0), _mnist, "MNIST, 2,000 images 28x28"),
    "Codec": (lambda: Codec(random_state=0), _mnist, "MNIST, 2,000 images 28x28"),
    "Recommender": (lambda: Recommender(rating_col="rating", min_rating=4, random_state=0), _ratings,
                    "MovieLens-100K, ratings >= 4"),
    "TextAutoEncoder": (lambda: TextAutoEncoder(random_state=0), _texts, "10,000 texts of about 25 words"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=None, help="comma-separated estimator names (default: all)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(TASKS)
    rows = []
    for name in names:
        make, load, what = TASKS[name]
        X = load()
        estimator = make()
        start = time.perf_counter()
        estimator.fit(X)
        seconds = time.perf_counter() - start
        epochs = getattr(estimator, "n_iter_", None)
        rows.append([name, what, f"{seconds:.1f}", "-" if epochs is None else epochs])
        print(rows[-1], flush=True)
    body = "\n".join([*section_header("Every task's defaults on a small input"), "",
                      markdown_table(["estimator", "input", "fit seconds", "epochs"], rows)])
    publish("small-defaults", body, write=not args.no_write)


if __name__ == "__main__":
    main()
