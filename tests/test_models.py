"""The parts of the composed model, checked on tiny tensors against closed forms and finite differences."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from aekit.data.batches import Batch
from aekit.models import AutoEncoderModel, ModelConfig, gaussian_kl
from aekit.models.conv import ConvDecoder, ConvEncoder
from aekit.models.corruption import CORRUPTIONS, build_corruption
from aekit.models.regularizers import contractive_penalty, kl_sparsity


def test_gaussian_kl_equals_closed_form_and_torch_distributions():
    torch.manual_seed(0)
    mean, logvar = torch.randn(5, 3), torch.randn(5, 3)
    ours = gaussian_kl(mean, logvar)
    reference = kl_divergence(Normal(mean, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(ours, reference)
    # By hand for one value: KL(N(1, e^0) || N(0, 1)) = 0.5 * (1 + 1 - 1 - 0) = 0.5
    assert gaussian_kl(torch.ones(1, 1), torch.zeros(1, 1)).item() == pytest.approx(0.5)


def test_vae_loss_kl_term_is_the_closed_form_of_its_code():
    torch.manual_seed(0)
    model = AutoEncoderModel(ModelConfig(input_shape=(6,), latent_dim=2, encoder={"name": "mlp", "hidden": (4,)},
                                         bottleneck={"name": "gaussian", "beta": 3.0}))
    model.eval()
    x = torch.randn(7, 6)
    code = model.bottleneck(model.encoder(x))
    terms = model.loss(Batch(x))
    torch.testing.assert_close(terms["kl"], gaussian_kl(code.mean, code.logvar).mean())
    torch.testing.assert_close(terms["total"], terms["recon"] + 3.0 * terms["kl"])


def test_contractive_penalty_equals_finite_difference_jacobian_norm():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    penalty = contractive_penalty(net(x), x)
    eps, total = 1e-6, 0.0
    with torch.no_grad():
        for b in range(5):
            for j in range(4):
                step = torch.zeros(4, dtype=torch.float64)
                step[j] = eps
                column = (net(x[b] + step) - net(x[b] - step)) / (2 * eps)  # dz/dx_j
                total += column.pow(2).sum().item()
    assert penalty.item() == pytest.approx(total / 5, rel=1e-6)


def test_contractive_model_term_matches_its_encoder_jacobian():
    torch.manual_seed(0)
    model = AutoEncoderModel(ModelConfig(input_shape=(3,), latent_dim=2,
                                         encoder={"name": "mlp", "hidden": (4,), "activation": "tanh"},
                                         regularizers=[{"name": "contractive", "weight": 0.5}])).double()
    x = torch.randn(4, 3, dtype=torch.float64)
    terms = model.loss(Batch(x))
    jac = torch.autograd.functional.jacobian(lambda v: model.encode(v.unsqueeze(0)).squeeze(0), x[0])
    norms = [torch.autograd.functional.jacobian(lambda v: model.encode(v.unsqueeze(0)).squeeze(0), xi).pow(2).sum()
             for xi in x]
    assert jac.shape == (2, 3)
    assert terms["contractive"].item() == pytest.approx(torch.stack(norms).mean().item(), rel=1e-9)
    assert terms["total"].item() == pytest.approx((terms["recon"] + 0.5 * terms["contractive"]).item())


def test_kl_sparsity_is_zero_at_target_and_positive_elsewhere():
    at_target = torch.full((8, 3), 0.05)
    assert kl_sparsity(at_target, 0.05).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_sparsity(torch.full((8, 3), 0.5), 0.05).item() > 0.5


@pytest.mark.parametrize("name", CORRUPTIONS.names())
def test_corruption_changes_input_only_in_training(name):
    torch.manual_seed(0)
    x = torch.rand(64, 10)
    noise = build_corruption(name, 0.3)
    assert not torch.equal(noise.train()(x), x)
    assert torch.equal(noise.eval()(x), x)


def test_salt_and_pepper_sets_about_level_of_values_to_extremes():
    torch.manual_seed(0)
    x = torch.full((200, 50), 0.5)
    out = build_corruption("salt-and-pepper", 0.2).train()(x)
    changed = out != 0.5
    assert changed.float().mean().item() == pytest.approx(0.2, abs=0.02)
    assert set(out[changed].unique().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 13, 17), (1, 8, 8), (2, 5, 31)])
def test_conv_decoder_restores_any_image_size(shape):
    enc = ConvEncoder(shape, (4, 8), "relu")
    dec = ConvDecoder(3, shape, (4, 8), "relu")
    x = torch.rand(2, *shape)
    assert enc(x).shape == (2, enc.out_dim)
    assert dec(torch.randn(2, 3)).shape == (2, *shape)


def test_mixed_likelihood_uses_cross_entropy_for_categories_and_masks_missing():
    blocks = [{"name": "a", "type": "numeric", "start": 0, "stop": 1},
              {"name": "b", "type": "categorical", "start": 1, "stop": 3}]
    model = AutoEncoderModel(ModelConfig(input_shape=(3,), latent_dim=2, encoder={"name": "mlp", "hidden": (4,)},
                                         likelihood={"name": "mixed", "blocks": blocks}))
    params = torch.tensor([[0.5, 2.0, 0.0]])
    x = torch.tensor([[1.5, 0.0, 1.0]])
    expected = 0.5 * 1.0**2 - math.log(math.exp(0.0) / (math.exp(2.0) + math.exp(0.0)))
    assert model.likelihood.nll(params, x).item() == pytest.approx(expected, rel=1e-6)
    observed = torch.tensor([[0.0, 1.0, 1.0]])  # numeric cell missing: only the categorical part counts
    assert model.likelihood.nll(params, x, observed).item() == pytest.approx(expected - 0.5, rel=1e-6)
    probs = model.likelihood.mean(params)
    assert probs[0, 1:].sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("options", [{}, {"dense": 16}, {"upsample": "resize"}, {"dense": 8, "upsample": "resize"},
                                     {"norm": "batch"}, {"linear_path": True}, {"norm": "batch", "linear_path": True}])
def test_conv_options_keep_colour_non_square_images_intact(options):
    torch.manual_seed(0)
    config = ModelConfig(input_shape=(3, 32, 48), latent_dim=5, encoder={"name": "conv", "hidden": (4, 8), **options})
    model = AutoEncoderModel(config)
    x = torch.rand(2, 3, 32, 48)
    assert model.encode(x).shape == (2, 5)
    assert model.reconstruct(x).shape == (2, 3, 32, 48)
    terms = model.loss(Batch(x))
    terms["total"].backward()
    assert all(p.grad is not None for p in model.parameters())


def test_conv_upsample_and_norm_options_are_checked():
    with pytest.raises(ValueError, match="upsample must be 'transpose' or 'resize'"):
        AutoEncoderModel(ModelConfig(input_shape=(1, 8, 8), latent_dim=2,
                                     encoder={"name": "conv", "upsample": "bilinear"}))
    with pytest.raises(ValueError, match="norm must be 'none' or 'batch'"):
        AutoEncoderModel(ModelConfig(input_shape=(1, 8, 8), latent_dim=2, encoder={"name": "conv", "norm": "layer"}))


def test_conv_part_defaults_stay_plain_so_older_saved_models_rebuild_as_they_were():
    model = AutoEncoderModel(ModelConfig(input_shape=(1, 8, 8), latent_dim=2, encoder={"name": "conv", "hidden": (4,)}))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert model.decoder.linear is None and model.encoder.out_dim == 4 * 4 * 4


def test_conv_linear_path_reaches_the_code_and_the_output():
    """With the linear path, the code depends on the pixels even when every convolution outputs zero."""
    torch.manual_seed(0)
    model = AutoEncoderModel(ModelConfig(input_shape=(1, 8, 8), latent_dim=3,
                                         encoder={"name": "conv", "hidden": (4,), "linear_path": True}))
    with torch.no_grad():
        for module in model.encoder.body:
            if isinstance(module, torch.nn.Conv2d):
                module.weight.zero_()
                module.bias.zero_()
    x = torch.rand(2, 1, 8, 8)
    assert model.encoder.out_dim == 4 * 4 * 4 + 64
    assert not torch.allclose(model.encode(x)[0], model.encode(x)[1])
    z = torch.randn(2, 3)
    model.decode(z).sum().backward()
    assert model.decoder.linear.weight.shape == (64, 3)
    assert model.decoder.linear.weight.grad.abs().sum() > 0  # the output depends on the linear map


def test_mlp_linear_path_reaches_the_code_and_the_output():
    """With the linear path, the code depends on the row even when every hidden layer outputs zero, and the output
    on the code through a linear map; without hidden layers there is nothing to add a path beside."""
    torch.manual_seed(0)
    model = AutoEncoderModel(ModelConfig(input_shape=(6,), latent_dim=2,
                                         encoder={"name": "mlp", "hidden": (8, 4), "linear_path": True}))
    with torch.no_grad():
        for layer in model.encoder.layers:
            layer.weight.zero_()
            layer.bias.zero_()
    x = torch.rand(2, 6)
    assert model.encoder.out_dim == 4  # added to the last layer's output, not concatenated beside it
    assert not torch.allclose(model.encode(x)[0], model.encode(x)[1])
    model.decode(torch.randn(2, 2)).sum().backward()
    assert model.decoder.linear.weight.shape == (6, 2) and model.decoder.linear.weight.grad.abs().sum() > 0
    plain = AutoEncoderModel(ModelConfig(input_shape=(6,), latent_dim=2, encoder={"name": "mlp", "hidden": (8,)}))
    assert plain.encoder.linear is None and plain.decoder.linear is None  # older saved models rebuild as they were
    linear = AutoEncoderModel(ModelConfig(input_shape=(6,), latent_dim=2,
                                          encoder={"name": "mlp", "hidden": (), "linear_path": True}))
    assert linear.encoder.linear is None and linear.decoder.linear is None


def _norm_config(likelihood: str) -> ModelConfig:
    return ModelConfig(input_shape=(2, 4, 4), latent_dim=3, encoder={"name": "conv", "hidden": (4,)},
                       likelihood={"name": likelihood},
                       input_norm={"mean": [0.5, 0.2], "std": [0.25, 0.1], "low": 0.0, "high": 1.0})


def test_input_norm_standardises_what_the_encoder_reads():
    torch.manual_seed(0)
    model = AutoEncoderModel(_norm_config("mse")).eval()
    x = torch.rand(3, 2, 4, 4)
    scaled = (x - torch.tensor([0.5, 0.2]).view(1, 2, 1, 1)) / torch.tensor([0.25, 0.1]).view(1, 2, 1, 1)
    expected = model.bottleneck(model.encoder(scaled)).mean
    torch.testing.assert_close(model.encode(x), expected)


def test_mse_decoder_predicts_standardised_values_and_reconstructions_stay_in_range():
    torch.manual_seed(0)
    model = AutoEncoderModel(_norm_config("mse")).eval()
    with torch.no_grad():
        model.decoder.body[-1].bias.copy_(torch.tensor([20.0, -20.0]))  # push both channels out of [0, 1]
    z = torch.randn(4, 3)
    raw = model.decoder(z)
    expected = raw * torch.tensor([0.25, 0.1]).view(1, 2, 1, 1) + torch.tensor([0.5, 0.2]).view(1, 2, 1, 1)
    torch.testing.assert_close(model.decoder_params(z), expected)
    torch.testing.assert_close(model.decode(z), expected.clamp(0.0, 1.0))
    assert (expected[:, 0] > 1).all() and (expected[:, 1] < 0).all()  # so the clamp was exercised


def test_bce_logits_are_not_rescaled():
    torch.manual_seed(0)
    model = AutoEncoderModel(_norm_config("bce")).eval()
    z = torch.randn(4, 3)
    torch.testing.assert_close(model.decoder_params(z), model.decoder(z))


def test_input_norm_specs_are_checked():
    with pytest.raises(ValueError, match="one per leading axis"):
        AutoEncoderModel(ModelConfig(input_shape=(2, 4, 4), latent_dim=2, encoder={"name": "conv", "hidden": (4,)},
                                     input_norm={"mean": [0.5], "std": [0.2]}))
    with pytest.raises(ValueError, match="does not fit InputNormStats"):
        ModelConfig(input_shape=(4,), latent_dim=2, input_norm={"mean": [0] * 4, "std": [1] * 4, "scale": 2})
    old = ModelConfig(input_shape=(4,), latent_dim=2).to_dict()
    del old["input_norm"]  # configs saved before input_norm existed still load
    assert ModelConfig.from_dict(old).input_norm is None


def test_masking_groups_remove_whole_runs_and_can_blank_with_nan():
    torch.manual_seed(0)
    x = torch.rand(2000, 6) + 1
    noise = build_corruption({"name": "masking", "level": 0.4, "groups": [1, 3, 2]}).train()
    removed = noise(x) == 0
    for a, b in [(0, 1), (1, 4), (4, 6)]:  # each run is removed whole or kept whole
        assert (removed[:, a:b].all(dim=1) | ~removed[:, a:b].any(dim=1)).all()
    assert removed[:, [0, 1, 4]].float().mean().item() == pytest.approx(0.4, abs=0.03)
    noise.blank = float("nan")
    out = noise(x)
    assert torch.isnan(out).float().mean().item() == pytest.approx(0.4, abs=0.03)
    assert torch.equal(out[~torch.isnan(out)], x[~torch.isnan(out)])
    with pytest.raises(ValueError, match="cover 6 values"):
        noise(torch.rand(4, 5))


def test_missing_indicator_tells_a_hole_from_a_zero_and_never_reads_missing_values():
    torch.manual_seed(0)
    flagged = AutoEncoderModel(ModelConfig(input_shape=(5,), latent_dim=2, missing_indicator=True)).eval()
    plain = AutoEncoderModel(ModelConfig(input_shape=(5,), latent_dim=2)).eval()
    x = torch.randn(8, 5)
    hole, zero = x.clone(), x.clone()
    hole[:, 1], zero[:, 1] = float("nan"), 0.0
    assert torch.isfinite(flagged.encode(hole)).all()
    assert (flagged.encode(hole) - flagged.encode(zero)).abs().max() > 1e-3  # the flag reaches the code
    observed = torch.ones_like(x)
    observed[:, 1] = 0
    losses = {}
    for name, model in [("flagged", flagged), ("plain", plain)]:
        a, b = x.clone(), x.clone()
        b[:, 1] = 99.0  # what a missing cell holds must not matter to a model that is told it is missing
        losses[name] = [model.loss(Batch(v, observed))["total"].item() for v in (a, b)]
    assert losses["flagged"][0] == pytest.approx(losses["flagged"][1], rel=1e-6)
    assert losses["plain"][0] != pytest.approx(losses["plain"][1], rel=1e-3)  # without it the value leaks in
    config = flagged.config.to_dict()
    assert config["missing_indicator"] is True and ModelConfig.from_dict(config).missing_indicator
    assert "missing_indicator" not in plain.config.to_dict()  # older files keep their exact layout
    with pytest.raises(ValueError, match="flat"):
        ModelConfig(input_shape=(1, 8, 8), latent_dim=2, missing_indicator=True)
