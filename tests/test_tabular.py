"""Tests for aekit.data.tabular.TabularPreprocessor and aekit.data.files.read_table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aekit.data import TabularPreprocessor, read_table
from aekit.data.tabular import ColumnBlock, UnseenCategoryWarning


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, np.nan, 50.0],
            "color": ["red", None, "blue", "red"],
            "count": [1, 2, 3, 6],
            "flag": [True, False, True, True],
            "size": pd.Categorical(["S", "L", "S", None]),
            "const": [7.0, 7.0, 7.0, 7.0],
        }
    )


def test_layout_names_and_blocks(frame):
    pre = TabularPreprocessor().fit(frame)
    assert pre.feature_names_out == [
        "age", "color=blue", "color=red", "count", "flag=False", "flag=True", "size=L", "size=S", "const",
    ]
    assert pre.blocks == [
        ColumnBlock("age", "numeric", 0, 1),
        ColumnBlock("color", "categorical", 1, 3),
        ColumnBlock("count", "numeric", 3, 4),
        ColumnBlock("flag", "categorical", 4, 6),
        ColumnBlock("size", "categorical", 6, 8),
        ColumnBlock("const", "numeric", 8, 9),
    ]
    assert pre.n_features_out == 9 and pre.columns == list(frame.columns)


def test_transform_values_and_observed_mask(frame):
    X, obs = TabularPreprocessor().fit_transform(frame)
    assert X.dtype == np.float32 and obs.dtype == np.float32 and X.shape == obs.shape == (4, 9)
    # age: mean 100/3, population std of the 3 observed values; missing -> 0 and unobserved
    ages = np.array([20.0, 30.0, 50.0])
    np.testing.assert_allclose(X[[0, 1, 3], 0], (ages - ages.mean()) / ages.std(), rtol=1e-6)
    assert X[2, 0] == 0.0 and obs[:, 0].tolist() == [1, 1, 0, 1]
    # color: one-hot, missing row is all zero and unobserved on both columns
    assert X[:, 1:3].tolist() == [[0, 1], [0, 0], [1, 0], [0, 1]]
    assert obs[:, 1:3].tolist() == [[1, 1], [0, 0], [1, 1], [1, 1]]
    # constant column: std falls back to 1, so it is centred, not divided by zero
    assert np.all(X[:, 8] == 0.0) and np.all(np.isfinite(X))
    assert X[:, 4:6].tolist() == [[0, 1], [1, 0], [0, 1], [0, 1]]
    assert obs[3, 6:8].tolist() == [0, 0] and X[3, 6:8].tolist() == [0, 0]


def test_unseen_category_and_missing_columns(frame):
    pre = TabularPreprocessor().fit(frame)
    new = frame.iloc[:1].copy()
    new["color"] = ["green"]
    with pytest.warns(UnseenCategoryWarning, match="'green'.*all-zero one-hot"):
        X, obs = pre.transform(new)
    assert X[0, 1:3].tolist() == [0, 0] and obs[0, 1:3].tolist() == [1, 1]
    with pytest.raises(ValueError, match="'color'.*not seen in fit.*'green'"):
        pre.transform(new, unseen="error")
    with pytest.raises(ValueError, match=r"\['age', 'flag'\]"):
        pre.transform(frame.drop(columns=["age", "flag"]))
    with pytest.raises(ValueError, match="not fitted"):
        TabularPreprocessor().transform(frame)
    with pytest.raises(TypeError, match="DataFrame"):
        pre.transform(np.zeros((2, 6)))


def test_inverse_transform_restores_values_and_dtypes(frame):
    pre = TabularPreprocessor().fit(frame)
    complete = frame.fillna({"age": 40.0, "color": "blue", "size": "L"})
    back = pre.inverse_transform(pre.transform(complete)[0])
    assert list(back.columns) == list(frame.columns)
    np.testing.assert_allclose(back["age"], complete["age"], rtol=1e-6)
    assert back["count"].dtype == np.int64 and back["count"].tolist() == complete["count"].tolist()
    assert back["flag"].dtype == bool and back["flag"].tolist() == complete["flag"].tolist()
    assert back["color"].tolist() == complete["color"].tolist()
    assert isinstance(back["size"].dtype, pd.CategoricalDtype) and back["size"].tolist() == ["S", "L", "S", "L"]
    # soft scores decode by argmax
    soft = np.zeros((1, pre.n_features_out), dtype=np.float32)
    soft[0, 1:3] = [0.7, 0.2]
    assert pre.inverse_transform(soft)["color"].tolist() == ["blue"]
    with pytest.raises(ValueError, match="9 columns"):
        pre.inverse_transform(np.zeros((2, 4)))


def test_json_roundtrip_is_exact(frame):
    pre = TabularPreprocessor().fit(frame)
    state = pre.to_dict()
    restored = TabularPreprocessor.from_dict(json.loads(json.dumps(state)))
    assert restored.to_dict() == state
    for a, b in zip(pre.transform(frame), restored.transform(frame)):
        np.testing.assert_array_equal(a, b)
    assert restored.blocks == pre.blocks


def test_from_dict_rejects_bad_state(frame):
    state = TabularPreprocessor().fit(frame).to_dict()
    with pytest.raises(ValueError, match="format"):
        TabularPreprocessor.from_dict({**state, "format": "aekit.tabular-preprocessor/99"})
    with pytest.raises(ValueError, match=r"unknown keys \['extra'\]"):
        TabularPreprocessor.from_dict({**state, "extra": 1})
    with pytest.raises(ValueError, match=r"missing keys \['columns'\]"):
        TabularPreprocessor.from_dict({"format": state["format"]})
    broken = json.loads(json.dumps(state))
    del broken["columns"][0]["std"]
    with pytest.raises(ValueError, match=r"column 0: .*missing keys \['std'\]"):
        TabularPreprocessor.from_dict(broken)
    broken = json.loads(json.dumps(state))
    broken["columns"][1]["categories"] = ["a", "a"]
    with pytest.raises(ValueError, match="distinct strings"):
        TabularPreprocessor.from_dict(broken)


def test_fit_rejects_unusable_input():
    with pytest.raises(ValueError, match="at least one row"):
        TabularPreprocessor().fit(pd.DataFrame({"a": []}))
    with pytest.raises(ValueError, match="infinite"):
        TabularPreprocessor().fit(pd.DataFrame({"a": [1.0, np.inf]}))
    with pytest.raises(TypeError, match="datetime"):
        TabularPreprocessor().fit(pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-02"])}))


def test_wide_categorical_offsets_do_not_overflow():
    # 200 numeric columns push a categorical block past offset 127 (int8 category codes)
    df = pd.DataFrame({f"n{i}": [0.0, 1.0] for i in range(200)})
    df["c"] = ["x", "y"]
    X, _ = TabularPreprocessor().fit_transform(df)
    assert X[:, 200:].tolist() == [[1, 0], [0, 1]]


def test_read_table_formats_and_errors(tmp_path, frame):
    csv = tmp_path / "t.csv"
    frame.to_csv(csv, index=False)
    df = read_table(csv)
    assert df.shape == (4, 6) and df["count"].tolist() == [1, 2, 3, 6] and pd.isna(df.loc[1, "color"])
    tsv = tmp_path / "t.TSV"
    frame.to_csv(tsv, index=False, sep="\t")
    assert read_table(tsv).shape == (4, 6)
    txt = tmp_path / "t.txt"
    txt.write_text("a;b\n1;x\n2;y\n")
    assert read_table(txt).columns.tolist() == ["a", "b"]
    pq = tmp_path / "t.parquet"
    frame.to_parquet(pq)
    back = read_table(pq)
    assert back["flag"].dtype == bool and isinstance(back["size"].dtype, pd.CategoricalDtype)

    with pytest.raises(ValueError, match=r"\.xlsx.*\.csv, \.tsv, \.txt, \.parquet, \.pq"):
        read_table(tmp_path / "t.xlsx")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match="empty table"):
        read_table(tmp_path / "header.csv")
    (tmp_path / "bad.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.parquet"):
        read_table(tmp_path / "bad.parquet")
