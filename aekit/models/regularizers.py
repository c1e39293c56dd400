"""Penalties on the code that make an autoencoder learn something other than the identity.

Each returns the *unweighted* batch mean; the model multiplies by the configured weight when forming ``total``,
so the logged value of a term means the same thing whatever its weight.

* ``l1_sparsity``: mean over samples of ``sum_k |z_k|`` (sparse AE with an L1 activity penalty).
* ``kl_sparsity``: ``sum_k KL(rho || rho_hat_k)`` with ``rho_hat_k`` the mean activation of unit k over the batch;
  needs codes in (0, 1), hence a sigmoid code (Ng, "Sparse autoencoder", CS294A notes, 2011).
* ``contractive_penalty``: mean over samples of the squared Frobenius norm of the Jacobian ``d code / d x``
  (Rifai et al., 2011, https://icml.cc/2011/papers/455_icmlpaper.pdf), computed exactly with one
  vector-Jacobian product per code dimension so it holds for any encoder, not only a single sigmoid layer.
"""

from __future__ import annotations

import torch


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
