"""Two processes training one model with torch.distributed (gloo on localhost), as ``torchrun`` would start them:
identical weights on every rank, an exact resume, uneven file shards that do not hang, rank 0 alone writing."""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

WORLD = 2
TIMEOUT_S = 180  # a hang fails the test instead of blocking CI


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank: int, task, args: tuple, port: int) -> None:
    """What torchrun gives each process: its rank and the rendezvous address in the environment."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD), AEKIT_DIST_TIMEOUT="60")
    torch.set_num_threads(1)
    from aekit.training.distributed import shutdown

    try:
        task(rank, *args)
    finally:
        shutdown()


def _run(task, *args) -> None:
    ctx = mp.start_processes(_entry, args=(task, args, _free_port()), nprocs=WORLD, join=False, start_method="spawn")
    deadline = time.monotonic() + TIMEOUT_S
    while not ctx.join(timeout=5):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail(f"the {WORLD} processes did not finish within {TIMEOUT_S} s (a rank hung)")


def _digits() -> np.ndarray:
    from aekit import datasets

    X, _ = datasets.load("digits")
    return X[:300].reshape(300, -1)


def _fit_and_save(rank: int, out: str, checkpoint: str | None, resume: bool, crash_after: int | None) -> None:
    from aekit import AutoEncoder
    from aekit.training.callbacks import Progress

    if crash_after is not None:
        original = Progress.on_epoch_end

        def crash(self, trainer, state, row):
            original(self, trainer, state, row)
            if row["epoch"] == crash_after:
                raise SystemExit(0)  # both ranks stop after the checkpoint, as if the job was killed

        Progress.on_epoch_end = crash
    ae = AutoEncoder(kind="denoising", latent_dim=4, max_iter=3, batch_size=32, random_state=0,
                     checkpoint_dir=checkpoint)
    ae.fit(_digits(), resume=resume)
    save_file({k: v.contiguous() for k, v in ae.model_.state_dict().items()}, f"{out}/rank{rank}.safetensors")
    pd.DataFrame(ae.history_).to_csv(f"{out}/history{rank}.csv", index=False)


def _weights(path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


@pytest.mark.slow
def test_every_rank_ends_with_the_same_weights(tmp_path):
    _run(_fit_and_save, str(tmp_path), None, False, None)
    w0, w1 = _weights(tmp_path / "rank0.safetensors"), _weights(tmp_path / "rank1.safetensors")
    for name in w0:
        assert torch.equal(w0[name], w1[name]), name
    history = pd.read_csv(tmp_path / "history0.csv")
    assert list(history["world_size"]) == [2, 2, 2]
    assert history["val_total"].iloc[-1] < history["val_total"].iloc[0]


@pytest.mark.slow
def test_a_two_process_run_resumes_exactly(tmp_path):
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    straight.mkdir()
    broken.mkdir()
    _run(_fit_and_save, str(straight), str(straight / "ck"), False, None)
    _run(_fit_and_save, str(broken), str(broken / "ck"), False, 1)  # both processes stop after epoch 1
    assert (broken / "ck" / "checkpoint.safetensors").is_file() and not (broken / "rank0.safetensors").exists()
    _run(_fit_and_save, str(broken), str(broken / "ck"), True, None)
    for rank in range(WORLD):
        a, b = _weights(straight / f"rank{rank}.safetensors"), _weights(broken / f"rank{rank}.safetensors")
        for name in a:
            assert torch.equal(a[name], b[name]), (rank, name)


def _cli_train(rank: int, data: str, out: str) -> None:
    from aekit.cli import main

    code = main(["train", data, "--streaming", "--epochs", "2", "--batch-size", "16", "--out", out, "-q"])
    with open(f"{out}.rank{rank}.exit", "w") as fh:
        fh.write(str(code))


@pytest.mark.slow
def test_uneven_file_shards_train_without_hanging_and_rank_0_writes(tmp_path):
    data = tmp_path / "parts"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i, n in enumerate([400, 30, 10]):  # rank 0 reads two files, rank 1 one: very different shares
        pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd")).to_parquet(data / f"p{i}.parquet")
    out = tmp_path / "run"
    _run(_cli_train, str(data), str(out))
    assert [(tmp_path / f"run.rank{r}.exit").read_text() for r in range(WORLD)] == ["0", "0"]
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2] and list(history["world_size"]) == [2, 2]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.safetensors", "config.json", "history.csv",
                                                     "model.safetensors", "preprocess.json", "report.html", "run.json"]


def _cli_score(rank: int, run_dir: str, data: str, out: str) -> None:
    from aekit.cli import main

    assert main(["detect", "score", run_dir, data, "--out", out, "--chunk-rows", "50"]) == 0


@pytest.mark.slow
def test_scoring_splits_files_between_processes_and_rank_0_joins_them(tmp_path):
    from aekit import AnomalyDetector

    data = tmp_path / "parts"
    data.mkdir()
    rng = np.random.default_rng(1)
    frames = [pd.DataFrame(rng.normal(size=(n, 3)), columns=list("abc")) for n in (120, 80, 60)]
    for i, frame in enumerate(frames):
        frame.to_parquet(data / f"p{i}.parquet")
    table = pd.concat(frames, ignore_index=True)
    det = AnomalyDetector(n_estimators=2, max_iter=3, random_state=0).fit(table)
    det.save(tmp_path / "det")
    out = tmp_path / "scores.csv"
    _run(_cli_score, str(tmp_path / "det"), str(data), str(out))
    scored = pd.read_csv(out).sort_values("id")
    assert list(scored["id"]) == list(range(260))
    np.testing.assert_allclose(scored["score"], det.decision_function(table), rtol=1e-5)
    assert not list(tmp_path.glob(".scores.rank*"))


def _one_rank_vanishes(rank: int, data: str, out: str) -> None:
    import contextlib
    import io

    from aekit.cli import main
    from aekit.training.callbacks import Progress

    original = Progress.on_epoch_end

    def vanish(self, trainer, state, row):
        original(self, trainer, state, row)
        if rank == 1 and row["epoch"] == 1:
            os._exit(0)  # killed without a word, as by the OOM killer

    Progress.on_epoch_end = vanish
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["train", data, "--streaming", "--epochs", "5", "--out", out, "-q"])
    with open(f"{out}.rank{rank}.exit", "w") as fh:
        fh.write(f"{code}\n{err.getvalue()}")


@pytest.mark.slow
def test_a_rank_that_dies_makes_the_others_stop_with_a_message(tmp_path):
    data = tmp_path / "t.parquet"
    pd.DataFrame(np.random.default_rng(0).normal(size=(300, 4)), columns=list("abcd")).to_parquet(data)
    out = tmp_path / "run"
    _run(_one_rank_vanishes, str(data), str(out))
    code, message = (tmp_path / "run.rank0.exit").read_text().split("\n", 1)
    assert code == "1"
    assert "rank 0 of 2" in message and "another process of this job has probably died" in message
    assert "--resume" in message and "Traceback" not in message
    assert (out / "checkpoint.safetensors").is_file()  # epoch 1 was saved: the run can be resumed
