"""The CLI, run in-process through ``main(argv)``: happy paths write real files, mistakes give one line."""

from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from aekit import AutoEncoder
from aekit.cli import main


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits"
    assert main(["train", "--out", str(out), "--epochs", "3", "--latent-dim", "4", "-q"]) == 0
    return out


def test_train_on_default_digits_writes_a_complete_run(digits_run, capsys):
    files = {p.name for p in digits_run.iterdir()}
    assert {"config.json", "model.safetensors", "preprocess.json", "history.csv", "report.html",
            "checkpoint.safetensors"} <= files
    config = json.loads((digits_run / "config.json").read_text())
    assert config["params"]["kind"] == "conv" and config["fitted"]["model"]["input_shape"] == [1, 8, 8]
    html = (digits_run / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3  # loss curves, reconstructions, code map
    assert "Inputs and reconstructions" in html and "Latent code map" in html
    assert "epochs at most, batches of" in html and "thread(s)" in html  # the budget is reported
    assert "learning rate 0.01" in html  # with the conv default's rate
    assert len(pd.read_csv(digits_run / "history.csv")) == 3


def test_info_encode_reconstruct(digits_run, tmp_path, capsys):
    assert main(["info", str(digits_run), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["kind"] == "conv" and facts["latent dim"] == 4 and facts["epochs run"] == 3

    assert main(["encode", str(digits_run), "digits", "--out", str(tmp_path / "codes.csv")]) == 0
    codes = pd.read_csv(tmp_path / "codes.csv")
    assert list(codes.columns) == ["id", "z0", "z1", "z2", "z3"] and len(codes) == 1797
    from aekit import datasets

    X, _ = datasets.load("digits")
    np.testing.assert_allclose(codes[["z0", "z1", "z2", "z3"]].to_numpy(),
                               AutoEncoder.load(digits_run).transform(X), rtol=1e-5, atol=1e-6)

    assert main(["reconstruct", str(digits_run), "digits", "--out", str(tmp_path / "rec.npy")]) == 0
    rec = np.load(tmp_path / "rec.npy")
    assert rec.shape == (1797, 1, 8, 8) and 0 <= rec.min() and rec.max() <= 1


def test_train_on_csv_with_categories_and_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80),
                       "c": rng.choice(["x", "y"], size=80), "label": rng.integers(0, 2, size=80)})
    df.loc[3, "a"] = np.nan
    df.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "t.csv"), "--out", str(out), "--epochs", "2", "--label-col", "label",
                 "-q"]) == 0
    assert json.loads((out / "config.json").read_text())["fitted"]["model"]["likelihood"]["name"] == "mixed"
    html = (out / "report.html").read_text()
    assert "Per-feature reconstruction error" in html and "Inputs and reconstructions" not in html
    assert main(["reconstruct", str(out), str(tmp_path / "t.csv"), "--label-col", "label",
                 "--out", str(tmp_path / "r.parquet")]) == 0
    rec = pd.read_parquet(tmp_path / "r.parquet")
    assert list(rec.columns) == ["id", "a", "b", "c"] and set(rec["c"]) <= {"x", "y"}


def test_train_on_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, size=(12, 10, 3), dtype=np.uint8)).save(
                tmp_path / "imgs" / cls / f"{i}.png")
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "imgs"), "--out", str(out), "--epochs", "2", "-q"]) == 0
    assert json.loads((out / "config.json").read_text())["fitted"]["model"]["input_shape"] == [3, 12, 10]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "no/such/file.csv"], "no table file"),
        (["train", "nonsense-dataset"], "cannot read 'nonsense-dataset'"),
        (["info", "no/such/run"], "run directory not found"),
        (["encode", "no/such/run", "digits", "--out", "x.csv"], "not found"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aekit: error:") and message in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_bad_output_suffix_and_wrong_data_for_model(digits_run, tmp_path, capsys):
    assert main(["encode", str(digits_run), "digits", "--out", str(tmp_path / "codes.xlsx")]) == 2
    assert "--out must end in" in capsys.readouterr().err
    np.save(tmp_path / "wrong.npy", np.zeros((5, 3), dtype=np.float32))
    assert main(["encode", str(digits_run), str(tmp_path / "wrong.npy"), "--out", str(tmp_path / "c.npy")]) == 2
    assert "shape" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["train"], ["embed"], ["encode"], ["reconstruct"], ["info"], ["cluster"]])
