"""Regularisers: penalties on the code that make an autoencoder learn something other than the identity.

Each is a registered part with its own weight; it returns its *unweighted* batch mean as a :class:`Term`, so the
logged value of a term means the same thing whatever its weight.

* ``sparsity-l1``: mean over samples of ``sum_k |z_k|`` (sparse AE with an L1 activity penalty).
* ``sparsity-kl``: ``sum_k KL(rho || rho_hat_k)`` with ``rho_hat_k`` the mean activation of unit k over the batch;
  needs codes in (0, 1), hence a sigmoid code (Ng, "Sparse autoencoder", CS294A notes, 2011).
* ``contractive``: mean over samples of the squared Frobenius norm of the Jacobian ``d code / d x``
  (Rifai et al., 2011, https://icml.cc/2011/papers/455_icmlpaper.pdf), computed exactly with one
  vector-Jacobian product per code dimension so it holds for any encoder, not only a single sigmoid layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..registry import Registry
from .bottleneck import Code
from .parts import Term

REGULARIZERS: Registry[type[nn.Module]] = Registry("regularizer")


def l1_sparsity(z: torch.Tensor) -> torch.Tensor:
    return z.abs().sum(dim=1).mean()


def kl_sparsity(z: torch.Tensor, target: float) -> torch.Tensor:
    rho_hat = z.mean(dim=0).clamp(1e-6, 1 - 1e-6)  # (K,)
    rho = torch.as_tensor(target, dtype=z.dtype, device=z.device)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


def contractive_penalty(code: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``mean_b ||d code_b / d x_b||_F²``; ``x`` must require grad and ``code`` must be computed from it.

    Samples do not interact in the encoder, so the gradient of ``code[:, k].sum()`` with respect to ``x`` holds,
    row by row, the k-th row of every sample's Jacobian.
    """
    total = code.new_zeros(())
    for k in range(code.shape[1]):
        (row,) = torch.autograd.grad(code[:, k].sum(), x, create_graph=True)
        total = total + row.pow(2).sum()
    return total / code.shape[0]


class Regularizer(nn.Module):
    """Shared interface: ``terms(x_in, code)``; ``needs_input_grad`` asks the model to track the input's gradient."""

    needs_input_grad = False

    def terms(self, x_in: torch.Tensor, code: Code) -> dict[str, Term]:
        raise NotImplementedError


@REGULARIZERS.register("sparsity-l1")
class L1Sparsity(Regularizer):
    @dataclass
    class Config:
        weight: float = 1e-3

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.weight = float(config.weight)

    def terms(self, x_in: torch.Tensor, code: Code) -> dict[str, Term]:
        return {"sparsity": Term(l1_sparsity(code.mean), self.weight)}


@REGULARIZERS.register("sparsity-kl")
class KLSparsity(Regularizer):
    @dataclass
    class Config:
        weight: float = 1.0
        target: float = 0.05

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.weight, self.target = float(config.weight), float(config.target)

    def terms(self, x_in: torch.Tensor, code: Code) -> dict[str, Term]:
        return {"sparsity": Term(kl_sparsity(code.mean, self.target), self.weight)}


@REGULARIZERS.register("contractive")
class Contractive(Regularizer):
    needs_input_grad = True  # the Jacobian is taken with respect to the input, also during validation

    @dataclass
    class Config:
        weight: float = 0.1

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.weight = float(config.weight)

    def terms(self, x_in: torch.Tensor, code: Code) -> dict[str, Term]:
        return {"contractive": Term(contractive_penalty(code.mean, x_in), self.weight)}
