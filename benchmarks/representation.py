"""Representation: linear probe, 2-D maps and clustering, aekit against PCA, UMAP and k-means, on MNIST and digits.

MNIST: every encoder (PCA, autoencoders, the Clusterer, k-means) is fitted on the 60k training images without
labels; every figure is measured on the 10k test images. digits: a stratified 70/30 split (seed 0), same protocol.

* Linear probe: standardise, then logistic regression trained on the training codes with their labels, accuracy
  on the test codes. Codes: raw pixels, PCA-32, ``AutoEncoder(kind="deep", latent_dim=32)``, and the Clusterer's
  autoencoder after it refined its code toward its own clusters (still no labels).
* 2-D: scikit-learn's ``trustworthiness`` (10 neighbours, against the test pixels) and the 5-fold
  cross-validated accuracy of a 10-nearest-neighbour classifier in 2-D, for ``AutoEncoder(latent_dim=2)``,
  PCA-2 (both fitted on the training images) and UMAP-2 (fitted on the test images themselves, as it is used
  for plots; this favours UMAP).
* Clustering into 10: accuracy under the best one-to-one matching (Hungarian) and NMI on the test images, for
  k-means on pixels, on PCA-32 and on the plain autoencoder's codes (each fitted on the training images), and
  ``aekit.Clusterer(10)`` (fitted on the training images; test rows assigned with ``predict``).

    python benchmarks/representation.py              # full run (~30 min on 2 cores), writes docs/benchmarks/results/representation.md
    python benchmarks/representation.py --only digits --no-write   # quick run
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import markdown_table, publish, section_header
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness
from sklearn.metrics import normalized_mutual_info_score
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aekit import AutoEncoder, Clusterer, datasets
from aekit.metrics import cluster_accuracy

SEED = 0


def flat(X: np.ndarray) -> np.ndarray:
    return X.reshape(len(X), -1).astype(np.float32)


def probe(Ztr: np.ndarray, ytr: np.ndarray, Zte: np.ndarray, yte: np.ndarray) -> float:
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    return float(clf.fit(Ztr, ytr).score(Zte, yte))


def map_scores(X_test: np.ndarray, xy: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    trust = trustworthiness(X_test, xy, n_neighbors=10)
    knn = cross_val_score(KNeighborsClassifier(10), xy, y, cv=5).mean()
    return float(trust), float(knn)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run(name: str, Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray) -> dict[str, list]:
    Ftr, Fte = flat(Xtr), flat(Xte)
    say = lambda msg: print(f"[{name}] {msg}", flush=True)  # noqa: E731
    out: dict[str, list] = {"probe": [], "map": [], "cluster": []}

    pca32, t_pca = timed(lambda: PCA(32, random_state=SEED).fit(Ftr))
    ae32, t_ae = timed(lambda: AutoEncoder(kind="deep", latent_dim=32, random_state=SEED).fit(Xtr))
    say(f"AE-32 trained in {t_ae:.0f}s ({ae32.n_iter_} epochs)")
    clus, t_clus = timed(lambda: Clusterer(10, random_state=SEED).fit(Xtr))
    say(f"Clusterer trained in {t_clus:.0f}s")
    codes = {
        "raw pixels": (Ftr, Fte, 0.0),
        "PCA-32": (pca32.transform(Ftr), pca32.transform(Fte), t_pca),
        "aekit AutoEncoder(kind='deep', latent_dim=32)": (ae32.transform(Xtr), ae32.transform(Xte), t_ae),
        "aekit Clusterer(10).autoencoder_ (its code, refined toward its own clusters)":
            (clus.autoencoder_.transform(Xtr), clus.autoencoder_.transform(Xte), t_clus),
    }
    for label, (Ztr, Zte, seconds) in codes.items():
        acc = probe(Ztr, ytr, Zte, yte)
        out["probe"].append([label, Ztr.shape[1], f"{acc:.4f}", f"{seconds:.0f}"])
        say(f"probe {label}: {acc:.4f}")

    ae2, t_ae2 = timed(lambda: AutoEncoder(kind="deep", latent_dim=2, random_state=SEED).fit(Xtr))
    pca2 = PCA(2, random_state=SEED).fit(Ftr)
    import umap

    umap2, t_umap = timed(lambda: umap.UMAP(n_components=2, n_neighbors=15, random_state=SEED).fit_transform(Fte))
    for label, xy, seconds in (("PCA-2", pca2.transform(Fte), 0.0),
                               ("UMAP-2 (fitted on the test images)", umap2, t_umap),
                               ("aekit AutoEncoder(kind='deep', latent_dim=2)", ae2.transform(Xte), t_ae2)):
        trust, knn = map_scores(Fte, xy, yte)
        out["map"].append([label, f"{trust:.4f}", f"{knn:.4f}", f"{seconds:.0f}"])
        say(f"2-D {label}: trustworthiness {trust:.4f}, 10-NN accuracy {knn:.4f}")

    kmeans = lambda: KMeans(10, n_init=10, random_state=SEED)  # noqa: E731
    for label, (Ztr, Zte, seconds) in (("k-means on pixels", codes["raw pixels"]),
                                       ("k-means on PCA-32", codes["PCA-32"]),
                                       ("k-means on aekit AutoEncoder codes (AE + k-means)",
                                        codes["aekit AutoEncoder(kind='deep', latent_dim=32)"])):
        km, t_km = timed(lambda: kmeans().fit(Ztr))
        pred = km.predict(Zte)
        out["cluster"].append([label, f"{cluster_accuracy(yte, pred):.4f}",
                               f"{normalized_mutual_info_score(yte, pred):.4f}", f"{seconds + t_km:.0f}"])
    pred = clus.predict(Xte)
    out["cluster"].append(["aekit Clusterer(10) (AE -> UMAP -> GMM, refined)", f"{cluster_accuracy(yte, pred):.4f}",
                           f"{normalized_mutual_info_score(yte, pred):.4f}", f"{t_clus:.0f}"])
    say(f"Clusterer test accuracy {cluster_accuracy(yte, pred):.4f}; on its training rows "
        f"{cluster_accuracy(ytr, clus.labels_):.4f}")
    out["train_acc"] = [f"{cluster_accuracy(ytr, clus.labels_):.4f}"]
    return out


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if name == "mnist":
        Xtr, ytr = datasets.load("mnist", split="train")
        Xte, yte = datasets.load("mnist", split="test")
        return Xtr, ytr, Xte, yte
    X, y = datasets.load("digits")
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=SEED, stratify=y)
    return Xtr, ytr, Xte, yte


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("mnist", "digits"), default=None, help="run one dataset")
    parser.add_argument("--no-write", action="store_true", help="print only; write no result file")
    args = parser.parse_args()
    parts = [
        *section_header("Representation: linear probe, 2-D maps, clustering"),
        "Protocol: see the docstring of `benchmarks/representation.py`. Everything without labels except the "
        "probe's logistic regression and the k-NN accuracy; every figure on held-out test images. Seconds: fitting "
        "the representation on the training images (the Clusterer's includes its autoencoder).",
    ]
    for name in ([args.only] if args.only else ["mnist", "digits"]):
        Xtr, ytr, Xte, yte = load(name)
        res = run(name, Xtr, ytr, Xte, yte)
        parts += [
            "",
            f"### {name}: {len(Xtr)} training / {len(Xte)} test images",
            "",
            markdown_table(["linear probe on", "dims", "test accuracy", "fit seconds"], res["probe"]),
            "",
            markdown_table(["2-D map", "trustworthiness (10)", "10-NN accuracy in 2-D", "fit seconds"], res["map"]),
            "",
            markdown_table(["clustering (10 clusters)", "test accuracy (Hungarian)", "test NMI", "fit seconds"],
                           res["cluster"]),
            "",
            f"Clusterer accuracy on its own training rows (`labels_`): {res['train_acc'][0]}.",
        ]
    publish("representation", "\n".join(parts), write=not args.no_write)


if __name__ == "__main__":
    main()