def test_help_explains_every_command(command, capsys):
    assert main([*command, "--help"]) == 0
    assert "usage: aekit" in capsys.readouterr().out


def test_bad_option_value_exits_2(capsys):
    assert main(["train", "--kind", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "invalid choice" in err and err.startswith("aekit: error:") and len(err.splitlines()) == 1


def test_detect_fit_and_streamed_score(tmp_path, capsys):
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 6))
    X = rng.normal(size=(300, 2)) @ basis + 0.05 * rng.normal(size=(300, 6))
    X[:10] = rng.normal(size=(10, 6)) * 3  # ten rows off the plane
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    df["truth"] = np.r_[np.ones(10), np.zeros(290)].astype(int)
    df.to_csv(tmp_path / "d.csv", index=False)
    run = tmp_path / "det"
    assert main(["detect", "fit", str(tmp_path / "d.csv"), "--out", str(run), "--label-col", "truth",
                 "--contamination", "0.05"]) == 0
    html = (run / "report.html").read_text()
    assert "Score distribution" in html and "AUROC against the given labels" in html
    out = tmp_path / "scores.parquet"
    assert main(["detect", "score", str(run), str(tmp_path / "d.csv"), "--out", str(out), "--label-col", "truth",
                 "--chunk-rows", "64", "--top", "2"]) == 0
    scores = pd.read_parquet(out)
    assert list(scores.columns) == ["id", "score", "label", "feature_1", "contribution_1", "feature_2",
                                    "contribution_2"]
    assert scores["id"].tolist() == list(range(300))  # five chunks, in order
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(df["truth"], scores["score"]) > 0.95  # the planted rows score high
    assert main(["detect", "score", str(run), str(tmp_path / "d.csv"), "--out", str(tmp_path / "s.txt")]) == 2
    assert "--out must end in" in capsys.readouterr().err


def test_embed_writes_codes_with_row_ids_and_a_labelled_map(digits_run, tmp_path, capsys):
    out, png = tmp_path / "codes.parquet", tmp_path / "map.png"
    assert main(["embed", str(digits_run), "digits", "--out", str(out), "--map", str(png)]) == 0
    codes = pd.read_parquet(out)
    assert list(codes.columns) == ["id", "z0", "z1", "z2", "z3"]
    np.testing.assert_array_equal(codes["id"], np.arange(1797))
    image = Image.open(png)
    assert image.format == "PNG" and image.size[0] > 300
    assert main(["embed", str(digits_run), "digits", "--out", str(out), "--map", str(tmp_path / "m.jpg")]) == 2
    assert "--map must end in .png" in capsys.readouterr().err


def test_embed_keeps_the_ids_of_a_table(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"], index=np.arange(100, 140))
    df.to_parquet(tmp_path / "t.parquet")
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "t.parquet"), "--out", str(run), "--epochs", "2", "-q"]) == 0
    assert main(["embed", str(run), str(tmp_path / "t.parquet"), "--out", str(tmp_path / "z.csv")]) == 0
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "z.csv")["id"], np.arange(100, 140))


@pytest.mark.slow
def test_cluster_images_writes_assignments_and_a_report_with_member_grids(tmp_path, capsys):
    out = tmp_path / "clusters.csv"
    assert main(["cluster", "digits", "-k", "4", "--epochs", "3", "--out", str(out), "--save",
                 str(tmp_path / "kept"), "-q"]) == 0
    frame = pd.read_csv(out)
    from aekit import Clusterer, datasets

    X, _ = datasets.load("digits")
    kept = Clusterer.load(tmp_path / "kept").predict(X)
    assert (kept == frame["cluster"].to_numpy()).mean() > 0.9  # new-row assignment agrees with the fit
    assert list(frame.columns) == ["id", "cluster", "probability"] and len(frame) == 1797
    assert set(frame["cluster"]) <= set(range(4)) and frame["probability"].between(0, 1).all()
    html = (tmp_path / "clusters.html").read_text()
    assert "Members of each cluster" in html and "accuracy against the given labels" in html
    assert html.count("data:image/png;base64,") >= 4  # loss curves, two maps, member grid


