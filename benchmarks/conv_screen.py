"""The conv autoencoder's design screen: one conv (or dense) variant trained on a subset of one image set, test MSE printed
as one JSON line. Short runs on purpose (20k training images, 20 epochs, one thread, so two run side by side
on the 2 cores); they rank variants, they are not the benchmark (that is ``image_reconstruction.py``).

    python benchmarks/conv_screen.py --set natural --kind conv --loss mse --conv '{"norm": "batch"}'
    python benchmarks/conv_screen.py --set mnist --kind deep --loss mse --std   # standardise outside the model

``--conv`` overrides settings of the conv encoder family (``aekit.models.encoders.ConvFamily.Config``) on top of
what the estimator asks for; ``--std`` standardises inputs and targets outside the model (how the first screen
tested the idea before ``input_norm`` existed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import torch
from image_reconstruction import load, mse
from sklearn.decomposition import PCA

from aekit.models import encoders
from aekit import AutoEncoder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", default="mnist", choices=["mnist", "natural"])
    p.add_argument("--train", type=int, default=20000)
    p.add_argument("--test", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--kind", default="conv")
    p.add_argument("--hidden", default=None, help="comma-separated channels/widths")
    p.add_argument("--loss", default="auto")
    p.add_argument("--conv", default="{}", help="JSON overrides of the conv family's settings")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--std", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    Xtr, Xte = load(a.set)
    Xtr = Xtr[np.random.default_rng(0).permutation(len(Xtr))[: a.train]]
    Xte = Xte[: a.test]
    over = json.loads(a.conv)
    build = encoders.ConvFamily.build
    encoders.ConvFamily.build = staticmethod(lambda shape, k, config: build(shape, k, dataclasses.replace(config, **over)))
    flat = Xte.reshape(len(Xte), -1)
    pca = PCA(32, random_state=0).fit(Xtr.reshape(len(Xtr), -1))
    pca_mse = mse(pca.inverse_transform(pca.transform(flat)), flat)
    hidden = tuple(int(h) for h in a.hidden.split(",")) if a.hidden else None
    ae = AutoEncoder(kind=a.kind, latent_dim=32, hidden_dims=hidden, loss=a.loss, max_iter=a.epochs,
                     learning_rate=a.lr, random_state=0, early_stopping=False)
    mu, sd = (float(Xtr.mean()), float(Xtr.std())) if a.std else (0.0, 1.0)
    t = time.perf_counter()
    ae.fit((Xtr - mu) / sd)
    seconds = time.perf_counter() - t
    test_mse = mse(ae.reconstruct((Xte - mu) / sd) * sd + mu, Xte)
    print(json.dumps({"set": a.set, "kind": a.kind, "hidden": a.hidden, "loss": a.loss, "std": a.std, "lr": a.lr,
                      "conv": over, "epochs": ae.n_iter_, "mse": round(test_mse, 6), "pca": round(pca_mse, 6),
                      "ratio_pca": round(test_mse / pca_mse, 3), "sec": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
