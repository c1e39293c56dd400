"""TextAutoEncoder: texts in, embeddings / texts out; tokenizer, batches, persistence, CLI and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from aekit import TextAutoEncoder, load
from aekit.cli import main
from aekit.data.texts import read_texts
from aekit.data.token_sequences import TokenSequences
from aekit.data.tokenizer import PAD_ID, UNK_ID, TextTokenizer
from aekit.data.batches import Batch
from aekit.models.flops import forward_macs
from aekit.models.sequence_autoencoder import SequenceAutoEncoder, SequenceConfig, delete_tokens
from aekit.training.threads import SMALL_WORK_MACS

TOPICS = {
    "animal": (["dog", "cat", "horse", "bird", "fish", "rabbit"], ["runs", "sleeps", "eats", "swims", "hides"]),
    "food": (["bread", "soup", "cheese", "apple", "rice", "cake"], ["is baked", "is cooked", "tastes", "is sliced"]),
    "tool": (["hammer", "saw", "drill", "wrench", "knife", "chisel"], ["cuts", "drives", "turns", "breaks"]),
    "place": (["city", "village", "harbour", "valley", "island", "market"], ["grows", "floods", "sleeps", "opens"]),
}
ADJECTIVES = ["small", "old", "red", "quiet", "large", "new"]


def corpus(n: int = 480, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Short sentences about four topics: the words say the topic, the templates do not."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    names = list(TOPICS)
    for i in range(n):
        topic = names[i % len(names)]
        nouns, verbs = TOPICS[topic]
        a, b = rng.choice(nouns, 2, replace=False)
        texts.append(f"a {rng.choice(ADJECTIVES)} {a} {rng.choice(verbs)} near the {b}")
        labels.append(topic)
    return texts, np.asarray(labels)


def topic_of(text: str) -> str | None:
    """The topic whose nouns a text uses most."""
    counts = {t: sum(w in nouns for w in text.split()) for t, (nouns, _) in TOPICS.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


TINY = {"width": 32, "heads": 2, "latent_dim": 8, "vocab_size": 200, "batch_size": 32, "learning_rate": 3e-3}


@pytest.fixture(scope="module")
def fitted() -> tuple[TextAutoEncoder, list[str], np.ndarray]:
    texts, labels = corpus()
    return TextAutoEncoder(max_iter=25, random_state=0, **TINY).fit(texts), texts, labels


def neighbour_accuracy(codes: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argsort(-sims, axis=1)[:, :k]
    return float((labels[near] == labels[:, None]).mean())


def test_embeddings_group_texts_by_topic_and_decoder_learns_to_write(fitted):
    tae, texts, labels = fitted
    codes = tae.transform(texts)
    assert codes.shape == (len(texts), 8) and codes.dtype == np.float32
    assert neighbour_accuracy(codes, labels) > 0.8  # chance: 0.25; after one epoch: 0.68
    assert tae.token_accuracy(texts[:100]) > 0.55  # after one epoch: 0.17
    assert tae.history_[-1]["train_total"] < 0.5 * tae.history_[0]["train_total"]
    written = tae.reconstruct(texts[:40])
    assert len(written) == 40 and all(isinstance(w, str) for w in written)
    assert np.mean([topic_of(w) == label for w, label in zip(written, labels[:40])]) >= 0.7


def test_neighbours_search_the_fitted_corpus_and_a_given_one(fitted):
    tae, texts, labels = fitted
    near = tae.neighbours([texts[0], texts[1]], k=5)
    assert list(near.columns) == ["query", "rank", "id", "text", "similarity"]
    assert len(near) == 10 and near["rank"].tolist() == [1, 2, 3, 4, 5] * 2
    first = near[near["query"] == texts[0]]
    assert first["similarity"].is_monotonic_decreasing
    assert (labels[first["id"].to_numpy()] == labels[0]).mean() >= 0.8
    other = tae.neighbours("a red dog sleeps near the cat", k=3, corpus=pd.Series(["the cheese is sliced",
                                                                                   "a cat runs", "a saw cuts"]))
    assert other["text"].iloc[0] == "a cat runs"


def test_save_load_round_trip_gives_the_same_codes_and_corpus(fitted, tmp_path):
    tae, texts, _ = fitted
    tae.save(tmp_path / "m")
    back = load(tmp_path / "m")
    assert isinstance(back, TextAutoEncoder)
    np.testing.assert_array_equal(back.transform(texts[:30]), tae.transform(texts[:30]))
    assert back.corpus_ == texts
    assert back.reconstruct(texts[:5]) == tae.reconstruct(texts[:5])


def test_same_seed_same_model():
    texts, _ = corpus(200)
    a = TextAutoEncoder(max_iter=2, random_state=3, layers=1, **TINY).fit(texts).transform(texts[:10])
    b = TextAutoEncoder(max_iter=2, random_state=3, layers=1, **TINY).fit(texts).transform(texts[:10])
    np.testing.assert_array_equal(a, b)  # a transformer encoder (layers=1) too, not only the default mean


def test_vae_samples_and_interpolates_texts():
    texts, _ = corpus(240)
    vae = TextAutoEncoder(kind="vae", max_iter=10, random_state=0, **TINY).fit(texts)
    assert "train_kl" in vae.history_[-1]
    samples = vae.sample(6, random_state=1)
    assert len(samples) == 6 and all(isinstance(s, str) for s in samples)
    assert vae.sample(6, random_state=1) == samples
    path = vae.interpolate(texts[0], texts[1], steps=4)
    assert len(path) == 4
    assert path[0] == vae.reconstruct([texts[0]])[0] and path[-1] == vae.reconstruct([texts[1]])[0]
    with pytest.raises(ValueError, match="kind='vae'"):
        TextAutoEncoder(max_iter=1, random_state=0, **TINY).fit(texts).sample(3)


# ------------------------------------------------------------------------------------------------- parts
def test_tokenizer_round_trips_through_json():
    texts, _ = corpus(100)
    tok = TextTokenizer.train(texts, 120)
    again = TextTokenizer.from_json(tok.to_json())
    ids = tok.encode(["A small Dog runs near the harbour"], 64)
    np.testing.assert_array_equal(ids[0], again.encode(["A small Dog runs near the harbour"], 64)[0])
    assert again.decode(ids) == ["a small dog runs near the harbour"]
    assert (ids[0] > PAD_ID).all()
    assert len(tok.encode(["word " * 100], 10)[0]) == 10


def test_word_tokenizer_keeps_whole_words_and_marks_rare_ones_unknown():
    texts, _ = corpus(100)
    texts = texts + ["a hammer; (heavy) it's x-ray"] * 2 + ["a zygote once"]
    tok = TextTokenizer.train(texts, 500, units="words")
    again = TextTokenizer.train(texts, 500, units="words")
    assert tok.to_json() == again.to_json()  # the same vocabulary on every fit
    ids = tok.encode(["a hammer; (heavy) it's x-ray", "a zygote once"], 64)
    assert tok.decode(ids[:1]) == ["a hammer; (heavy) it's x-ray"]  # the text's own spacing comes back
    assert "\u2581hammer" in [tok.backend.id_to_token(int(i)) for i in ids[0]]  # the whole word, not pieces
    assert UNK_ID not in ids[0].tolist()
    assert UNK_ID in ids[1].tolist()  # seen once: unknown
    with pytest.raises(ValueError, match="units"):
        TextTokenizer.train(texts, 500, units="letters")


def test_denoising_reads_words_and_scores_its_bag_of_words_by_cosine(fitted):
    tae, _, _ = fitted
    tokenizer_model = json.loads(tae.tokenizer_.to_json())["model"]
    assert tokenizer_model["type"] == "WordLevel" and tae.config_.bow_scale > 0
    z = torch.randn(3, tae.config_.latent_dim)
    model = tae.model_
    np.testing.assert_allclose(model._bow_logits(5 * z).detach(), model._bow_logits(z).detach(), rtol=1e-5, atol=1e-5)
    plain = SequenceAutoEncoder(SequenceConfig(vocab_size=50, width=16, latent_dim=4))
    assert plain.bow_scale is None and not torch.allclose(plain._bow_logits(5 * z[:, :4]), plain._bow_logits(z[:, :4]))


def test_token_sequences_cover_every_text_once_with_little_padding():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(4, 50, size=n) for n in rng.integers(1, 30, size=300)]
    data = TokenSequences(seqs)
    seen = []
    real = padded = 0
    for batch in data.epoch(16):
        x = batch.x.numpy()
        real += (x != PAD_ID).sum()
        padded += x.size
        seen += [tuple(row[row != PAD_ID]) for row in x]
    assert sorted(seen) == sorted(tuple(s) for s in seqs)
    assert real / padded > 0.9  # batches of nearly one length
    ordered = torch.cat([torch.nn.functional.pad(b.x, (0, 40 - b.x.shape[1])) for b in data.sequential(64)])
    assert ordered.shape[0] == 300 and (ordered[5, : len(seqs[5])].numpy() == seqs[5]).all()


def test_deleting_tokens_keeps_order_and_at_least_one():
    torch.manual_seed(0)
    ids = torch.tensor([[5, 6, 7, 8, 9, 10], [11, 12, 0, 0, 0, 0], [13, 0, 0, 0, 0, 0]])
    out = delete_tokens(ids, 0.6)
    for row, kept in zip(ids.tolist(), out.tolist()):
        kept = [t for t in kept if t != PAD_ID]
        assert len(kept) >= 1 and kept == [t for t in row if t in kept]
    heavy = delete_tokens(torch.arange(4, 1004).reshape(10, 100), 0.6)
    share = (heavy != PAD_ID).sum().item() / 1000
    assert 0.3 < share < 0.5


def test_bag_of_words_weighs_rare_words_up(fitted):
    tae, texts, _ = fitted
    weights = tae.model_.token_weights
    ids = lambda word: tae.tokenizer_.encode([word], 8)[0][0]  # noqa: E731 -- the piece that starts the word
    assert weights[ids("the")] < 0.1  # in every text: no weight
    assert weights[ids("hammer")] > 1.5  # in about one text in twelve
    data = TokenSequences([np.array([4, 5, 5]), np.array([5, 6]), np.array([7])])
    np.testing.assert_array_equal(data.document_frequency(9), [0, 0, 0, 0, 1, 2, 1, 1, 0])


def test_training_phases_change_only_their_part():
    """The code phase leaves the word-by-word decoder alone; the decoder phase leaves the bottleneck and the bag of
    words alone (the token embedding is shared by both ends, so both phases tune it)."""
    torch.manual_seed(0)
    model = SequenceAutoEncoder(SequenceConfig(vocab_size=50, width=16, latent_dim=4, deletion=0.5))
    batch = Batch(torch.randint(4, 50, (8, 6)))
    for phase, learns, keeps in (("code", "bow", "gru"), ("decoder", "gru", "bottleneck"), ("decoder", "gru", "bow")):
        model.phase = phase
        model.train()
        model.zero_grad(set_to_none=True)
        terms = model.loss(batch)
        terms["total"].backward()
        grads = {name.split(".")[0]: p.grad for name, p in model.named_parameters()}
        assert grads[learns] is not None and grads[learns].abs().sum() > 0
        assert grads[keeps] is None
        assert ("recon" in terms) == (phase == "decoder") and ("bow" in terms) == (phase == "code")


def test_a_decoder_with_its_own_embedding_leaves_the_codes_alone(fitted):
    """The denoising estimator's decoder writes with a copy of the token embedding, started from the encoder's:
    the decoder phase must not move the encoder's (it would change every code)."""
    tae, texts, _ = fitted
    model = tae.model_
    assert model.decoder_embed is not None and model.writer_embed is model.decoder_embed
    assert not torch.equal(model.decoder_embed.weight, model.embed.weight)  # the decoder phase moved its copy only
    model.phase = "decoder"
    model.train()
    model.zero_grad(set_to_none=True)
    try:
        ids = TokenSequences(tae.tokenizer_.encode(texts[:8], 16)).padded(np.arange(8))
        model.loss(Batch(ids))["total"].backward()
        assert model.embed.weight.grad is None and model.decoder_embed.weight.grad.abs().sum() > 0
    finally:
        model.zero_grad(set_to_none=True)
        model.phase = "joint"
        model.eval()
    copy = SequenceAutoEncoder(SequenceConfig(vocab_size=50, width=16, latent_dim=4, own_decoder_embedding=True))
    copy.start_decoder_embedding()
    assert torch.equal(copy.decoder_embed.weight, copy.embed.weight)


