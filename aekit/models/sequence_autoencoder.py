"""A sentence autoencoder: a small transformer encodes a token sequence to one code; a GRU decodes it back.

::

    ids ──corrupt──► embed + position ──► transformer ──► mean over tokens ──► bottleneck ──► code
        (denoising:                                                          (deterministic |   │
         delete tokens)                                                       gaussian: + kl)  │
                                        [BOS] w1 w2 ... ──(word dropout)──► GRU(code) ──► w1 w2 ... [EOS]
                                                                       bag-of-words(code) ──► {w1, w2, ...}

Why these parts:

* **Denoising** (TSDAE, Wang et al. 2021, https://arxiv.org/abs/2104.06979): the encoder sees the sentence with a
  share of its tokens deleted and the decoder must write the whole sentence from the one code, so the code has to
  carry what the sentence is about, not where each word sits.
* **VAE** (Bowman et al. 2016, https://arxiv.org/abs/1511.06349): a Gaussian code with its KL term, and word
  dropout on the decoder's inputs so that the decoder cannot write the sentence from its own previous words and
  ignore the code (posterior collapse); the estimator anneals the KL weight from 0.
* **Bag of words from the code** (the auxiliary loss of Zhao et al. 2017, https://arxiv.org/abs/1703.10960): one
  softmax over the vocabulary predicts every token of the sentence, order-free, each weighted by its inverse
  document frequency (``set_token_weights``). It asks the code directly for the sentence's content words, which
  is what a search or a clustering of the codes needs. Training in ``phase`` "code" and then "decoder", it
  alone shapes the encoder's layers (many cheap steps), and the word-by-word decoder then learns to write from the
  codes (the denoising estimator's choice, measured there).
* The decoder's output layer shares the token embedding it reads with (tied weights): fewer parameters, and rare
  words learn from both ends. By default the encoder's embedding is that same one; ``own_decoder_embedding``
  gives the decoder a copy instead (the denoising estimator's choice: on the design split the decoder phase
  moved the shared embedding and cost the codes 0.009 of 10-NN accuracy).

The code is the bottleneck's mean (the same part every other autoencoder uses). ``loss`` returns the terms per
sentence (summed over its tokens), averaged over the batch: ``recon`` (sequence cross-entropy), ``bow``, ``kl``
and ``total``; the token accuracy of the teacher-forced reconstruction is logged beside them.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data.batches import Batch
from ..data.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from .autocast import full_precision, without_autocast
from .bottleneck import BOTTLENECKS


@dataclass
class SequenceConfig:
    """Everything needed to rebuild the model (saved as JSON with its weights)."""

    vocab_size: int
    latent_dim: int = 64
    width: int = 256  # token embedding, transformer and GRU width
    layers: int = 2  # transformer layers (0: the code is made from the mean of the token embeddings)
    heads: int = 4
    max_length: int = 64  # tokens per sentence (longer ones are cut)
    variational: bool = False
    beta: float = 1.0  # KL weight (VAE), annealed from 0 by the estimator
    deletion: float = 0.0  # share of tokens deleted from the encoder's input while training
    word_dropout: float = 0.0  # share of the decoder's input tokens replaced by [UNK] while training
    bow_weight: float = 1.0  # weight of the bag-of-words term (0: none)
    bow_scale: float = 0.0  # > 0: the bag of words scores cosines of code and word, times a learned scale from here
    own_decoder_embedding: bool = False  # the decoder reads and writes with its own copy of the token embedding
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> SequenceConfig:
        return cls(**d)


def delete_tokens(ids: torch.Tensor, share: float) -> torch.Tensor:
    """``ids`` with each real token deleted with probability ``share`` (at least one kept per sentence), the kept
    ones moved to the front and the batch cut to its longest remaining sentence."""
    real = ids != PAD_ID
    keep = real & (torch.rand(ids.shape, device=ids.device) >= share)
    none_kept = ~keep.any(dim=1)
    keep[none_kept, 0] = real[none_kept, 0]
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)  # kept tokens first, in their order
    kept = torch.gather(ids * keep, 1, order)
    return kept[:, : max(int(keep.sum(dim=1).max()), 1)]


class SequenceAutoEncoder(nn.Module):
    """See the module docstring. Trained through :meth:`loss`; :meth:`encode` and :meth:`generate` serve inference."""

    def __init__(self, config: SequenceConfig) -> None:
        super().__init__()
        c = self.config = config
        self.embed = nn.Embedding(c.vocab_size, c.width, padding_idx=PAD_ID)
        self.position = nn.Embedding(c.max_length, c.width)
        layer = nn.TransformerEncoderLayer(c.width, c.heads, dim_feedforward=2 * c.width, dropout=c.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, c.layers, norm=nn.LayerNorm(c.width),
                                                 enable_nested_tensor=False) if c.layers else None
        name = "gaussian" if c.variational else "deterministic"
        settings = BOTTLENECKS.get(name).Config(**({"beta": c.beta} if c.variational else {}))
        self.bottleneck = BOTTLENECKS.get(name)(c.width, c.latent_dim, settings)
        # With its own copy (started from the encoder's by start_decoder_embedding), the decoder phase cannot move
        # the encoder's embedding, and with it the codes the code phase made.
        self.decoder_embed = nn.Embedding(c.vocab_size, c.width, padding_idx=PAD_ID) \
            if c.own_decoder_embedding else None
        self.start = nn.Linear(c.latent_dim, c.width)  # the code -> the GRU's first hidden state
        self.gru = nn.GRU(c.width + c.latent_dim, c.width, batch_first=True)
        self.out_bias = nn.Parameter(torch.zeros(c.vocab_size))  # output weights are the token embedding
        self.bow = nn.Linear(c.latent_dim, c.vocab_size) if c.bow_weight > 0 else None
        self.bow_scale = nn.Parameter(torch.tensor(float(c.bow_scale))) if c.bow_scale > 0 else None
        # Weight of each token in the bag-of-words term; set_token_weights puts the corpus's IDF here.
        self.register_buffer("token_weights", torch.ones(c.vocab_size))
        self.drop = nn.Dropout(c.dropout)
        #: What a training step learns: "joint" (everything), "code" (the encoder with the bag-of-words term only:
        #: cheap steps) or "decoder" (the word-by-word decoder and the token embedding it writes with; the
        #: bottleneck, the bag of words and any transformer layers stay as they are).
        self.phase = "joint"

    @torch.no_grad()
    def set_token_weights(self, counts_in: torch.Tensor, n_texts: int) -> None:
        """Weigh the bag-of-words term by each token's inverse document frequency, ``log(n / (1 + texts with
        it))`` floored at 0: words in every text ("a", "of") say little about what a text is about."""
        self.token_weights.copy_(torch.log(n_texts / (1.0 + counts_in.float())).clamp_min(0.0))

    # ------------------------------------------------------------------------------------------- encoder
    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """``(B, width)``: the mean over each sentence's real tokens of their embeddings, or of the transformer's
        outputs when it has layers. (With the transformer, weighting the mean by each token's IDF scored the same
        on the design split: 0.552 vs 0.551.)"""
        ids = ids[:, : self.config.max_length]
        pad = ids == PAD_ID
        h = self.embed(ids)
        if self.transformer is not None:
            positions = torch.arange(ids.shape[1], device=ids.device)
            h = self.transformer(self.drop(h + self.position(positions)), src_key_padding_mask=pad)
        weights = (~pad).unsqueeze(-1).to(h.dtype)
        return (h * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """The code of each sentence (the mean of a Gaussian code)."""
        features = self.features(ids)
        with without_autocast(ids):
            return self.bottleneck(full_precision(features)).mean

    # ------------------------------------------------------------------------------------------- decoder
    @property
    def writer_embed(self) -> nn.Embedding:
        """The token embedding the word-by-word decoder reads its inputs with and scores its outputs against."""
        return self.embed if self.decoder_embed is None else self.decoder_embed

    @torch.no_grad()
    def start_decoder_embedding(self) -> None:
        """Start the decoder's own embedding (if it has one) from the encoder's, trained by the code phase."""
        if self.decoder_embed is not None:
            self.decoder_embed.weight.copy_(self.embed.weight)

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.writer_embed.weight, self.out_bias)  # the bias added inside the product: one pass

    def decode_states(self, z: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Teacher-forced ``(B, T, width)`` decoder states after each of ``inputs`` (starting with BOS); the
        output layer is applied only where a token is wanted (most of a batch is padding)."""
        h0 = torch.tanh(self.start(z)).unsqueeze(0)
        steps = torch.cat([self.drop(self.writer_embed(inputs)), z.unsqueeze(1).expand(-1, inputs.shape[1], -1)],
                          dim=2)
        out, _ = self.gru(steps, h0)
        return self.drop(out)

    def macs(self, ids: torch.Tensor) -> int:
        """Forward multiply-adds for one text of ``ids.shape[1]`` tokens in a training step (all terms): what
        sizes the step's threads and number format (``aekit.models.flops``)."""
        c, n = self.config, ids.shape[1] + 1
        encoder = c.layers * n * (4 * c.width**2 + 2 * 2 * c.width**2 + n * c.width)  # attention, feed-forward
        decoder = n * (3 * (2 * c.width + c.latent_dim) * c.width + c.width * c.vocab_size)
        bow = c.latent_dim * c.vocab_size if self.bow is not None else 0
        return encoder + decoder + bow + 2 * c.width * c.latent_dim

    @torch.no_grad()
    def generate(self, z: torch.Tensor, max_length: int | None = None) -> list[list[int]]:
        """Greedy decoding of each code until [EOS] (or ``max_length`` tokens)."""
        max_length = max_length or self.config.max_length
        h = torch.tanh(self.start(z)).unsqueeze(0)
        token = torch.full((len(z), 1), BOS_ID, dtype=torch.long, device=z.device)
        done = torch.zeros(len(z), dtype=torch.bool, device=z.device)
        out = []
        for _ in range(max_length):
            step = torch.cat([self.writer_embed(token), z.unsqueeze(1)], dim=2)
            o, h = self.gru(step, h)
            logits = self._logits(o[:, -1])
            logits[:, [PAD_ID, BOS_ID, UNK_ID]] = -torch.inf
            token = logits.argmax(dim=1, keepdim=True)
            out.append(torch.where(done, PAD_ID, token[:, 0]))
            done |= token[:, 0] == EOS_ID
            if bool(done.all()):
                break
        seqs = torch.stack(out, dim=1).tolist()
        return [s[: s.index(EOS_ID)] if EOS_ID in s else s for s in seqs]  # padding only ever follows [EOS]

    # ---------------------------------------------------------------------------------------------- loss
    def _bow_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The bag of words' scores over the vocabulary. With ``bow_scale`` they are cosines between the code and
        each word's output vector (times a learned scale): the code's length then carries nothing, and codes are
        trained in the geometry they are searched in (cosine neighbours)."""
        if self.bow_scale is None:
            return self.bow(z)
        return self.bow_scale * F.linear(F.normalize(z, dim=1), F.normalize(self.bow.weight, dim=1)) + self.bow.bias

    def _sequence_terms(self, z: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed cross-entropy of writing ``ids`` (and [EOS]) word by word from ``z``, and its token accuracy."""
        inputs = torch.cat([torch.full_like(ids[:, :1], BOS_ID), ids], dim=1)
        if self.training and self.config.word_dropout > 0:
            drop = (torch.rand(inputs.shape, device=ids.device) < self.config.word_dropout) & (inputs != PAD_ID)
            drop[:, 0] = False
            inputs = inputs.masked_fill(drop, UNK_ID)
        lengths = (ids != PAD_ID).sum(dim=1)
        targets = torch.cat([ids, torch.zeros_like(ids[:, :1])], dim=1)
        targets[torch.arange(len(ids), device=ids.device), lengths] = EOS_ID
        wanted_at = targets != PAD_ID
        logits = self._logits(self.decode_states(z, inputs)[wanted_at])  # only where a token is wanted
        with without_autocast(ids):
            logits, wanted = full_precision(logits), targets[wanted_at]
            accuracy = (logits.detach().argmax(dim=1) == wanted).float().mean()
            return F.cross_entropy(logits, wanted, reduction="sum"), accuracy

    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        c = self.config
        ids = batch.x.long()[:, : c.max_length]
        real = ids != PAD_ID
        phase = self.phase if self.training else "joint"
        noisy = self.training and c.deletion > 0 and phase != "decoder"  # the decoder learns from clean codes
        encoder_in = delete_tokens(ids, c.deletion) if noisy else ids
        with torch.no_grad() if phase == "decoder" else contextlib.nullcontext():
            features = self.features(encoder_in)
            with without_autocast(ids):
                code = self.bottleneck(full_precision(features))
        n = len(ids)
        terms: dict[str, torch.Tensor] = {}
        total = torch.zeros((), device=ids.device)
        if phase != "code":
            token_nll, accuracy = self._sequence_terms(code.z, ids)
            terms["recon"], terms["token_accuracy"] = token_nll / n, accuracy
            total = total + terms["recon"]
        if phase != "decoder":
            with without_autocast(ids):
                if self.bow is not None:
                    log_p = F.log_softmax(self._bow_logits(code.z), dim=1)
                    weights = self.token_weights[ids] * real
                    terms["bow"] = -(torch.gather(log_p, 1, ids) * weights).sum() / n
                    total = total + c.bow_weight * terms["bow"]
                for name, term in code.terms.items():
                    terms[name] = term.value
                    total = total + term.weight * term.value
        terms["total"] = total
        return terms
