"""Training on files read in chunks: every training row once per epoch, validation rows never, memory bounded by
the buffer, the same split on every read, clear errors for files that do not fit together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from aekit import AutoEncoder
from aekit.cli import main
from aekit.data import StreamBatches, TableFiles
from aekit.data.table_files import hashed_uniform


def _table(rng, n: int, start: int = 0) -> pd.DataFrame:
    z = rng.normal(size=(n, 2))
    df = pd.DataFrame(z @ rng.normal(size=(2, 5)) + 0.05 * rng.normal(size=(n, 5)), columns=list("abcde"))
    df.insert(0, "row", np.arange(start, start + n, dtype=np.float64))
    return df


@pytest.fixture
def folder(tmp_path, rng):
    """Three Parquet files, 900 rows in row groups of 100 (9 units), with a `row` column numbering the rows."""
    d = tmp_path / "parts"
    d.mkdir()
    for i in range(3):
        _table(rng, 300, 300 * i).to_parquet(d / f"part-{i}.parquet", row_group_size=100)
    return d


def _rows(frame: pd.DataFrame) -> tuple[np.ndarray, None]:
    return frame.to_numpy(np.float32), None


def test_an_epoch_gives_every_training_row_once_and_no_validation_row(folder):
    files = TableFiles(folder, chunk_rows=32)
    assert files.n_rows == 900 and len(files.units) == 9
    stream = StreamBatches(files, _rows, validation_share=0.2, seed=3, buffer_rows=128)
    held_out = np.flatnonzero(hashed_uniform(np.arange(900), 2 * 3 + 1) < 0.2)
    assert 120 < len(held_out) < 240 and len(stream) == 900 - len(held_out)
    torch.manual_seed(0)
    batches = list(stream.epoch(50))
    seen = np.concatenate([b.x[:, 0].numpy() for b in batches]).astype(int)
    assert sorted(seen) == sorted(set(range(900)) - set(held_out))
    assert all(len(b) == 50 for b in batches[:-1]) and len(batches) == stream.batches_per_epoch(50)
    assert not np.array_equal(seen, np.sort(seen))  # shuffled, not file order
    torch.manual_seed(0)
    again = np.concatenate([b.x[:, 0].numpy() for b in stream.epoch(50)]).astype(int)
    np.testing.assert_array_equal(seen, again)  # the order is seeded by torch's generator, as for in-memory data


def test_the_survey_holds_out_the_hashed_rows_and_samples_the_rest(folder):
    files = TableFiles(folder, chunk_rows=64)
    survey = files.survey(validation_share=0.2, sample_rows=300, seed=3)
    held_out = np.flatnonzero(hashed_uniform(np.arange(900), 7) < 0.2)
    np.testing.assert_array_equal(np.sort(survey.validation["row"].to_numpy().astype(int)), held_out)
    sample = survey.sample["row"].to_numpy().astype(int)
    assert 200 < len(sample) < 400 and not set(sample) & set(held_out)
    assert sample.min() < 150 and sample.max() > 750  # spread over all files, not their first rows


def test_memory_is_the_buffer_not_the_data(folder, monkeypatch):
    """The first batch comes after about one buffer of rows has been read, not after the whole data."""
    files = TableFiles(folder, chunk_rows=20)
    read = []
    original = files.read

    def counting(unit, rows=None):
        for ids, frame in original(unit, rows):
            read.append(len(ids))
            yield ids, frame

    monkeypatch.setattr(files, "read", counting)
    stream = StreamBatches(files, _rows, buffer_rows=100)
    first = next(iter(stream.epoch(25)))
    assert len(first) == 25 and sum(read) <= 100 + 4 * 20


def test_ranks_split_units_and_all_make_the_same_number_of_updates(tmp_path, rng):
    d = tmp_path / "uneven"
    d.mkdir()
    for i, n in enumerate([500, 40, 30]):  # three units of very different sizes
        _table(rng, n, 1000 * i).to_parquet(d / f"p{i}.parquet")
    stream = StreamBatches(TableFiles(d), _rows, buffer_rows=64)
    per_rank = []
    for rank in (0, 1):
        batches = list(stream.epoch(16, rank=rank, world=2, generator=torch.Generator().manual_seed(5)))
        per_rank.append(np.concatenate([b.x[:, 0].numpy() for b in batches]))
        assert len(batches) == stream.batches_per_epoch(16, world=2)
    assert len(per_rank[0]) == len(per_rank[1]) == 570 // 2


def test_one_unit_is_split_between_ranks_by_row(tmp_path, rng):
    path = tmp_path / "one.csv"
    _table(rng, 101).to_csv(path, index=False)
    stream = StreamBatches(TableFiles(path), _rows)
    shares = [np.concatenate([b.x[:, 0].numpy() for b in stream.epoch(8, rank=r, world=2,
                                                                         generator=torch.Generator())])
              for r in (0, 1)]
    assert len(shares[0]) == len(shares[1]) == 50
    assert not set(shares[0]) & set(shares[1])
    eval_shares = [np.concatenate([b.x[:, 0].numpy() for b in stream.sequential(8, rank=r, world=2)]) for r in (0, 1)]
    assert sorted(np.concatenate(eval_shares).astype(int)) == list(range(101))


def test_csv_and_parquet_stream_alike(tmp_path, rng):
    df = _table(rng, 250)
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    for path in (tmp_path / "t.csv", tmp_path / "t.parquet"):
        files = TableFiles(path, chunk_rows=64)
        assert files.n_rows == 250 and files.columns == list(df.columns)
        got = pd.concat([f for u in files.units for _, f in files.read(u)], ignore_index=True)
        np.testing.assert_allclose(got.to_numpy(), df.to_numpy())


def test_files_that_do_not_fit_together_are_named(tmp_path, rng):
    d = tmp_path / "mixed"
    d.mkdir()
    _table(rng, 20).to_parquet(d / "a.parquet")
    _table(rng, 20).drop(columns=["e"]).to_parquet(d / "b.parquet")
    with pytest.raises(ValueError, match=r"b\.parquet has different columns from .*a\.parquet.*missing \['e'\]"):
        TableFiles(d)
    (d / "b.parquet").unlink()
    _table(rng, 0).to_parquet(d / "c.parquet")
    with pytest.warns(UserWarning, match=r"c\.parquet holds no rows; skipped"):
        assert TableFiles(d).n_rows == 20
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match="holds no .*files to stream"):
        TableFiles(tmp_path / "empty_dir")
    with pytest.raises(FileNotFoundError, match="no file or folder"):
        TableFiles(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="label column 'y' is not in"):
        TableFiles(d, label_column="y")
    (d / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ValueError, match=r"cannot read .*broken\.parquet"):
        TableFiles(d)


def test_an_autoencoder_trains_on_streamed_files_like_on_the_table(folder):
    frame = pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))], ignore_index=True)
    params = {"kind": "deep", "latent_dim": 2, "max_iter": 15, "batch_size": 32, "random_state": 0}
    streamed = AutoEncoder(**params).fit(TableFiles(folder, chunk_rows=64))
    in_memory = AutoEncoder(**params).fit(frame)
    assert streamed.budget_["training_rows"] + streamed.budget_["validation_rows"] == 900
    assert streamed.history_[-1]["val_total"] < 0.5 * streamed.history_[0]["val_total"]
    error = streamed.reconstruction_error(frame).mean()
    assert error < 2 * in_memory.reconstruction_error(frame).mean()
    assert list(streamed.feature_names_in_) == list(frame.columns)
    with pytest.raises(ValueError, match="needs the data in memory"):
        AutoEncoder(kind="stacked", max_iter=1).fit(TableFiles(folder))


def test_a_streamed_run_resumes_exactly(folder, tmp_path, monkeypatch):
    from aekit.training.callbacks import Progress

    params = {"kind": "deep", "latent_dim": 2, "max_iter": 3, "batch_size": 64, "random_state": 0}
    straight = AutoEncoder(**params, checkpoint_dir=str(tmp_path / "a")).fit(TableFiles(folder, chunk_rows=50))
    original = Progress.on_epoch_end

    def crash(self, trainer, state, row):
        original(self, trainer, state, row)
        if row["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "on_epoch_end", crash)
    with pytest.raises(KeyboardInterrupt):
        AutoEncoder(**params, checkpoint_dir=str(tmp_path / "b")).fit(TableFiles(folder, chunk_rows=50))
    monkeypatch.setattr(Progress, "on_epoch_end", original)
    resumed = AutoEncoder(**params, checkpoint_dir=str(tmp_path / "b")).fit(TableFiles(folder, chunk_rows=50),
                                                                            resume=True)
    for name, value in straight.model_.state_dict().items():
        assert torch.equal(resumed.model_.state_dict()[name], value), name


def test_cli_trains_streaming(folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(folder), "--streaming", "--epochs", "2", "--out", str(out), "-q"]) == 0
    assert (out / "model.safetensors").is_file() and (out / "report.html").is_file()
    assert "(900, 6), streamed" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "run" / "config.json"), "--streaming", "--out", str(tmp_path / "x")]) == 2
    assert "give Parquet or CSV files" in capsys.readouterr().err


def test_a_detector_fits_on_rows_sampled_from_streamed_files(tmp_path, rng, capsys):
    from sklearn.metrics import roc_auc_score

    from aekit import AnomalyDetector

    d = tmp_path / "events"
    d.mkdir()
    for i in range(2):
        df = _table(rng, 600, 600 * i).drop(columns=["row"])
        outliers = rng.random(600) < 0.05
        df.loc[outliers, "c"] += 6.0
        df["is_outlier"] = outliers.astype(int)
        df.to_parquet(d / f"p{i}.parquet", row_group_size=200)
    files = TableFiles(d, label_column="is_outlier")
    det = AnomalyDetector(random_state=0)
    det.STREAM_FIT_ROWS = 500  # a sample, not every row
    det.fit(files)
    assert 400 < len(det.decision_scores_) < 600
    frame = pd.concat([pd.read_parquet(p) for p in sorted(d.glob("*.parquet"))], ignore_index=True)
    scores = det.decision_function(frame.drop(columns=["is_outlier"]))
    assert roc_auc_score(frame["is_outlier"], scores) > 0.9
    out = tmp_path / "det"
    assert main(["detect", "fit", str(d), "--streaming", "--label-col", "is_outlier", "--out", str(out)]) == 0
    assert "rows sampled from 1,200" in (out / "report.html").read_text()


def test_a_category_the_sample_never_saw_is_reported_once(tmp_path, rng):
    from aekit.data.input import InputAdapter

    frames = []
    for i in range(4):
        df = _table(rng, 100, 100 * i)
        df["kind"] = "usual" if i < 3 else "rare"  # only the last file has the rare category
        frames.append(df)
        df.to_parquet(tmp_path / f"p{i}.parquet")
    files = TableFiles(tmp_path, chunk_rows=25)
    adapter = InputAdapter.fit(frames[0])  # fitted on a sample without "rare"
    stream = StreamBatches(files, adapter.transform, buffer_rows=50)
    with pytest.warns(UserWarning) as record:
        rows = sum(len(b) for b in stream.epoch(10))
    messages = [str(w.message) for w in record if "not seen in fit" in str(w.message)]
    assert rows == 400 and len(messages) == 1 and "further chunks" in messages[0]


def test_detect_score_reads_a_folder_of_tables(tmp_path, rng, capsys):
    from aekit import AnomalyDetector

    d = tmp_path / "parts"
    d.mkdir()
    frames = [_table(rng, n, 0).drop(columns=["row"]) for n in (40, 25)]
    for i, f in enumerate(frames):
        f.assign(y=0).to_parquet(d / f"p{i}.parquet")
    table = pd.concat(frames, ignore_index=True)
    det = AnomalyDetector(n_estimators=2, max_iter=2, random_state=0).fit(table)
    det.save(tmp_path / "det")
    out = tmp_path / "scores.csv"
    assert main(["detect", "score", str(tmp_path / "det"), str(d), "--label-col", "y", "--out", str(out)]) == 0
    scored = pd.read_csv(out)
    assert list(scored["id"]) == list(range(65))
    np.testing.assert_allclose(scored["score"], det.decision_function(table), rtol=1e-5)


def test_a_folder_of_tables_without_streaming_says_how_to_read_it(folder, tmp_path, capsys):
    assert main(["train", str(folder), "--out", str(tmp_path / "r")]) == 2
    assert "holds Parquet/CSV tables, not images: train on them with --streaming" in capsys.readouterr().err
