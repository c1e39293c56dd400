"""Recommendation on MovieLens-100K: aekit's RecVAE, Mult-DAE and Mult-VAE against most-popular, item-kNN and EASE.

The strong-generalisation protocol of the Mult-VAE paper (Liang et al., 2018): ratings >= 4 are interactions,
users with at least 5 of them; users are split 80/10/10 into train / validation / test at random (one split per
seed); each validation and test user's items are split 80/20 at random into fold-in and held-out; a method sees
the train users' full histories, ranks all items not in a user's fold-in, and is scored on the held-out ones:
NDCG@100, Recall@20 and Recall@50 (normalised recall). Every method's few settings are chosen on the validation
users only (item-kNN's k, EASE's lambda, the autoencoders' KL weight / weight decay, and their best epoch); the
test users are scored once per method and split. Same run, same splits for all.

    python benchmarks/recommend.py                  # 5 splits; writes docs/benchmarks/results/recommend.md
    python benchmarks/recommend.py --seeds 1 --no-write
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from _common import markdown_table, publish, section_header

from aekit import Recommender
from aekit.data.interactions import fold_in_split
from aekit.metrics import ndcg_at_k, recall_at_k

KNN_K = (10, 20, 50, 100, 200, 400)
EASE_LAMBDA = (10, 30, 100, 200, 500, 1000, 2000)
VAE_BETA = (0.1, 0.2, 0.4)
DAE_DECAY = (0.0, 1e-5, 1e-4)
RECVAE_GAMMA = (0.0025, 0.005, 0.01)  # KL weight per item of a history


def load() -> sp.csr_matrix:
    path = os.path.join(os.environ["AEKIT_DATA"], "movielens", "ml-100k", "u.data")
    df = pd.read_csv(path, sep="\t", names=["user", "item", "rating", "ts"])
    df = df[df["rating"] >= 4]
    counts = df.groupby("user")["item"].transform("size")
    df = df[counts >= 5]
    users, u = np.unique(df["user"], return_inverse=True)
    items, i = np.unique(df["item"], return_inverse=True)
    return sp.csr_matrix((np.ones(len(df), np.float32), (u, i)), shape=(len(users), len(items)))


def evaluate(scores: np.ndarray, seen: sp.csr_matrix, held: sp.csr_matrix) -> dict[str, float]:
    scores = np.array(scores, dtype=np.float64)
    scores[seen.nonzero()] = -np.inf
    return {"NDCG@100": float(np.nanmean(ndcg_at_k(scores, held, 100))),
            "Recall@20": float(np.nanmean(recall_at_k(scores, held, 20))),
            "Recall@50": float(np.nanmean(recall_at_k(scores, held, 50)))}


# --------------------------------------------------------------------------------------------------- peers
def popularity(train: sp.csr_matrix):
    counts = np.asarray(train.sum(axis=0)).ravel()
    return lambda seen: np.tile(counts, (seen.shape[0], 1))


def item_knn(train: sp.csr_matrix, k: int):
    """Cosine similarity between items (their user columns), each item's ``k`` nearest kept."""
    X = train.T.tocsr().astype(np.float64)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    norms[norms == 0] = 1
    S = (X @ X.T).toarray() / norms[:, None] / norms[None, :]
    np.fill_diagonal(S, 0)
    if k < S.shape[0]:
        cut = np.partition(S, -k, axis=1)[:, -k][:, None]
        S = np.where(S >= cut, S, 0)
    return lambda seen: seen @ S


def ease(train: sp.csr_matrix, lam: float):
    """EASE (Steck, 2019): a closed-form item-item model with a zero diagonal."""
    G = (train.T @ train).toarray().astype(np.float64)
    G[np.diag_indices_from(G)] += lam
    P = np.linalg.inv(G)
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0)
    return lambda seen: seen @ B


def aekit_model(kind: str, train: sp.csr_matrix, val: sp.csr_matrix, seed: int, **params):
    rec = Recommender(kind=kind, random_state=seed, **params).fit(train, validation=val)
    return (lambda seen: rec.predict_scores(seen)), rec


