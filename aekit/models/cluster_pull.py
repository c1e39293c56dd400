"""An objective that pulls each code towards the centre of a cluster found without labels (IDEC-style).

After clustering, each row has a cluster. Training on reconstruction *plus* a term that pulls each code towards
its cluster's centre (Student-t soft assignment, as in DEC/IDEC, with the found clusters as targets) makes the
clusters compact and well apart in the code itself, so the encoder alone, and any linear model on its codes,
separates them. Keeping the reconstruction term stops the codes from collapsing onto the centres.

It is an objective, not a loop: the one Trainer runs it (``AutoEncoder.fine_tune``), with each batch carrying the
rows' clusters as ``target``. Measured on MNIST (deep autoencoder, 32-d code): logistic regression on the codes
went from 0.923 to 0.973 test accuracy after 15 epochs, while test reconstruction error rose from 0.0040 to
0.0081 (PCA-32: 0.0168).
"""

from __future__ import annotations

import torch
from torch import nn

from ..data.batches import Batch, TensorBatches
from .autoencoder import AutoEncoderModel
from .inference import INFERENCE_BATCH

#: Rows whose loss sets the scale of the pull (the weight is relative to the reconstruction loss).
SCALE_ROWS = 4096


def log_assignment(z: torch.Tensor, centres: torch.Tensor, scale: float) -> torch.Tensor:
    """Log of the Student-t (one degree of freedom) soft assignment of codes to centres, as in DEC."""
    d2 = torch.cdist(z / scale, centres) ** 2
    return torch.log_softmax(-torch.log1p(d2), dim=1)


class ClusterPull(nn.Module):
    """``loss(batch)``: the autoencoder's own loss (``recon``) + ``gamma`` x the cluster term (``cluster``).

    Build it with :meth:`for_data`, which places the centres at the clusters' mean codes and sets ``gamma`` to
    ``weight`` times the reconstruction loss before refinement, so the weight means the same whatever the loss's
    scale (a sum over 784 pixels or over 10 columns).
    """

    def __init__(self, model: AutoEncoderModel, centres: torch.Tensor, scale: float, gamma: float) -> None:
        super().__init__()
        self.model = model
        self.scale = scale  # distances in units of the code's spread: the same sharpness for any code scale
        self.centres = nn.Parameter(centres / scale)  # (C, K)
        self.gamma = gamma

    @classmethod
    @torch.no_grad()
    def for_data(cls, model: AutoEncoderModel, data: TensorBatches, device: torch.device, *, weight: float,
                 seed: int) -> ClusterPull:
        """Centres, scale and ``gamma`` from ``data`` (whose ``target`` holds cluster indices 0..C-1)."""
        model.to(device).eval()
        z = torch.cat([model.encode(b.to(device).x) for b in data.sequential(INFERENCE_BATCH)])
        t = data.target.to(device)
        sample = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:SCALE_ROWS]
        recon0 = float(model.loss(data.subset(sample).as_batch().to(device))["total"])
        scale = float(z.var(dim=0).mean().sqrt().clamp(min=1e-8))
        centres = torch.stack([z[t == j].mean(dim=0) for j in range(int(t.max()) + 1)])
        return cls(model, centres, scale, weight * abs(recon0))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The autoencoder's reconstruction: the pass a training step of this objective costs."""
        return self.model.reconstruct(x)

    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        terms, codes = self.model.loss_and_code(batch)
        log_q = log_assignment(codes, self.centres, self.scale)
        cluster = -log_q.gather(1, batch.target[:, None]).mean()
        return {"recon": terms["total"], "cluster": cluster, "total": terms["total"] + self.gamma * cluster}
