"""Messy input is never read silently wrong: each case is an error that names the problem, or a warning that says
what was done. Python raises ``ValueError``/``TypeError``; the CLI prints one line and exits 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aekit import AnomalyDetector, AutoEncoder, Clusterer
from aekit.cli import main
from aekit.data.tabular import UnseenCategoryWarning


def _table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], size=n)})


def test_one_stray_string_in_a_numeric_column_is_an_error_naming_it():
    df = _table().astype({"a": object})
    df.loc[17, "a"] = "12,5"
    with pytest.raises(ValueError, match=r"column 'a' holds numbers except for 1 text value.*'12,5' \(row 17\)"):
        AutoEncoder(max_iter=1).fit(df)


def test_a_text_column_of_words_stays_categorical():
    df = _table()  # "c" holds only words: a category, not a broken number
    ae = AutoEncoder(max_iter=1, random_state=0).fit(df)
    assert ae.model_feature_names == ["a", "b", "c=x", "c=y"] and ae.config_.likelihood.name == "mixed"


def test_an_all_missing_column_is_an_error_naming_it(recwarn):
    df = _table()
    df["empty"] = np.nan
    with pytest.raises(ValueError, match="column 'empty' has no values"):
        AutoEncoder(max_iter=1).fit(df)
    assert not [w for w in recwarn if "Mean of empty slice" in str(w.message)]


def test_an_unseen_category_at_transform_warns_and_says_what_was_done():
    df = _table()
    ae = AutoEncoder(max_iter=1, random_state=0).fit(df)
    new = df.iloc[:3].copy()
    new["c"] = ["x", "z", "z"]
    with pytest.warns(UnseenCategoryWarning, match=r"column 'c': 2 row\(s\) hold categories not seen in fit \('z'\)"):
        ae.transform(new)


@pytest.mark.parametrize("estimator", [AutoEncoder(max_iter=1), AnomalyDetector(max_iter=1)])
def test_a_single_row_is_refused(estimator):
    with pytest.raises(ValueError, match=r"at least \d+ (samples|rows)"):
        estimator.fit(np.ones((1, 5), dtype=np.float32))


@pytest.mark.parametrize("X, error, message", [
    (np.zeros((0, 4)), ValueError, "empty"),
    (np.array([[1.0, np.nan], [2.0, 3.0]]), ValueError, "row 0, column 1"),
    (np.array([[1.0, np.inf], [2.0, 3.0]]), ValueError, "inf"),
    (np.ones(5), ValueError, "Reshape your data"),
    ("data.csv", TypeError, "got str"),
    ([["a", "b"], ["c", "d"]], TypeError, "non-numeric"),
    (np.ones((3, 2), dtype=complex), ValueError, "Complex"),
])
def test_python_bad_inputs_name_the_problem(X, error, message):
    with pytest.raises(error, match=message):
        AutoEncoder(max_iter=1).fit(X)


def test_transform_with_the_wrong_shape_names_both_shapes(digits):
    X, _ = digits
    ae = AutoEncoder(kind="conv", max_iter=1, random_state=0).fit(X[:50])
    with pytest.raises(ValueError, match=r"shape \(1, 7, 7\).*\(1, 8, 8\)"):
        ae.transform(np.zeros((2, 1, 7, 7), dtype=np.float32))


SKLEARN_COVARIANCE_ERROR = ("Fitting the mixture model failed because some components have ill-defined empirical "
                            "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
                            "number of components, increase reg_covar, or scale the input data.")


def _mixture_failing_below(floor):
    from sklearn.mixture import GaussianMixture

    class Fragile(GaussianMixture):
        def fit(self, X, y=None):
            if self.reg_covar < floor:
                raise ValueError(SKLEARN_COVARIANCE_ERROR)
            return super().fit(X, y)

    return Fragile


def test_collapsed_codes_raise_the_covariance_floor_instead_of_failing(monkeypatch):
    import sklearn.mixture  # the Clusterer imports GaussianMixture from here when it fits

    X = np.random.default_rng(0).normal(size=(60, 6)).astype(np.float32)
    monkeypatch.setattr(sklearn.mixture, "GaussianMixture", _mixture_failing_below(1e-3))
    c = Clusterer(3, manifold=None, max_iter=2, refine_epochs=0, random_state=0).fit(X)
    assert c.mixture_.reg_covar == pytest.approx(1e-2) and c.labels_.shape == (60,)
    monkeypatch.setattr(sklearn.mixture, "GaussianMixture", _mixture_failing_below(10.0))
    with pytest.raises(ValueError, match="collapse onto too few distinct points") as info:
        Clusterer(3, manifold=None, max_iter=2, refine_epochs=0, random_state=0).fit(X)
    assert "reg_covar" not in str(info.value)  # scikit-learn's advice names a setting the user cannot reach


def _one_error_line(err: str, message: str) -> None:
    """The error is one line (other lines may only be the command's own status line, printed before it)."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("aekit: error:")]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in err, err
    assert all(line.startswith(("aekit: error:", "training a ", "clustering ")) for line in lines), err


def _write_csv(tmp_path, df, name="t.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("make, message", [
    (lambda d: d.assign(a=d["a"].astype(object).where(d.index != 5, "oops")), "column 'a' holds numbers except"),
    (lambda d: d.assign(empty=np.nan), "column 'empty' has no values"),
    (lambda d: d.iloc[:1], "at least 2 samples"),
    (lambda d: d.iloc[:0], "empty"),
])
def test_cli_bad_tables_are_one_line_and_exit_2(tmp_path, capsys, make, message):
    path = _write_csv(tmp_path, make(_table()))
    assert main(["train", path, "--out", str(tmp_path / "run"), "--epochs", "1", "-q"]) == 2
    _one_error_line(capsys.readouterr().err, message)