# --------------------------------------------------------------------------------------------------- run
def one_split(matrix: sp.csr_matrix, seed: int) -> dict[str, dict]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(matrix.shape[0])
    n_test = n_val = matrix.shape[0] // 10
    test_u, val_u, train_u = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    train = matrix[np.sort(train_u)]
    val_in, val_out = fold_in_split(matrix[np.sort(val_u)], rng)
    test_in, test_out = fold_in_split(matrix[np.sort(test_u)], rng)
    results: dict[str, dict] = {}

    def tuned(name: str, build, grid, key: str):
        best, best_score, best_fit = None, -1.0, None
        t = time.perf_counter()
        for value in grid:
            fitted = build(value)
            score_fn = fitted[0] if isinstance(fitted, tuple) else fitted
            val = evaluate(score_fn(val_in), val_in, val_out)["NDCG@100"]
            if val > best_score:
                best, best_score, best_fit = value, val, fitted
        seconds = (time.perf_counter() - t) / len(grid)
        score_fn = best_fit[0] if isinstance(best_fit, tuple) else best_fit
        results[name] = {**evaluate(score_fn(test_in), test_in, test_out), "val NDCG@100": best_score,
                         "setting": f"{key}={best}", "seconds per fit": seconds}
        if isinstance(best_fit, tuple):
            results[name]["epochs"] = f"{best_fit[1].best_epoch_}/{best_fit[1].n_iter_}"

    tuned("most popular", lambda _: popularity(train), [None], "-")
    tuned("item-kNN (cosine)", lambda k: item_knn(train, k), KNN_K, "k")
    tuned("EASE", lambda lam: ease(train, lam), EASE_LAMBDA, "lambda")
    val_full = matrix[np.sort(val_u)]
    tuned("aekit Mult-DAE", lambda wd: aekit_model("mult-dae", train, val_full, seed, weight_decay=wd), DAE_DECAY,
          "weight_decay")
    tuned("aekit Mult-VAE", lambda b: aekit_model("mult-vae", train, val_full, seed, beta=b), VAE_BETA, "beta")
    tuned("aekit RecVAE", lambda g: aekit_model("recvae", train, val_full, seed, beta=g), RECVAE_GAMMA, "beta")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="user splits (seeds 0..N-1)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    matrix = load()
    runs = [one_split(matrix, seed) for seed in range(args.seeds)]
    names = list(runs[0])
    metrics = ("NDCG@100", "Recall@20", "Recall@50")
    rows = []
    for name in names:
        cells = [name]
        for m in metrics:
            values = np.array([r[name][m] for r in runs])
            cells.append(f"{values.mean():.4f} ± {values.std():.4f}")
        cells.append(f"{np.mean([r[name]['val NDCG@100'] for r in runs]):.4f}")
        cells.append(", ".join(r[name]["setting"] for r in runs))
        cells.append(f"{np.mean([r[name]['seconds per fit'] for r in runs]):.1f}")
        rows.append(cells)
    best = max(names, key=lambda n: np.mean([r[n]["NDCG@100"] for r in runs]))
    wins = {n: sum(max(names, key=lambda m: r[m]["NDCG@100"]) == n for r in runs) for n in names}
    per_split = markdown_table(["split", *names],
                               [[s, *(f"{r[n]['NDCG@100']:.4f}" for n in names)] for s, r in enumerate(runs)])
    lines = section_header("Recommendation: MovieLens-100K, strong generalisation") + [
        "",
        (f"{matrix.shape[0]} users with at least 5 ratings >= 4, {matrix.shape[1]} items, {matrix.nnz} interactions; "
        f"{args.seeds} random user splits 80/10/10; validation and test users' items split 80/20 (fold-in / "
        "held-out). Mean ± standard deviation over the splits of each split's mean over its test users. Settings "
        "chosen on the validation users (the `setting` column lists each split's choice); seconds are per fit."),
        "",
        markdown_table(["method", *(f"test {m}" for m in metrics), "val NDCG@100", "setting per split",
                        "seconds per fit"], rows),
        "",
        (f"Highest mean test NDCG@100: **{best}**. Best on each split: "
         + ", ".join(f"{n} {w}" for n, w in wins.items() if w) + "."),
        "",
        "Test NDCG@100 per split:",
        "",
        per_split,
    ]
    publish("recommend", "\n".join(lines), write=not args.no_write)


if __name__ == "__main__":
    main()