def test_text_model_counts_its_decoder_work():
    model = SequenceAutoEncoder(SequenceConfig(vocab_size=8000, layers=0))
    per_text = forward_macs(model, torch.ones(1, 14, dtype=torch.long))
    assert per_text > 15 * 256 * 8000  # the output layer over 15 positions alone
    assert per_text * 128 > SMALL_WORK_MACS  # so a default step gets two threads and bfloat16 where it has them


# ------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad, error, words", [
    ([], ValueError, "got none"),
    (["fine", None], TypeError, "missing"),
    (["fine", 3.5], TypeError, "float"),
    (["fine", "  "], ValueError, "empty"),
    ("just one sentence", TypeError, r"pass \[text\]"),
    (pd.DataFrame({"a": ["x", "y"], "b": ["u", "v"]}), ValueError, "name the one"),
    (pd.DataFrame({"a": [1, 2]}), ValueError, "no text column"),
    (42, TypeError, "int"),
])
def test_bad_texts_are_refused_with_a_reason(bad, error, words):
    with pytest.raises(error, match=words):
        read_texts(bad)


def test_text_column_by_name_and_too_small_corpus():
    frame = pd.DataFrame({"id": range(3), "title": ["a", "b", "c"], "body": ["x y", "y z", "z x"]})
    texts, ids = read_texts(frame, "body")
    assert texts == ["x y", "y z", "z x"] and list(ids) == [0, 1, 2]
    with pytest.raises(ValueError, match="'nope' is not in"):
        read_texts(frame, "nope")
    with pytest.raises(ValueError, match="at least 100 texts"):
        TextAutoEncoder(**TINY).fit(["a short text"] * 20)


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_fit_embed_neighbours_and_sample(tmp_path, capsys):
    texts, _ = corpus(200)
    table = pd.DataFrame({"ticket": np.arange(1000, 1200), "body": texts, "team": ["a", "b"] * 100})
    table.to_csv(tmp_path / "tickets.csv", index=False)
    run = tmp_path / "run"
    assert main(["text", "fit", str(tmp_path / "tickets.csv"), "--text-col", "body", "--epochs", "2",
                 "--latent-dim", "8", "--out", str(run), "-q"]) == 0
    assert (run / "report.html").is_file() and "Nearest neighbours" in (run / "report.html").read_text()
    assert main(["embed", str(run), str(tmp_path / "tickets.csv"), "--out", str(tmp_path / "v.parquet")]) == 0
    vecs = pd.read_parquet(tmp_path / "v.parquet")
    assert vecs.shape == (200, 9) and vecs["id"].tolist() == list(range(200))
    np.testing.assert_allclose(vecs.iloc[:, 1:].to_numpy(), load(run).transform(texts), rtol=1e-5, atol=1e-6)
    capsys.readouterr()
    assert main(["info", str(run)]) == 0 and "TextAutoEncoder" in capsys.readouterr().out
    assert main(["text", "neighbours", str(run), texts[3], "-k", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == texts[3] and len(printed) == 3
    assert main(["text", "neighbours", str(run), texts[3], "-k", "1", "--corpus", str(tmp_path / "tickets.csv"),
                 "--text-col", "body", "--out", str(tmp_path / "near.csv")]) == 0
    near = pd.read_csv(tmp_path / "near.csv")
    assert near[["rank", "id", "text"]].values.tolist() == [[1, 3, texts[3]]]
    assert main(["text", "sample", str(run)]) == 2  # a denoising model has no prior
    assert "kind='vae'" in capsys.readouterr().err
    assert main(["text", "fit", str(tmp_path / "tickets.csv"), "--out", str(tmp_path / "r2"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "name the one to use" in err