def test_cli_refuses_to_overwrite_a_finished_run_unless_asked(tmp_path, capsys):
    path = _write_csv(tmp_path, _table())
    out = str(tmp_path / "run")
    assert main(["train", path, "--out", out, "--epochs", "1", "-q"]) == 0
    first = json.loads((tmp_path / "run" / "config.json").read_text())
    assert main(["train", path, "--out", out, "--epochs", "2", "-q"]) == 2
    err = capsys.readouterr().err
    assert "already holds a finished run" in err and "--resume" in err  # train can resume a crashed run
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == first  # untouched
    assert main(["train", path, "--out", out, "--epochs", "2", "-q", "--overwrite"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["fitted"]["n_iter"] == 2
    assert main(["detect", "fit", path, "--out", out]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "--resume" not in err  # detect has no --resume to offer


def test_cli_remembers_the_label_column_and_warns_in_one_line(tmp_path, capsys):
    df = _table()
    df["label"] = np.arange(len(df)) % 2
    path = _write_csv(tmp_path, df)
    run = str(tmp_path / "run")
    assert main(["train", path, "--out", run, "--epochs", "1", "--label-col", "label", "-q"]) == 0
    assert main(["embed", run, path, "--out", str(tmp_path / "codes.csv")]) == 0  # no --label-col needed again
    unlabelled = df.drop(columns=["label"]).assign(c=["z"] + ["x"] * (len(df) - 1))
    new = _write_csv(tmp_path, unlabelled, "new.csv")
    capsys.readouterr()
    assert main(["embed", run, new, "--out", str(tmp_path / "codes2.csv")]) == 0  # new data has no label column
    err = capsys.readouterr().err.strip().splitlines()
    warning = [line for line in err if line.startswith("aekit: warning:")]
    assert len(warning) == 1 and "'z'" in warning[0]
    assert len(pd.read_csv(tmp_path / "codes2.csv")) == len(df)

    det = str(tmp_path / "det")
    assert main(["detect", "fit", path, "--out", det, "--label-col", "label"]) == 0
    assert main(["detect", "score", det, path, "--out", str(tmp_path / "s.csv"), "--top", "0"]) == 0
    assert main(["detect", "score", det, new, "--out", str(tmp_path / "s2.csv"), "--top", "0"]) == 0
    assert main(["detect", "score", det, new, "--out", str(tmp_path / "s3.csv"), "--label-col", "label"]) == 2


def test_clusterer_predict_on_training_rows_gives_labels_and_probability_varies(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=1.2, size=(3, 8))
    X = np.concatenate([c + rng.normal(scale=1.5, size=(60, 8)) for c in centres]).astype(np.float32)
    c = Clusterer(3, manifold=None, max_iter=5, refine_epochs=2, random_state=0).fit(X)
    np.testing.assert_array_equal(c.predict(X), c.labels_)
    proba = c.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1.0)
    own = proba[np.arange(len(X)), c.labels_]
    assert own.min() < 0.8 and np.median(own) > 0.8  # high inside a cluster, lower at the borders
    c.save(tmp_path / "c")
    np.testing.assert_array_equal(Clusterer.load(tmp_path / "c").predict(X), c.labels_)


@pytest.fixture(scope="module")
def sweep_files(tmp_path_factory):
    """A small trained run and detector, and damaged or foreign files to feed the CLI."""
    root = tmp_path_factory.mktemp("sweep")
    table = root / "t.csv"
    _table().to_csv(table, index=False)
    assert main(["train", str(table), "--out", str(root / "run"), "--epochs", "1", "-q"]) == 0
    assert main(["detect", "fit", str(table), "--out", str(root / "det")]) == 0
    (root / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (root / "empty.csv").write_text("")
    (root / "header_only.csv").write_text("a,b\n")
    np.save(root / "obj.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    np.save(root / "flat.npy", np.ones(7, dtype=np.float32))
    (root / "imgs").mkdir()
    (root / "imgs" / "bad.png").write_bytes(b"\x89PNG not really")
    (root / "notes.xlsx").write_bytes(b"PK")
    return root


@pytest.mark.parametrize("argv, message", [
    (["train", "{root}/broken.parquet", "--out", "{root}/never"], "cannot read"),
    (["train", "{root}/empty.csv", "--out", "{root}/never"], "is empty"),
    (["train", "{root}/header_only.csv", "--out", "{root}/never"], "empty table"),
    (["train", "{root}/obj.npy", "--out", "{root}/never"], "not a plain NumPy array"),
    (["train", "{root}/flat.npy", "--out", "{root}/never"], "Reshape your data"),
    (["train", "{root}/imgs", "--out", "{root}/never"], "cannot read image"),
    (["train", "{root}/notes.xlsx", "--out", "{root}/never"], "cannot read"),
    (["train", "digits", "--image-size", "28by28", "--out", "{root}/never"], "expected HEIGHTxWIDTH"),
    (["train", "digits", "--latent-dim", "0", "--out", "{root}/r0"], "latent_dim"),
    (["train", "digits", "--epochs", "0", "--out", "{root}/r1"], "max_iter"),
    (["train", "{root}/t.csv", "--label-col", "nope", "--out", "{root}/r2"], "label column 'nope'"),
    (["train", "{root}/t.csv", "--kind", "conv", "--out", "{root}/r3"], "conv encoder needs images"),
    (["train", "{root}/t.csv", "--loss", "bce", "--out", "{root}/r4"], "needs data in [0, 1]"),
    (["embed", "{root}/det", "{root}/t.csv", "--out", "{root}/c.csv"], "holds an 'aekit.anomaly-detector'"),
    (["embed", "{root}/run", "{root}/t.csv", "--out", "{root}/c.txt"], "--out must end in"),
    (["embed", "{root}/run", "digits", "--out", "{root}/c.csv"], "must have shape (n_samples, n_features)"),
    (["detect", "score", "{root}/run", "{root}/t.csv", "--out", "{root}/s.csv"], "holds an 'aekit.autoencoder'"),
    (["detect", "score", "{root}/det", "{root}/t.csv", "--out", "{root}/s.csv", "--chunk-rows", "0"],
     "--chunk-rows must be at least 1"),
    (["detect", "fit", "{root}/t.csv", "--out", "{root}/d2", "--contamination", "0.9"], "contamination"),
    (["cluster", "{root}/t.csv", "-k", "0", "--out", "{root}/k.csv"], "n_clusters"),
    (["cluster", "{root}/t.csv", "-k", "100", "--out", "{root}/k.csv", "--no-umap"], "needs at least 100 samples"),
    (["info", "{root}/t.csv"], "run directory not found"),
    (["detect", "score", "{root}/imgs", "{root}/t.csv", "--out", "{root}/s.csv"], "imgs is not a saved aekit model"),
])
def test_cli_bad_input_sweep(sweep_files, argv, message, capsys):
    argv = [a.replace("{root}", str(sweep_files)) for a in argv]
    assert main(argv) == 2
    _one_error_line(capsys.readouterr().err, message)
    assert not (sweep_files / "never").exists()  # a failed run leaves no directory behind
