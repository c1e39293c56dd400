"""Fine-tune an autoencoder so its codes gather around clusters it found itself (IDEC-style, no labels).

After clustering, each row has a cluster. Training on reconstruction *plus* a term that pulls each code towards
its cluster's centre (Student-t soft assignment, as in DEC/IDEC, with the found clusters as targets) makes the
clusters compact and well apart in the code itself, so the encoder alone, and any linear model on its codes,
separates them. Keeping the reconstruction term stops the codes from collapsing onto the centres.

Measured on MNIST (deep autoencoder, 32-d code): logistic regression on the codes went from 0.923 to 0.973
test accuracy after 15 epochs, while test reconstruction error rose from 0.0040 to 0.0081 (PCA-32: 0.0168).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

logger = logging.getLogger("aekit")

BATCH = 256
LEARNING_RATE = 1e-4
TARGET_STEPS = 3000  # ~15 epochs of MNIST's 60k rows, where it was measured


def default_refine_epochs(n_rows: int) -> int:
    """Epochs for about :data:`TARGET_STEPS` updates, between 15 and 300."""
    return int(np.clip(math.ceil(TARGET_STEPS / math.ceil(n_rows / BATCH)), 15, 300))


def _log_assignment(z: torch.Tensor, centres: torch.Tensor, scale: float) -> torch.Tensor:
    """Log of the Student-t (one degree of freedom) soft assignment of codes to centres, as in DEC."""
    d2 = torch.cdist(z / scale, centres) ** 2
    return torch.log_softmax(-torch.log1p(d2), dim=1)


def refine_toward_clusters(model: nn.Module, x: torch.Tensor, labels: np.ndarray, *, epochs: int, weight: float,
                           seed: int, device: torch.device, observed: torch.Tensor | None = None,
                           verbose: int = 0) -> list[dict[str, float]]:
    """Train ``model`` (an ``AutoEncoderModel``) in place on ``x`` with reconstruction + ``weight`` x the cluster term.

    ``observed`` masks missing cells out of the reconstruction term, as in training. ``weight`` is relative to the reconstruction loss before refinement, so it means the same whatever the loss's
    scale (a sum over 784 pixels or over 10 columns). Returns one row of mean loss terms per epoch.
    """
    present, targets = np.unique(labels, return_inverse=True)
    model.to(device).eval()
    x = x.to(device)
    observed = None if observed is None else observed.to(device)
    t = torch.from_numpy(targets).long().to(device)
    with torch.no_grad():
        z = torch.cat([model.encode(x[i : i + 8192]) for i in range(0, len(x), 8192)])
        sample = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:4096].to(device)
        recon0 = float(model.loss(x[sample], None if observed is None else observed[sample])["total"])
    model.train()
    # Distances in units of the code's spread keep the kernel's sharpness the same for any code scale.
    scale = float(z.var(dim=0).mean().sqrt().clamp(min=1e-8))
    centres = nn.Parameter(torch.stack([z[t == j].mean(dim=0) for j in range(present.size)]) / scale)
    optimiser = torch.optim.Adam([*model.parameters(), centres], lr=LEARNING_RATE)
    gamma = weight * abs(recon0)
    history = []
    generator = torch.Generator().manual_seed(seed)
    bar = tqdm(range(epochs), desc="refining codes", disable=not verbose, leave=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for epoch in bar:
            order = torch.randperm(len(x), generator=generator).to(device)
            sums, batches = np.zeros(2), 0
            for i in range(0, len(x), BATCH):
                rows = order[i : i + BATCH]
                terms, codes = model.loss_and_code(x[rows], None if observed is None else observed[rows])
                recon = terms["total"]
                log_q = _log_assignment(codes, centres, scale)
                cluster = -log_q.gather(1, t[rows, None]).mean()
                optimiser.zero_grad(set_to_none=True)
                (recon + gamma * cluster).backward()
                optimiser.step()
                sums += (recon.item(), cluster.item())
                batches += 1
            row = {"epoch": epoch + 1, "recon": sums[0] / batches, "cluster": sums[1] / batches}
            history.append(row)
            bar.set_postfix(recon=f"{row['recon']:.4g}", cluster=f"{row['cluster']:.3f}")
    model.eval()
    logger.info("refined codes for %d epochs: cluster term %.3f -> %.3f", epochs, history[0]["cluster"],
                history[-1]["cluster"])
    return history
