"""Per-row explanations of a detector's score: the features (or image regions) that contribute most."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted


class FeatureExplanations:
    """Mixin: ``explain`` for a detector with ``_scaled(X, reset=False)`` (model-space rows and their observed
    mask), ``_contributions(x, observed)`` (``(n, d)`` shares of each row's score over model-space features) and
    ``input_``; one-hot columns add up to their original column, image pixels to 4x4 regions."""

    def explain(self, X: object, top: int = 3) -> pd.DataFrame:
        """The features (or image regions) that contribute most to each row's score.

        Returns one row per input row with ``feature_1..top`` and ``contribution_1..top`` (largest first); what
        a contribution is depends on the score (see ``_contributions``). The row's score itself is
        ``decision_function``, to compare with ``threshold_``.
        """
        check_is_fitted(self)
        x, observed = self._scaled(X, reset=False)
        names, per_feature = self._group_features(self._contributions(x, observed))
        top = min(top, len(names))
        order = np.argsort(-per_feature, axis=1, kind="stable")[:, :top]
        out = {}
        for j in range(top):
            out[f"feature_{j + 1}"] = np.asarray(names, dtype=object)[order[:, j]]
            out[f"contribution_{j + 1}"] = np.take_along_axis(per_feature, order[:, j : j + 1], axis=1)[:, 0]
        return pd.DataFrame(out)

    def _group_features(self, per_feature: np.ndarray) -> tuple[list[str], np.ndarray]:
        pre = self.input_.preprocessor
        if pre is not None:
            cols = [per_feature[:, b.start : b.stop].sum(axis=1) for b in pre.blocks]
            return [b.name for b in pre.blocks], np.column_stack(cols)
        if not self.input_.is_image:
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                names = [f"x{j}" for j in range(per_feature.shape[1])]
            return [str(n) for n in names], per_feature
        # Images: 4x4-pixel regions (summed over channels), named by their pixel ranges.
        c, h, w = self.input_.model_shape
        maps = per_feature.reshape(len(per_feature), c, h, w).sum(axis=1)
        names, cols = [], []
        for r in range(0, h, 4):
            for q in range(0, w, 4):
                names.append(f"rows {r}-{min(r + 4, h) - 1}, cols {q}-{min(q + 4, w) - 1}")
                cols.append(maps[:, r : r + 4, q : q + 4].sum(axis=(1, 2)))
        return names, np.column_stack(cols)
