"""A subword tokenizer learned from the user's own corpus, kept with the model as JSON.

Why a library: Hugging Face ``tokenizers`` trains a byte-pair-encoding (BPE) vocabulary on a hundred thousand
sentences in about a second, in Rust, and reads and writes one JSON document; a hand-written tokenizer would be
slower and subtly different. Why plain BPE with SentencePiece's word marks: with tokenizers 0.23
only the BPE trainer without a word prefix or suffix gives the same vocabulary on every run (WordPiece, Unigram
and BPE with ``##`` prefixes break ties between equally frequent pieces differently each time, so a seeded fit
would not repeat). Instead the pre-tokenizer marks each word start with ``▁`` (``Metaspace``) and then splits off
punctuation, so decoding restores the text's own spacing. Why our corpus and not a downloaded vocabulary: the user's text (tickets, product names, notes) has its
own words, and nothing may be fetched from the network. Text is lower-cased and accents are stripped (the
uncased BERT normaliser); words the vocabulary lacks fall apart into known pieces, so nothing becomes unknown but
characters never seen at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Special tokens, in id order: padding must be 0 (batches pad with zeros).
PAD, UNK, BOS, EOS = "[PAD]", "[UNK]", "[BOS]", "[EOS]"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)


class TextTokenizer:
    """A trained subword (BPE) or word tokenizer: ``encode`` texts to id arrays, ``decode`` ids back to text."""

    def __init__(self, backend: object) -> None:
        self.backend = backend

    @classmethod
    def train(cls, texts: Sequence[str], vocab_size: int, min_frequency: int = 2,
              units: str = "pieces") -> TextTokenizer:
        """Learn a vocabulary of at most ``vocab_size`` entries (special tokens included) from ``texts``.

        ``units="pieces"``: byte-pair pieces; every word the corpus spells can be written. ``units="words"``: whole
        words seen at least ``min_frequency`` times (the rest become [UNK]); a rare word keeps its own entry
        instead of sharing pieces with unrelated words, which is what a topic-bearing code needs (see the
        ``TextAutoEncoder`` docstring for the measurement)."""
        from tokenizers import (
            Tokenizer,
            decoders,
            models,
            normalizers,
            pre_tokenizers,
            trainers,
        )

        if units not in ("pieces", "words"):
            raise ValueError(f"units must be 'pieces' or 'words', not {units!r}")
        settings = {"vocab_size": int(vocab_size), "min_frequency": min_frequency,
                    "special_tokens": list(SPECIAL_TOKENS), "show_progress": False}
        if units == "pieces":
            tok, trainer = Tokenizer(models.BPE(unk_token=UNK)), trainers.BpeTrainer(**settings)
        else:
            tok, trainer = Tokenizer(models.WordLevel(unk_token=UNK)), trainers.WordLevelTrainer(**settings)
        tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])
        tok.decoder = decoders.Metaspace()
        tok.train_from_iterator(texts, trainer=trainer)
        if [tok.token_to_id(t) for t in SPECIAL_TOKENS] != list(range(len(SPECIAL_TOKENS))):
            raise RuntimeError("the tokenizer did not put its special tokens first")
        return cls(tok)

    @classmethod
    def from_json(cls, text: str) -> TextTokenizer:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_str(text))

    def to_json(self) -> str:
        return self.backend.to_str()

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size()

    def encode(self, texts: Sequence[str], max_length: int) -> list[np.ndarray]:
        """Each text as an int32 array of at most ``max_length`` piece ids (no special tokens)."""
        encoded = self.backend.encode_batch(list(texts), add_special_tokens=False)
        return [np.asarray(e.ids[:max_length], dtype=np.int32) for e in encoded]

    def decode(self, ids: Sequence[Sequence[int]]) -> list[str]:
        """Id sequences back to text; special tokens are dropped."""
        return self.backend.decode_batch([list(map(int, seq)) for seq in ids], skip_special_tokens=True)