def test_cluster_table_with_labels_finds_the_groups(tmp_path, capsys):
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], 60)
    centres = np.array([[0, 0, 0, 0], [8, 8, 0, 0], [0, 8, 8, 8]], dtype=float)
    df = pd.DataFrame(centres[group] + rng.normal(size=(180, 4)), columns=["a", "b", "c", "d"])
    df["kind"] = np.where(group == 2, "x", "y")
    df.loc[[5, 70, 130], "a"] = np.nan  # missing cells stay masked through training and refinement
    df["truth"] = group
    df.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "c.parquet"
    assert main(["cluster", str(tmp_path / "t.csv"), "-k", "3", "--no-umap", "--epochs", "40", "--label-col",
                 "truth", "--out", str(out), "--report", str(tmp_path / "r.html"), "-q"]) == 0
    from aekit.metrics import cluster_accuracy

    assert cluster_accuracy(group, pd.read_parquet(out)["cluster"]) >= 0.95
    html = (tmp_path / "r.html").read_text()
    assert "What sets each cluster apart" in html
    assert re.search(r"[abcd] [+-]\d+\.\d\d", html)  # features with their mean shift, e.g. "b +1.52"


def test_import_and_main_leave_the_garbage_collector_as_they_found_it():
    """aekit pauses the cyclic collector while it imports (a third of a second saved) -- its lazy exports and the
    command modules alike -- and only the console script freezes objects; a program importing aekit or calling
    main() must get its collector back unchanged."""
    script = ("import gc\n"
              "frozen = gc.get_freeze_count()\n"
              "import aekit.cli\n"
              "assert aekit.cli.main(['--version']) == 0\n"
              "aekit.AutoEncoder\n"
              "assert gc.isenabled(), 'importing aekit left the collector off'\n"
              "assert aekit.cli.main(['info', '--help']) == 0\n"
              "assert gc.isenabled() and gc.get_freeze_count() == frozen, 'main() froze objects'\n"
              "gc.disable()\n"
              "aekit.Codec\n"
              "assert aekit.cli.main(['codec', '--help']) == 0\n"
              "assert not gc.isenabled(), 'importing aekit turned a disabled collector on'\n")
    _python_ok(script)


def _python_ok(script: str) -> str:
    """Run ``script`` in a fresh interpreter (imports and collector state start clean); its stdout."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_and_version_answer_without_importing_torch_and_every_listed_command_exists():
    """``aekit --help`` lists the commands from a table without importing their modules (torch, scikit-learn and
    pandas take seconds on a small machine); the table must name each command's real module."""
    script = ("import sys\n"
              "from aekit.cli import main\n"
              "assert main(['--help']) == 0 and main(['--version']) == 0 and main(['trian']) == 2\n"
              "heavy = [m for m in ('torch', 'sklearn', 'pandas', 'matplotlib') if m in sys.modules]\n"
              "assert not heavy, heavy\n")
    assert "train an autoencoder and write a run directory" in _python_ok(script)

    from aekit.cli import build_parser
    from aekit.cli.commands import ALIASES, COMMANDS

    sub = next(a for a in build_parser("*")._actions if isinstance(a, argparse._SubParsersAction))
    listed = set(COMMANDS) | {a for names in ALIASES.values() for a in names}
    assert set(sub.choices) == listed  # every module registers exactly the names the table gives it
    helps = {action.dest: action.help for action in sub._choices_actions}
    assert helps == {name: text for name, (_, text) in COMMANDS.items()}
