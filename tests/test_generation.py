"""A trained VAE generates: samples from the prior, interpolations that start and end at the two inputs'
reconstructions, and an importance-sampled log-likelihood that matches log p(x) computed by numerical integration
for a one-dimensional code and tightens with more samples; the CLI writes a PNG grid and the run report shows
samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from aekit import AutoEncoder
from aekit.cli import main


@pytest.fixture(scope="module")
def binary_digits(digits):
    X, _ = digits
    return (X[:600, 0] > 0.5).astype(np.float32)  # (600, 8, 8) binary


@pytest.fixture(scope="module")
def vae(binary_digits):
    return AutoEncoder(kind="vae", latent_dim=4, hidden_dims=(32,), max_iter=30, random_state=0).fit(binary_digits)


def test_samples_have_the_data_shape_and_follow_the_seed(vae):
    a, b, c = vae.sample(5, random_state=1), vae.sample(5, random_state=1), vae.sample(5, random_state=2)
    assert a.shape == (5, 8, 8) and 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_interpolation_runs_between_the_two_reconstructions(vae, binary_digits):
    a, b = binary_digits[0], binary_digits[1]
    path = vae.interpolate(a, b, steps=6)
    ends = vae.reconstruct(binary_digits[:2])
    assert path.shape == (6, 8, 8)
    np.testing.assert_allclose(path[0], ends[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], ends[1], atol=1e-5)
    assert np.abs(path[2] - path[0]).sum() > 0


def test_more_importance_samples_tighten_the_bound(vae, binary_digits):
    x = binary_digits[:100]
    elbo_like = vae.log_likelihood(x, k=1).mean()
    tight = vae.log_likelihood(x, k=200).mean()
    assert tight > elbo_like + 0.1
    assert np.all(np.isfinite(tight)) and tight < 0  # probabilities of binary images are below 1


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_log_likelihood_matches_numerical_integration_for_a_1d_code(binary_digits, loss):
    x = binary_digits[:300]
    ae = AutoEncoder(kind="vae", latent_dim=1, hidden_dims=(16,), loss=loss, max_iter=10, random_state=0).fit(x)
    est = ae.log_likelihood(x[:5], k=40_000, random_state=0)  # Monte Carlo error about 0.02 nats here
    m = ae.model_
    grid = torch.linspace(-10, 10, 8001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        params = m.decoder_params(grid.float()).float()
        for i in range(5):
            xi = torch.from_numpy(x[i : i + 1]).flatten(1).expand(len(grid), -1)
            log_px_z = -m.likelihood.nll(params, xi).double()
            if loss == "mse":
                log_px_z = log_px_z - 0.5 * math.log(2 * math.pi) * xi.shape[1]
            log_prior = -0.5 * (grid[:, 0] ** 2 + math.log(2 * math.pi))
            exact = torch.logsumexp(log_px_z + log_prior, 0) + math.log(float(grid[1, 0] - grid[0, 0]))
            assert est[i] == pytest.approx(float(exact), abs=0.04)


def test_generation_needs_a_vae_and_sane_arguments(digits):
    X, _ = digits
    plain = AutoEncoder(kind="basic", latent_dim=2, max_iter=1, random_state=0).fit(X[:50])
    with pytest.raises(ValueError, match="variational"):
        plain.sample(3)
    with pytest.raises(ValueError, match="variational"):
        plain.log_likelihood(X[:3])
    assert plain.interpolate(X[0], X[1], steps=3).shape == (3, *X.shape[1:])
    with pytest.raises(ValueError, match="steps"):
        plain.interpolate(X[0], X[1], steps=1)


def test_cli_sample_writes_a_grid_and_the_report_shows_samples(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "digits", "--kind", "vae", "--epochs", "2", "--out", str(run), "-q"]) == 0
    assert "Samples" in (run / "report.html").read_text()
    assert main(["sample", str(run), "-n", "10", "--cols", "5", "--out", str(tmp_path / "grid.png")]) == 0
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (5 * 8 + 4, 2 * 8 + 1)
    assert main(["sample", str(run), "--out", str(tmp_path / "grid.gif")]) == 2
    assert "aekit: error: --out must end in .png or .npy" in capsys.readouterr().err


def test_importance_weighted_training_loss_is_the_iwae_bound(binary_digits):
    """With k codes per row the training total is -log mean_k p(x|z_k) p(z_k) / q(z_k|x), written out here with
    every normalising constant; recon and kl stay the ELBO's parts, so the log reads as before."""
    from aekit.data.batches import Batch
    from aekit.models.importance import LOG_2PI

    k = 4
    ae = AutoEncoder(kind="vae", latent_dim=3, hidden_dims=(16,), importance_samples=k, max_iter=2,
                     random_state=0).fit(binary_digits[:200])
    assert "train_importance_gap" in ae.history_[-1] and ae.model_.bottleneck.samples == k
    m = ae.model_.train()
    x = torch.from_numpy(binary_digits[:32]).unsqueeze(1)
    torch.manual_seed(5)
    with torch.no_grad():
        terms = m.loss(Batch(x))
    torch.manual_seed(5)
    with torch.no_grad():
        mean, logvar = m.bottleneck.linear(m.encoder(m.input_norm(x))).chunk(2, dim=1)
        z = mean + torch.exp(0.5 * logvar) * torch.randn((k, *mean.shape))
        nll = m.likelihood.nll(m.decoder_params(z.flatten(0, 1)), x.repeat(k, 1, 1, 1)).view(k, -1)
        log_prior = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        log_q = -0.5 * ((z - mean).pow(2) / logvar.exp() + logvar + LOG_2PI).sum(-1)
        expected = -(torch.logsumexp(-nll + log_prior - log_q, dim=0) - math.log(k)).mean()
    assert float(terms["total"]) == pytest.approx(float(expected), rel=1e-5)
    assert float(terms["recon"]) == pytest.approx(float(nll.mean()), rel=1e-5)


def test_importance_samples_need_a_vae_with_beta_one(binary_digits):
    with pytest.raises(ValueError, match="variational"):
        AutoEncoder(kind="deep", importance_samples=3, max_iter=1).fit(binary_digits[:50])
    with pytest.raises(ValueError, match="beta=1"):
        AutoEncoder(kind="beta-vae", importance_samples=3, max_iter=1).fit(binary_digits[:50])
