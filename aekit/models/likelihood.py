"""Reconstruction losses, seen as negative log-likelihoods of the input given the decoder's output.

Every likelihood returns a per-sample loss summed over features, shape ``(B,)``, so that a VAE's KL term (also
summed over code dimensions) is weighed correctly against it; ``observed`` (1 = present, 0 = missing) removes
missing values from the sum. ``mean`` turns decoder outputs into a reconstruction in data space.

* ``mse``: Gaussian with unit variance, ``0.5 * (x - x̂)²`` — any real-valued data.
* ``bce``: Bernoulli on logits — data in [0, 1] such as pixel intensities; stable via ``logits`` form.
* ``mixed``: tabular rows with numeric columns (``mse``) and one-hot categorical blocks (cross-entropy).
* ``multinomial``: a row of counts (a user's items) as draws from one softmax over all columns (Mult-VAE).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..data.tabular import ColumnBlock
from ..registry import Registry

LIKELIHOODS: Registry[type[nn.Module]] = Registry("loss")


class Likelihood(nn.Module):
    """Shared interface: ``nll`` per sample, ``batch_nll`` its batch mean, ``mean`` the reconstruction."""

    # True when the decoder's outputs are the data's own values (a Gaussian mean), so the model may let the
    # decoder predict them in standardised units (see input_norm.py); False for logits.
    params_in_data_units = False

    def __init__(self, config: object = None) -> None:
        super().__init__()

    def nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def batch_nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        """Mean over the batch of :meth:`nll`; the training loss. Subclasses may fuse it into one kernel."""
        return self.nll(params, x, observed).mean()

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def _masked_sum(per_value: torch.Tensor, observed: torch.Tensor | None) -> torch.Tensor:
    if observed is not None:
        per_value = per_value * observed.flatten(1)
    return per_value.sum(dim=1)  # (B,)


@LIKELIHOODS.register("mse")
class GaussianLikelihood(Likelihood):
    params_in_data_units = True

    def nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        return _masked_sum(0.5 * (params.flatten(1) - x.flatten(1)).pow(2), observed)

    def batch_nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        if observed is not None:
            return super().batch_nll(params, x, observed)
        # One fused reduction instead of square, sum per row, then mean: ~1.4x faster training steps on CPU.
        return F.mse_loss(params.flatten(1), x.flatten(1), reduction="sum") * (0.5 / len(x))

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return params


@LIKELIHOODS.register("bce")
class BernoulliLikelihood(Likelihood):

    def nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(params.flatten(1), x.flatten(1), reduction="none")
        return _masked_sum(bce, observed)

    def batch_nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        if observed is not None:
            return super().batch_nll(params, x, observed)
        return F.binary_cross_entropy_with_logits(params.flatten(1), x.flatten(1), reduction="sum") * (1.0 / len(x))

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(params)


@LIKELIHOODS.register("mixed")
class MixedTabularLikelihood(Likelihood):
    """Numeric columns by squared error, each categorical one-hot block by cross-entropy over its logits.

    ``blocks`` is the preprocessor's layout (:class:`~aekit.data.tabular.ColumnBlock` per column).
    """

    @dataclass
    class Config:
        blocks: list[ColumnBlock] = field(default_factory=list)

        def __post_init__(self) -> None:
            self.blocks = [b if isinstance(b, ColumnBlock) else ColumnBlock(**b) for b in self.blocks]

    def __init__(self, config: Config) -> None:
        super().__init__()
        blocks = config.blocks
        if not blocks:
            raise ValueError("loss='mixed' needs the column layout of a table; fit on a DataFrame or CSV/Parquet file")
        self.numeric = [(b.start, b.stop) for b in blocks if not b.is_categorical]
        self.categorical = [(b.start, b.stop) for b in blocks if b.is_categorical]

    def nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        total = params.new_zeros(params.shape[0])
        for a, b in self.numeric:
            sq = 0.5 * (params[:, a:b] - x[:, a:b]).pow(2)
            total = total + _masked_sum(sq, None if observed is None else observed[:, a:b])
        for a, b in self.categorical:
            # Rows whose category is missing (all-zero one-hot) contribute nothing: their target sums to 0.
            ce = -(x[:, a:b] * F.log_softmax(params[:, a:b], dim=1)).sum(dim=1)
            if observed is not None:
                ce = ce * observed[:, a]
            total = total + ce
        return total

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        out = params.clone()
        for a, b in self.categorical:
            out[:, a:b] = torch.softmax(params[:, a:b], dim=1)
        return out


@LIKELIHOODS.register("multinomial")
class MultinomialLikelihood(Likelihood):
    """A row of non-negative counts -- the items a user interacted with -- as draws from a softmax over columns.

    Liang et al. (2018, https://arxiv.org/abs/1802.05814) found it ranks items better than a Gaussian or a
    logistic likelihood: all items compete for one unit of probability, so the model must put its mass on the few
    a user will pick. ``nll = -sum_i x_i log softmax(params)_i``; ``mean`` gives the probabilities.
    """

    def nll(self, params: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
        return _masked_sum(-F.log_softmax(params.flatten(1), dim=1) * x.flatten(1), observed)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        return torch.softmax(params.flatten(1), dim=1).view_as(params)
