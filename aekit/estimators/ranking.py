"""How a recommender's models rank items: every item's probability for a history, and the callback that keeps
the training epoch whose ranking of held-out users' items is best (NDCG@100, the protocol of Liang et al., 2018)."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch

from ..data.sparse_rows import SparseRows
from ..metrics import ndcg_at_k, recall_at_k
from ..models import AutoEncoderModel
from ..training import Callback, Trainer
from ..training.callbacks import snapshot

#: Items ranked when choosing the best epoch on validation users.
VALIDATION_K = 100


@torch.no_grad()
def item_probabilities(models: list[AutoEncoderModel], rows: sp.csr_matrix, device: torch.device) -> np.ndarray:
    """Every item's probability for each history, averaged over ``models`` (left in evaluation mode)."""
    for model in models:
        model.eval()
    out = np.empty(rows.shape, dtype=np.float32)
    start = 0
    for batch in SparseRows(rows).sequential(1024):  # each batch made dense once, for every member
        x = batch.x.to(device)
        out[start : start + len(x)] = (sum(m.reconstruct(x).float() for m in models) / len(models)).cpu().numpy()
        start += len(x)
    return out



class BestRanking(Callback):
    """After every epoch, NDCG@100 of the held-out users' hidden items; keeps the best epoch's weights, stops
    after ``patience`` epochs without a better one, and ends with them."""

    def __init__(self, validation: tuple[sp.csr_matrix, sp.csr_matrix], device: torch.device, patience: int) -> None:
        self.fold_in, self.held_out = validation
        keep = (self.fold_in.getnnz(axis=1) > 0) & (self.held_out.getnnz(axis=1) > 0)
        self.fold_in, self.held_out = self.fold_in[keep], self.held_out[keep]
        self.device, self.patience = device, patience
        self.best, self.best_epoch, self.wait, self.weights = -math.inf, 0, 0, None

    def _scores(self, models: list[AutoEncoderModel]) -> np.ndarray:
        scores = item_probabilities(models, self.fold_in, self.device)
        scores[self.fold_in.nonzero()] = -np.inf
        return scores

    def metrics(self, models: list[AutoEncoderModel]) -> dict[str, float]:
        """NDCG@100, Recall@20 and Recall@50 of the validation users with the models' probabilities averaged."""
        scores = self._scores(models)
        return {"users": int(self.fold_in.shape[0]),
                "NDCG@100": float(np.nanmean(ndcg_at_k(scores, self.held_out, 100))),
                "Recall@20": float(np.nanmean(recall_at_k(scores, self.held_out, 20))),
                "Recall@50": float(np.nanmean(recall_at_k(scores, self.held_out, 50)))}

    def on_epoch_end(self, trainer: Trainer, state, row: dict[str, float]) -> None:
        model = state.model
        ndcg = float(np.nanmean(ndcg_at_k(self._scores([model]), self.held_out, VALIDATION_K)))
        row[f"val_ndcg@{VALIDATION_K}"] = ndcg
        if ndcg > self.best:
            self.best, self.best_epoch, self.wait, self.weights = ndcg, int(row["epoch"]), 0, snapshot(model)
        else:
            self.wait += 1
            if self.wait >= self.patience and not state.stop_reason:
                state.stop_reason = f"no better validation NDCG@{VALIDATION_K} for {self.patience} epochs"

    def on_fit_end(self, trainer: Trainer, state) -> None:
        if self.weights is not None:
            state.model.load_state_dict(self.weights)
