"""Write the small tables the documentation's examples read (run once; the outputs are committed).

* ``definitions.csv``: 600 WordNet 3.0 definitions, 100 drawn (seed 0) from each of six lexicographer categories
  of ``$AEKIT_DATA/text/wordnet_glosses.tsv.gz``; columns ``category``, ``definition``. WordNet's licence is in
  ``WORDNET_LICENSE`` beside it.
* ``ratings.csv``: a synthetic log of 300 users rating 120 items of four genres (item ``i`` is of genre
  ``(i - 1) % 4``). Each user likes one or two genres, rates 10-39 items drawn mostly from them, and rates liked
  genres about 4.2 and others about 2.5 (normal noise, sd 0.8, rounded to 1-5); columns ``user_id``,
  ``movie_id``, ``rating``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CATEGORIES = ["noun.animal", "noun.food", "noun.artifact", "verb.motion", "noun.body", "noun.plant"]


def definitions() -> pd.DataFrame:
    glosses = pd.read_csv(Path(os.environ["AEKIT_DATA"]) / "text" / "wordnet_glosses.tsv.gz", sep="\t")
    rng = np.random.default_rng(0)
    parts = []
    for category in CATEGORIES:
        rows = glosses[glosses.lexname == category]
        parts.append(rows.iloc[rng.choice(len(rows), 100, replace=False)])
    out = pd.concat(parts)[["lexname", "definition"]].rename(columns={"lexname": "category"})
    return out.sample(frac=1, random_state=0)


def ratings(n_users: int = 300, n_items: int = 120, genres: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for user in range(1, n_users + 1):
        liked = rng.choice(genres, size=rng.integers(1, 3), replace=False)
        weights = np.where(np.isin(np.arange(n_items) % genres, liked), 6.0, 1.0)
        items = rng.choice(n_items, size=rng.integers(10, 40), replace=False, p=weights / weights.sum())
        for item in items:
            mean = 4.2 if item % genres in liked else 2.5
            rows.append((user, int(item) + 1, int(np.clip(np.round(rng.normal(mean, 0.8)), 1, 5))))
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])


if __name__ == "__main__":
    definitions().to_csv(HERE / "definitions.csv", index=False)
    ratings().to_csv(HERE / "ratings.csv", index=False)
