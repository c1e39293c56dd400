"""Sentence embeddings on WordNet's definitions: aekit's TextAutoEncoder against LSA, Doc2Vec and mean word2vec.

Every method is fitted on the definitions of a seeded 80 % of the 117,659 synsets and embeds the other 20 % at
one dimension (64); the lexicographer category (45 classes such as noun.animal, verb.motion) is for evaluation
only. Scores: 10-NN accuracy (cosine; the fitted definitions with their categories are the index, each held-out
definition is classified by the majority of its 10 nearest) and a linear probe (logistic regression trained on
the fitted definitions' embeddings, scored on the held-out ones); training seconds, all in one run. The full
TF-IDF vectors (thousands of dimensions) and the majority class are references.

Design choices were made with ``--design``: fit on 90 % of the fitted part and score on its other 10 %, never on
the held-out 20 % (which the default run scores once).

    python benchmarks/text.py                     # held-out 20 %; writes docs/benchmarks/results/text.md
    python benchmarks/text.py --design --only aekit --variants '[{"bow_weight": 0}]' --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time

import numpy as np
import pandas as pd
from _common import markdown_table, publish, section_header
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from aekit import TextAutoEncoder

DIM = 64
SEED = 0
QUERIES = ("a domestic animal kept for companionship", "a tool for cutting wood", "move quickly on foot",
           "a feeling of great sadness", "a city in northern Italy")


def load(design: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = os.path.join(os.environ["AEKIT_DATA"], "text", "wordnet_glosses.tsv.gz")
    df = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
    order = np.random.default_rng(SEED).permutation(len(df))
    cut = int(0.8 * len(df))
    fit, held = df.iloc[order[:cut]], df.iloc[order[cut:]]
    if design:
        inner = int(0.9 * len(fit))
        fit, held = fit.iloc[:inner], fit.iloc[inner:]
    return fit.reset_index(drop=True), held.reset_index(drop=True)


def words(texts: pd.Series) -> list[list[str]]:
    return [re.findall(r"[a-z0-9]+(?:'[a-z]+)?", t.lower()) for t in texts]


def scores(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray, probe: bool = True) -> dict:
    knn = KNeighborsClassifier(10, metric="cosine", algorithm="brute", n_jobs=1).fit(train, y_train)
    out = {"10-NN accuracy": float((knn.predict(test) == y_test).mean())}
    if probe:
        scale = StandardScaler().fit(train)
        clf = LogisticRegression(max_iter=300).fit(scale.transform(train), y_train)
        out["linear probe accuracy"] = float((clf.predict(scale.transform(test)) == y_test).mean())
    return out


# ---------------------------------------------------------------------------------------------------- peers
def lsa(fit: pd.DataFrame, held: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    tfidf = TfidfVectorizer(sublinear_tf=True).fit(fit.definition)
    svd = TruncatedSVD(DIM, random_state=SEED).fit(tfidf.transform(fit.definition))
    return svd.transform(tfidf.transform(fit.definition)), svd.transform(tfidf.transform(held.definition))


def doc2vec(fit: pd.DataFrame, held: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument

    docs = [TaggedDocument(w, [i]) for i, w in enumerate(words(fit.definition))]
    # PV-DBOW trained together with skip-gram word vectors (dbow_words=1): on short texts the document vectors
    # alone learn little (0.34 on the design split), with word vectors far more.
    model = Doc2Vec(docs, dm=0, dbow_words=1, vector_size=DIM, window=5, min_count=2, epochs=20, workers=2,
                    seed=SEED, negative=5, sample=1e-4)
    train = np.stack([model.dv[i] for i in range(len(docs))])
    test = np.stack([model.infer_vector(w, epochs=20) for w in words(held.definition)])
    return train, test


def word2vec_mean(fit: pd.DataFrame, held: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    from gensim.models import Word2Vec

    model = Word2Vec(words(fit.definition), vector_size=DIM, window=5, min_count=2, sg=1, epochs=10, workers=2,
                     seed=SEED)

    def mean(ws: list[str]) -> np.ndarray:
        known = [model.wv[w] for w in ws if w in model.wv]
        return np.mean(known, axis=0) if known else np.zeros(DIM, np.float32)

    return (np.stack([mean(w) for w in words(fit.definition)]), np.stack([mean(w) for w in words(held.definition)]))


def aekit_method(settings: dict):
    def run(fit: pd.DataFrame, held: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        tae = TextAutoEncoder(latent_dim=DIM, random_state=SEED, verbose=1, **settings).fit(fit.definition)
        run.model = tae
        return tae.corpus_codes_, tae.transform(held.definition)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--design", action="store_true", help="score on 10 %% of the fitted part (choosing defaults)")
    parser.add_argument("--only", default=None, help="comma-separated methods: lsa,tfidf,doc2vec,word2vec,aekit,vae")
    parser.add_argument("--variants", default='[{}, {"kind": "vae"}]',
                        help="JSON list of TextAutoEncoder settings (default: the defaults of both kinds)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    fit, held = load(args.design)
    y_fit, y_held = fit.lexname.to_numpy(), held.lexname.to_numpy()
    print(f"{len(fit)} fitted definitions, {len(held)} scored ({'design split' if args.design else 'held-out 20 %'})")
    methods = {"LSA (TF-IDF + SVD)": lsa, "Doc2Vec (PV-DBOW)": doc2vec, "word2vec mean": word2vec_mean}
    for v in json.loads(args.variants):
        others = {k: x for k, x in v.items() if k != "kind"}
        name = f"aekit TextAutoEncoder {v.get('kind', 'denoising')}" + (f" {json.dumps(others)}" if others else "")
        methods[name] = aekit_method(v)
    if args.only:
        keep = args.only.split(",")
        tags = {"lsa": "LSA", "doc2vec": "Doc2Vec", "word2vec": "word2vec", "aekit": "aekit", "vae": "vae"}
        methods = {k: f for k, f in methods.items() if any(tags.get(t, t) in k for t in keep)}
    rows, models = [], {}
    majority = pd.Series(y_fit).mode()[0]
    rows.append(["majority class", "-", f"{(y_held == majority).mean():.3f}", "-", "-"])
    if not args.only or "tfidf" in (args.only or ""):
        t0 = time.perf_counter()
        tfidf = TfidfVectorizer(sublinear_tf=True).fit(fit.definition)
        a, b = tfidf.transform(fit.definition), tfidf.transform(held.definition)
        s, secs = scores(a, y_fit, b, y_held, probe=False), time.perf_counter() - t0
        rows.append([f"TF-IDF, full ({a.shape[1]:,} dims)", a.shape[1], f"{s['10-NN accuracy']:.3f}", "-", f"{secs:.0f}"])
        print(rows[-1], flush=True)
    for name, method in methods.items():
        t0 = time.perf_counter()
        a, b = method(fit, held)
        secs = time.perf_counter() - t0
        s = scores(a, y_fit, b, y_held)
        rows.append([name, DIM, f"{s['10-NN accuracy']:.3f}", f"{s['linear probe accuracy']:.3f}", f"{secs:.0f}"])
        print(rows[-1], flush=True)
        if hasattr(method, "model"):
            models[name] = method.model
    lines = section_header("Text: sentence embeddings on WordNet definitions" +
                           (" -- design split" if args.design else ""))
    lines += ["", (f"{len(fit):,} definitions fitted, {len(held):,} scored "
              f"({'10 % of the fitted part: the design split' if args.design else 'the held-out 20 % of synsets'}); "
              "45 categories; every embedding 64-d; seconds = fit + embed both parts."), ""]
    lines.append(markdown_table(["method", "dims", "10-NN accuracy", "linear probe accuracy", "seconds"], rows))
    for name, tae in models.items():
        lines += ["", (f"**{name}**: {tae.n_iter_} epochs, {tae.train_seconds_:.0f} s of training; teacher-forced token "
                  f"accuracy on the scored definitions {tae.token_accuracy(held.definition[:2000]):.3f}."), ""]
        pairs = list(zip(held.definition[:4], tae.reconstruct(held.definition[:4])))
        lines += ["Reconstructions:", ""] + [f"- {a!r} -> {b!r}" for a, b in pairs] + [""]
        if tae.kind == "vae":
            lines += ["Samples from the prior:", ""] + [f"- {s!r}" for s in tae.sample(5, random_state=0)] + [""]
            lines += ["Interpolation:", ""] + [f"{i}. {s!r}" for i, s in
                                               enumerate(tae.interpolate(held.definition[0], held.definition[1], 5))]
            lines.append("")
        else:  # the kind made for search shows its neighbours; the VAE's codes are scored in the table above
            near = tae.neighbours(list(QUERIES), k=3)
            lines += ["Nearest fitted definitions of five queries:", ""]
            for q, group in near.groupby("query", sort=False):
                lines.append(f"- {q!r}: " + "; ".join(f"{t!r} ({s:.2f})" for t, s in zip(group.text, group.similarity)))
    section = "text-design" if args.design else "text"
    publish(section, "\n".join(lines), write=not args.no_write)


if __name__ == "__main__":
    main()
