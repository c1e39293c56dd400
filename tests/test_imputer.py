"""The Imputer: fills holes from the observed cells, keeps observed cells and dtypes, draws multiple
imputations whose spread follows the difficulty, saves and loads, and says clearly what it cannot do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from aekit import Imputer
from aekit.cli import main


def _table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """b follows a closely; noise is unpredictable; colour is a's sign; count is an int column without holes."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    return pd.DataFrame({
        "a": a,
        "b": 2 * a + rng.normal(scale=0.1, size=n),
        "noise": rng.normal(size=n),
        "colour": pd.Series(np.where(a > 0, "red", "blue"), dtype=object),
        "count": rng.integers(0, 9, size=n),
        "size": pd.Categorical(np.where(a > 0.5, "L", "S"), categories=["S", "M", "L"]),
    })


def _holes(df: pd.DataFrame, rate: float, seed: int = 1, skip: tuple[str, ...] = ("count",)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mask = rng.random(df.shape) < rate
    mask[:, [df.columns.get_loc(c) for c in skip]] = False
    return df.mask(mask)


@pytest.fixture(scope="module")
def fitted():
    full = _table(1000)
    holed = _holes(full, 0.2)
    imp = Imputer(max_iter=60, check_fraction=0.1, random_state=0).fit(holed)
    return full, holed, imp


def test_fills_every_hole_keeps_observed_cells_and_dtypes(fitted):
    _, holed, imp = fitted
    out = imp.transform(holed)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(holed.columns)
    assert not out.isna().any().any()
    observed = holed.notna()
    for col in holed.columns:
        assert (out.loc[observed[col], col] == holed.loc[observed[col], col]).all()
    assert out["count"].dtype == holed["count"].dtype
    assert set(out["colour"]) <= {"red", "blue"}
    assert out["size"].dtype == holed["size"].dtype  # a categorical column with holes stays categorical
    assert holed["size"].isna().any() and set(out["size"]) <= {"S", "L"}


def test_fills_predict_from_the_other_columns(fitted):
    full, holed, imp = fitted
    out = imp.transform(holed)
    holes = holed["b"].isna()
    ours = np.sqrt(np.mean((out.loc[holes, "b"] - full.loc[holes, "b"]) ** 2))
    mean_fill = np.sqrt(np.mean((holed["b"].mean() - full.loc[holes, "b"]) ** 2))
    assert ours < 0.5 * mean_fill  # b is nearly 2a: a good filler is far better than the column mean
    colour_holes = holed["colour"].isna() & holed["a"].notna()
    assert (out.loc[colour_holes, "colour"] == full.loc[colour_holes, "colour"]).mean() > 0.8


def test_held_out_check_tells_easy_from_hard_columns(fitted):
    _, _, imp = fitted
    check = imp.check_.set_index("column")
    rmse = check["rmse (std units)"]
    assert (rmse["a"] + rmse["b"]) / 2 < 0.7 < rmse["noise"]  # a and b predict each other; noise is unpredictable
    assert imp.missing_share_["count"] == 0.0 and 0.1 < imp.missing_share_["a"] < 0.3


def test_multiple_draws_differ_where_uncertain_and_agree_on_observed_cells(fitted):
    _, holed, imp = fitted
    draws = imp.sample(holed, n_draws=6, random_state=0)
    assert len(draws) == 6
    stack = {c: np.stack([d[c].to_numpy(dtype=float) for d in draws]) / holed[c].std() for c in ("b", "noise")}
    for c, values in stack.items():
        observed = holed[c].notna().to_numpy()
        assert np.ptp(values[:, observed], axis=0).max() == 0
    spread = {c: values[:, holed[c].isna().to_numpy()].std(axis=0).mean() for c, values in stack.items()}
    assert spread["noise"] > spread["b"] > 0.05  # the unpredictable column varies more between draws


def test_arrays_in_arrays_out_and_pipeline(rng):
    full = _table().drop(columns=["colour", "size"]).to_numpy(dtype=float)
    holed = full.copy()
    holed[rng.random(holed.shape) < 0.1] = np.nan
    imp = Imputer(max_iter=20, random_state=0)
    out = imp.fit_transform(holed)
    assert isinstance(out, np.ndarray) and out.shape == holed.shape and np.isfinite(out).all()
    assert np.array_equal(out[~np.isnan(holed)], holed[~np.isnan(holed)])
    y = full[:, 0] * 3
    pipe = make_pipeline(Imputer(max_iter=5, random_state=0), LinearRegression()).fit(holed, y)
    assert pipe.predict(holed).shape == (len(y),)
    assert list(imp.get_feature_names_out()) == [f"x{i}" for i in range(full.shape[1])]


def test_better_than_mean_filling_on_correlated_data(rng):
    full = _table(600, seed=3)[["a", "b"]].to_numpy()
    holed = full.copy()
    mask = rng.random(full.shape) < 0.2
    mask[mask.all(axis=1)] = False
    holed[mask] = np.nan
    ours = Imputer(max_iter=60, random_state=0).fit_transform(holed)
    mean = SimpleImputer().fit_transform(holed)
    err = lambda f: np.sqrt(np.mean(((f - full) / full.std(axis=0))[mask] ** 2))
    assert err(ours) < 0.5 * err(mean)


def test_save_and_load_fill_the_same(fitted, tmp_path):
    _, holed, imp = fitted
    imp.save(tmp_path / "imp")
    again = Imputer.load(tmp_path / "imp")
    pd.testing.assert_frame_equal(again.transform(holed), imp.transform(holed))
    pd.testing.assert_frame_equal(again.check_, imp.check_)


@pytest.mark.parametrize("bad, error, message", [
    (lambda df: df.assign(colour="green"), ValueError, "'colour'.*not seen in fit"),
    (lambda df: df.drop(columns="noise"), ValueError, "noise"),
    (lambda df: df.iloc[:0], ValueError, "empty"),
])
def test_transform_errors_name_the_problem(fitted, bad, error, message):
    _, holed, imp = fitted
    with pytest.raises(error, match=message):
        imp.transform(bad(holed))


def test_fit_errors_name_the_problem():
    df = _table(50)
    with pytest.raises(ValueError, match="'noise' has no values"):
        Imputer(max_iter=2).fit(df.assign(noise=np.nan))
    with pytest.raises(ValueError, match="at least 2 rows"):
        Imputer(max_iter=2).fit(df.iloc[:1])
    with pytest.raises(TypeError, match="str"):
        Imputer(max_iter=2).fit("table.csv")
    with pytest.raises(ValueError, match="n_draws"):
        Imputer(max_iter=2, random_state=0).fit(df).sample(df, n_draws=0)
    array = df.drop(columns=["colour", "size"]).to_numpy(dtype=float)
    imp = Imputer(max_iter=2, random_state=0).fit(array)
    with pytest.raises(ValueError, match="4 columns"):
        imp.transform(array[:, :3])


def test_cli_fits_fills_saves_and_reuses(tmp_path, capsys):
    holed = _holes(_table(200), 0.15)
    data = tmp_path / "holes.csv"
    holed.to_csv(data, index=False)
    out, run = tmp_path / "filled.csv", tmp_path / "run"
    assert main(["impute", str(data), "--out", str(out), "--save", str(run)]) == 0
    filled = pd.read_csv(out)
    assert filled.shape == holed.shape and not filled.isna().any().any()
    assert {"report.html", "config.json"} <= {p.name for p in run.iterdir()}
    html = (run / "report.html").read_text()
    assert "held-out" in html and "noise" in html
    err = capsys.readouterr().err
    assert "rmse" in err and f"filled {int(holed.isna().sum().sum())} missing cells" in err

    again = tmp_path / "again.parquet"
    assert main(["impute", "--model", str(run), str(data), "--out", str(again)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(again), filled, check_dtype=False)

    assert main(["impute", str(data), "--out", str(out), "--save", str(run)]) == 2
    assert "--save" in capsys.readouterr().err
    assert main(["impute", str(data), "--out", str(tmp_path / "x.npy")]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err


@pytest.mark.parametrize("columns, width", [(4, 64), (12, 128), (24, 256), (60, 256)])
def test_default_hidden_width_follows_the_table(columns, width):
    """Hidden layers about 8x the encoded width, 64 to 256: tables with many related columns underfit at 2x, narrow
    ones overfit wider (chosen on the benchmark's design tables)."""
    X = np.random.default_rng(0).normal(size=(50, columns))
    X[0, 0] = np.nan
    imp = Imputer(max_iter=1, random_state=0).fit(X)
    assert list(imp.autoencoder_.model_.config.encoder["hidden"]) == [width, width]


def test_a_hole_is_not_read_as_a_value_at_the_column_mean(fitted):
    """The encoder is told which cells are missing: a hole and a cell at the column mean (0 once standardised)
    give different codes; without the indicator they are the same input."""
    _, holed, imp = fitted
    ae = imp.autoencoder_
    pre = ae.preprocessor_
    rows = holed.dropna().head(20)
    at_mean = rows.assign(noise=pre.inverse_transform(np.zeros((1, pre.n_features_out)))["noise"].iloc[0])
    missing = rows.assign(noise=np.nan)
    assert np.abs(ae.transform(missing) - ae.transform(at_mean)).max() > 1e-3
    np.testing.assert_array_equal(ae.encoder_.transform(missing), ae.transform(missing))  # the kept encoder too
    shown = ae.model_space(missing)
    shown[:, 2] = np.nan  # the Imputer fills a hole from the model told it is missing, not shown a 0
    expected = pre.inverse_transform(ae.reconstruct_shown(shown))["noise"].to_numpy()
    np.testing.assert_allclose(imp.transform(missing)["noise"].to_numpy(dtype=float), expected, rtol=1e-5)
    plain = Imputer(missing_indicator=False, max_iter=2, random_state=0).fit(holed).autoencoder_
    at_mean = rows.assign(noise=plain.preprocessor_.inverse_transform(
        np.zeros((1, pre.n_features_out)))["noise"].iloc[0])
    np.testing.assert_allclose(plain.transform(missing), plain.transform(at_mean), atol=1e-5)
    x = plain.model_space(rows)
    holed_x = x.copy()
    holed_x[:, 2] = np.nan  # "not shown": read as 0 by a model without the flag, flagged by one with it
    np.testing.assert_array_equal(plain.reconstruct_shown(holed_x), plain.reconstruct_shown(np.nan_to_num(holed_x)))
    assert np.abs(ae.reconstruct_shown(holed_x) - ae.reconstruct_shown(np.nan_to_num(holed_x))).max() > 1e-3
    # a hidden categorical cell hides its whole one-hot run in training, as a missing one is
    blocks = ae.input_.blocks
    assert ae.config_.corruption["groups"] == [b["stop"] - b["start"] for b in blocks]
    assert max(ae.config_.corruption["groups"]) == 2  # colour and size (its M never occurs) are one-hot
