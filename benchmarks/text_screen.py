"""The sentence autoencoder's design screen: one variant of the sentence autoencoder's code training, scored by 10-NN category
accuracy on the design split of ``text.py`` (fit on 90 % of the fitted 80 %, score the other 10 %; the held-out
20 % is never touched). Trains the model parts directly (no decoder phase: the screen is about the code), prints one
line. Short runs on purpose; they rank variants, they are not the benchmark (that is ``text.py``).

    python benchmarks/text_screen.py '{"epochs": 20, "layers": 0, "lr": 0.003, "phase": "code", "idf": true}'
    python benchmarks/text_screen.py '{"epochs": 1, "deletion": 0.6, "bow_weight": 0}'       # TSDAE as published

Keys: ``epochs``, ``batch`` (128), ``vocab`` (8000), ``units`` ("pieces" or "words"), ``lr`` (1e-3), ``phase``
("joint" or "code"), ``idf`` (weigh the bag of words by IDF), anything else is a ``SequenceConfig`` field.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier
from text import load

from aekit.data.token_sequences import TokenSequences
from aekit.data.tokenizer import TextTokenizer
from aekit.models.sequence_autoencoder import SequenceAutoEncoder, SequenceConfig
from aekit.training import TrainConfig, Trainer


def main() -> None:
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    shown = dict(opts)
    epochs, batch = opts.pop("epochs", 2), opts.pop("batch", 128)
    vocab, lr = opts.pop("vocab", 8000), opts.pop("lr", 1e-3)
    phase, idf = opts.pop("phase", "joint"), opts.pop("idf", False)
    units = opts.pop("units", "pieces")
    fit, held = load(design=True)
    tok = TextTokenizer.train(list(fit.definition), vocab, units=units)
    seqs = TokenSequences(tok.encode(list(fit.definition), 64))
    torch.manual_seed(0)
    model = SequenceAutoEncoder(SequenceConfig(vocab_size=tok.vocab_size, **opts))
    model.phase = phase
    if idf:
        model.set_token_weights(torch.from_numpy(seqs.document_frequency(tok.vocab_size)), len(seqs))
    config = TrainConfig(max_epochs=epochs, batch_size=batch, learning_rate=lr, num_threads=2, precision="bfloat16",
                         early_stopping=False)
    t0 = time.perf_counter()
    Trainer(model, config, "cpu").fit(seqs)
    seconds = time.perf_counter() - t0
    model.eval()

    def embed(texts) -> np.ndarray:
        data = TokenSequences(tok.encode(list(texts), 64))
        with torch.no_grad():
            return torch.cat([model.encode(b.x) for b in data.sequential(512)]).numpy()

    a, b = embed(fit.definition), embed(held.definition)
    scores = {}
    for name, shift in (("raw", 0.0), ("centred", a.mean(axis=0))):
        knn = KNeighborsClassifier(10, metric="cosine", algorithm="brute").fit(a - shift, fit.lexname.to_numpy())
        scores[name] = round(float((knn.predict(b - shift) == held.lexname.to_numpy()).mean()), 4)
    print(json.dumps({"variant": shown, "train_seconds": round(seconds), "10-NN accuracy": scores}))


if __name__ == "__main__":
    main()
