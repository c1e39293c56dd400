"""The package's shape: layers import only downward, a new part is one registered class, every saved directory
loads and is described by ``aekit info``, and one written by another release is refused with what to do."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import aekit
from aekit import (AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Encoder, Imputer, Recommender,
                   TextAutoEncoder)
from aekit.estimators import FORMATS
from aekit.cli import main
from aekit.data.batches import TensorBatches
from aekit.models import BOTTLENECKS, AutoEncoderModel, Code, ModelConfig, Term
from aekit.training import LinearRamp, Trainer, TrainConfig

PACKAGE = Path(aekit.__file__).parent
# Lowest first. A module may import its own layer or any layer listed before it.
LAYERS = ["_utils", "registry", "metrics", "report", "io", "data", "models", "training", "estimators", "runs", "export", "serve",
          "cli"]


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of the aekit modules that ``path`` imports."""
    found = set()
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            if name.startswith("aekit"):
                found.add(name)
                found.update(f"{name}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("aekit"))
    return found


#: Private attributes read on objects other than ``self``/``cls``, each allowed for the reason given: an instance of
#: ``cls`` that a classmethod has just created is the class's own object.
OWN_NEW_INSTANCE = {
    ("aekit/estimators/base.py", "est._restore"): "ModelEstimator.load fills the instance of cls it created",
    ("aekit/data/tabular.py", "obj._columns"): "TabularPreprocessor.from_dict fills the instance of cls it created",
}
#: Modules of other libraries whose underscore names aekit uses as those libraries document them.
LIBRARY_MODULES = {"argparse": "argparse._SubParsersAction, the type of add_subparsers()",
                   "torch": "torch._fused_adam_, the fused Adam kernel torch.optim.Adam itself calls"}


def test_no_module_reads_another_objects_private_attributes():
    """What one estimator needs of another is public API: nothing reads ``other._name`` (scikit-learn's included)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE.parent))
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls", *LIBRARY_MODULES):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            if (rel, ast.unparse(node)) not in OWN_NEW_INSTANCE:
                found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "private attributes read from outside their object:\n" + "\n".join(found)


def test_no_module_imports_a_higher_layer():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "aekit." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = _layer(module)
        if own in ("__init__", "__main__", "cli"):
            continue  # the front door and the top layer may import anything below them
        for target in _imports(path, module):
            layer = _layer(target)
            if layer in LAYERS and own in LAYERS and LAYERS.index(layer) > LAYERS.index(own):
                violations.append(f"{module} imports {target}")
    assert violations == []


def test_report_layer_is_torch_free():
    for path in (PACKAGE / "report").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(name.split(".")[0] == "torch" for name in names), path


# ---------------------------------------------------------------------------------- a new part from outside
@BOTTLENECKS.register("test-bounded")
class BoundedBottleneck(nn.Module):
    """A toy bottleneck defined in this test file: codes squashed by tanh, plus a term of its own that asks the
    pre-activations to stay small."""

    @dataclass
    class Config:
        weight: float = 0.5

    def __init__(self, in_dim: int, latent_dim: int, config: Config) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, latent_dim)
        self.weight = config.weight

    def forward(self, h: torch.Tensor) -> Code:
        pre = self.linear(h)
        z = torch.tanh(pre)
        return Code(z=z, mean=z, terms={"bound": Term(pre.pow(2).mean(), self.weight)})


def test_a_bottleneck_registered_in_a_test_file_trains_an_autoencoder(digits):
    X, _ = digits
    ae = AutoEncoder(kind="deep", bottleneck="test-bounded", latent_dim=4, max_iter=3, random_state=0).fit(X[:300])
    assert ae.config_.bottleneck.to_dict() == {"name": "test-bounded", "weight": 0.5}
    row = ae.history_[-1]
    assert {"train_recon", "train_bound", "train_total"} <= set(row)
    assert row["train_total"] == pytest.approx(row["train_recon"] + 0.5 * row["train_bound"], rel=1e-5)
    codes = ae.transform(X[:50])
    assert codes.shape == (50, 4) and np.abs(codes).max() <= 1.0  # tanh codes


def test_an_unknown_part_name_lists_the_registered_ones():
    with pytest.raises(ValueError, match="test-bounded"):
        AutoEncoderModel(ModelConfig(input_shape=(4,), latent_dim=2, bottleneck={"name": "nope"}))
    with pytest.raises(ValueError, match="has no setting"):
        ModelConfig(input_shape=(4,), latent_dim=2, bottleneck={"name": "gaussian", "bta": 2.0})


def test_kl_annealing_ramps_the_bottleneck_weight():
    torch.manual_seed(0)
    model = AutoEncoderModel(ModelConfig(input_shape=(6,), latent_dim=2, bottleneck={"name": "gaussian"}))
    seen = []
    ramp = LinearRamp(model.bottleneck, "beta", 0.0, 1.0, steps=8)

    class Record(LinearRamp):
        def on_step_start(self, trainer, state):
            seen.append(model.bottleneck.beta)

    x = TensorBatches(torch.randn(32, 6))
    Trainer(model, TrainConfig(max_epochs=4, batch_size=8, early_stopping=False),
            callbacks=[ramp, Record(model.bottleneck, "beta", 0, 0, 1)]).fit(x)
    # Callbacks run in order: the ramp sets beta, the recorder reads it. 4 batches an epoch, 16 steps.
    assert seen[:9] == pytest.approx([i / 8 for i in range(9)]) and seen[-1] == 1.0


# ------------------------------------------------------------------------------- saved directories and info
@pytest.fixture(scope="module")
def saved(tmp_path_factory, digits):
    """One small fitted directory of every saved format."""
    X, _ = digits
    flat = X.reshape(len(X), -1)[:150]
    root = tmp_path_factory.mktemp("saved")
    ae = AutoEncoder(latent_dim=3, hidden_dims=(16,), max_iter=2, random_state=0).fit(flat)
    ae.save(root / "ae")
    ae.encoder_.save(root / "enc")
    det = AnomalyDetector(n_estimators=2, hidden_dims=(8,), max_iter=2, random_state=0).fit(flat)
    det.save(root / "det")
    np.save(root / "det_scores.npy", det.decision_function(flat[:20]))
    Clusterer(3, manifold=None, max_iter=2, refine_epochs=1, random_state=0).fit(flat).save(root / "cl")
    holed = pd.DataFrame(flat[:, :6], columns=[f"c{i}" for i in range(6)]).mask(np.eye(150, 6, dtype=bool))
    Imputer(max_iter=1, random_state=0).fit(holed).save(root / "imp")
    Denoiser(widths=(4, 4, 4), max_iter=1, random_state=0).fit(X[:60]).save(root / "den")
    Codec(latent_dim=4, spatial_channels=2, channels=4, max_iter=1, random_state=0).fit(X[:60]).save(root / "codec")
    pairs = pd.DataFrame([(u, (u * 7 + j) % 12) for u in range(30) for j in range(4)], columns=["user", "item"])
    Recommender(hidden_dim=8, latent_dim=4, n_members=1, max_iter=2, random_state=0).fit(pairs).save(root / "rec")
    words = np.random.default_rng(0).choice(["red", "cat", "runs", "near", "the", "river", "dog", "sleeps"], (120, 5))
    TextAutoEncoder(latent_dim=4, width=8, vocab_size=100, max_iter=1, random_state=0).fit(
        [" ".join(w) for w in words]).save(root / "text")
    return root, flat


@pytest.mark.parametrize("name, estimator, facts", [
    ("ae", "AutoEncoder", {"latent dim": 3, "encoder": "mlp", "epochs run": 2, "features in": 64}),
    ("enc", "Encoder", {"latent dim": 3, "encoder": "mlp"}),
    ("det", "AnomalyDetector", {"members": 2, "contamination": 0.1, "features in": 64}),
    ("cl", "Clusterer", {"clusters": 3, "kind": "deep", "features in": 64}),
    ("imp", "Imputer", {"features in": 6}),
    ("den", "Denoiser", {"channels": 1}),
    ("codec", "Codec", {"image shape": [1, 8, 8], "features in": 64}),
    ("rec", "Recommender", {"items": 12, "members": 1}),
    ("text", "TextAutoEncoder", {"embedding size": 4, "kind": "denoising"}),
])
def test_info_describes_every_saved_estimator(saved, name, estimator, facts, capsys):
    root, _ = saved
    assert main(["info", str(root / name), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["estimator"] == estimator
    assert printed["format"] == json.loads((root / name / "config.json").read_text())["format"]
    assert {k: printed[k] for k in facts} == facts
    assert "model.safetensors" in printed["files"]


def test_info_rejects_a_truncated_weights_file(saved, tmp_path, capsys):
    import shutil

    root, _ = saved
    copy = tmp_path / "ae"
    shutil.copytree(root / "ae", copy)
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert main(["info", str(copy)]) == 2
    assert "damaged" in capsys.readouterr().err


def test_every_registered_format_is_among_the_saved_directories(saved):
    root, _ = saved
    written = {json.loads((d / "config.json").read_text())["format"] for d in root.iterdir() if d.is_dir()}
    assert written == set(FORMATS.names())


def test_aekit_load_dispatches_on_format(saved):
    root, flat = saved
    for name, cls in (("ae", AutoEncoder), ("enc", Encoder), ("det", AnomalyDetector), ("cl", Clusterer),
                      ("imp", Imputer), ("den", Denoiser), ("codec", Codec), ("rec", Recommender),
                      ("text", TextAutoEncoder)):
        assert type(aekit.load(root / name)) is cls
    assert aekit.load(root / "ae").budget_["max_epochs"] == 2  # what the run was allowed survives saving
    det = AnomalyDetector.load(root / "det")
    assert (root / "det" / "member1" / "config.json").is_file()  # members are AutoEncoder directories
    np.testing.assert_allclose(det.decision_function(flat[:20]), np.load(root / "det_scores.npy"), rtol=1e-5,
                               atol=1e-6)  # the loaded detector scores as the fitted one did


def test_a_directory_from_an_older_or_newer_aekit_is_refused_with_what_to_do(saved, tmp_path, capsys):
    import shutil

    root, _ = saved
    config = json.loads((root / "ae" / "config.json").read_text())
    assert config["format"] == "aekit.autoencoder" and config["aekit_version"] == aekit.__version__
    for written_by, advice in ((None, "train the model again"), ("0.1.0", "train the model again"),
                               ("99.0.0", "upgrade aekit")):
        copy = tmp_path / f"ae-{written_by}"
        shutil.copytree(root / "ae", copy)
        older = {k: v for k, v in config.items() if k != "aekit_version"}
        if written_by is None:
            older["format"] = "aekit.autoencoder/2"  # the layout before one format per estimator
        else:
            older["aekit_version"] = written_by
        (copy / "config.json").write_text(json.dumps(older))
        with pytest.raises(ValueError, match=advice):
            aekit.load(copy)
        assert main(["info", str(copy)]) == 2
        assert advice in capsys.readouterr().err
