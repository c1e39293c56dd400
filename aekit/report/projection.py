"""Codes of any width brought to 2-D for a map: PCA (linear) or UMAP (keeps neighbours)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .figures import (
    PROJECTIONS,
)

# --------------------------------------------------------------------------
# Latent code map
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Projection:
    """A 2-D view of codes plus the words that say how it was obtained."""

    xy: np.ndarray
    xlabel: str
    ylabel: str
    description: str


def _as_codes(codes: object) -> np.ndarray:
    """Validate codes as a float ``(n, k)`` array; 1-D input means ``k == 1``."""
    array = np.asarray(codes)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"codes must be numeric, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise ValueError(f"codes must have shape (n, k), got {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"codes are empty: shape {array.shape}")
    return array.astype(float)


def _pca_projection(codes: np.ndarray) -> _Projection:
    """Project k > 2 codes onto their two leading principal components.

    PCA is linear and deterministic, so the map is reproducible and its axes
    carry an explained-variance figure; a nonlinear embedding would look nicer
    but can invent structure.
    """
    from sklearn.decomposition import PCA  # deferred: only needed for k > 2

    k = codes.shape[1]
    if codes.shape[0] < 2 or float(codes.var(axis=0).sum()) == 0.0:
        xy = codes[:, :2] - codes[:, :2].mean(axis=0)
        return _Projection(xy, "code[0]", "code[1]", f"first two of {k} code dimensions (too little variation for PCA)")
    pca = PCA(n_components=2, svd_solver="full")
    xy = pca.fit_transform(codes)
    r1, r2 = (float(r) for r in pca.explained_variance_ratio_)
    return _Projection(
        xy,
        f"PCA of code: PC1 ({r1:.0%} of variance)",
        f"PCA of code: PC2 ({r2:.0%} of variance)",
        f"PCA of code ({k}-D \u2192 2-D, {r1 + r2:.0%} of variance)",
    )


def _umap_projection(codes: np.ndarray, seed: int) -> _Projection:
    """Embed k > 2 codes with UMAP (umap-learn, optional): clusters that PCA overlaps come apart.

    Distances between far-apart groups mean little in a UMAP map; the caption says which projection was used.
    """
    try:
        from umap import UMAP
    except ImportError as exc:  # pragma: no cover - exercised only where umap-learn is absent
        raise ValueError("projection='umap' needs umap-learn: pip install 'aekit[cluster]'") from exc
    k = codes.shape[1]
    if codes.shape[0] < 4:
        return _pca_projection(codes)
    xy = UMAP(n_components=2, n_neighbors=min(15, codes.shape[0] - 1), random_state=seed, n_jobs=1).fit_transform(codes)
    return _Projection(np.asarray(xy, dtype=float), "UMAP 1", "UMAP 2", f"UMAP of code ({k}-D \u2192 2-D)")


def _project(codes: np.ndarray, seed: int, method: str = "pca") -> _Projection:
    """Turn ``(n, k)`` codes into 2-D points, choosing the method by ``k`` (and ``method`` for k > 2)."""
    if method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {PROJECTIONS}, got {method!r}")
    k = codes.shape[1]
    if k == 2:
        return _Projection(codes.copy(), "code[0]", "code[1]", "code (2-D, shown as is)")
    if k == 1:
        # Jitter spreads overlapping points vertically; the y-axis means nothing.
        jitter = np.random.default_rng(seed).uniform(-0.5, 0.5, size=codes.shape[0])
        xy = np.column_stack([codes[:, 0], jitter])
        return _Projection(xy, "code[0]", "random jitter (no meaning)", "1-D code with random vertical jitter")
    return _umap_projection(codes, seed) if method == "umap" else _pca_projection(codes)


def code_map_2d(codes: np.ndarray, *, seed: int = 0, projection: str = "pca") -> tuple[np.ndarray, str]:
    """Map latent codes to 2-D points for plotting.

    Parameters
    ----------
    codes : numpy.ndarray
        Shape ``(n, k)`` (or ``(n,)`` for ``k == 1``), finite values.
    seed : int, default 0
        Seed of the vertical jitter used when ``k == 1`` (and of UMAP).
    projection : {"pca", "umap"}, default "pca"
        How ``k > 2`` codes are brought to 2-D: PCA is linear and exact; UMAP (needs umap-learn) keeps
        neighbourhoods and separates clusters better.

    Returns
    -------
    xy : numpy.ndarray
        Shape ``(n, 2)``. ``k == 2``: the codes themselves; ``k == 1``: the
        code against random jitter; ``k > 2``: the first two principal
        components, or a UMAP embedding.
    description : str
        How ``xy`` was obtained, e.g. ``"PCA of code (10-D → 2-D, 71% of
        variance)"``, so that a reader never mistakes a projection for the
        raw code.

    Raises
    ------
    ValueError
        If ``codes`` is not a non-empty numeric 1-D/2-D array or contains
        NaN/inf.
    """
    array = _as_codes(codes)
    if not np.isfinite(array).all():
        raise ValueError("codes contain NaN or inf; drop those rows first")
    result = _project(array, seed, projection)
    return result.xy, result.description
