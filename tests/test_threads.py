"""Thread use fits the work: one thread for small batches, torch's default for large ones, the env var wins, and
the caller's setting is restored."""

from __future__ import annotations

import pytest
import torch

from aekit.training.threads import SMALL_WORK_MACS, thread_count, threads_for


def test_small_work_gets_one_thread_and_large_work_the_default(monkeypatch):
    monkeypatch.delenv("AEKIT_NUM_THREADS", raising=False)
    assert threads_for(SMALL_WORK_MACS / 10) == 1
    assert threads_for(SMALL_WORK_MACS * 10) == torch.get_num_threads()


def test_env_var_overrides_and_bad_values_say_so(monkeypatch):
    monkeypatch.setenv("AEKIT_NUM_THREADS", "3")
    assert threads_for(1.0) == 3 and threads_for(1e12) == 3
    monkeypatch.setenv("AEKIT_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="AEKIT_NUM_THREADS must be a whole number"):
        threads_for(1.0)


def test_thread_count_restores_the_callers_setting():
    before = torch.get_num_threads()
    with thread_count(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before


def test_training_a_small_model_runs_in_one_thread(monkeypatch, digits):
    from aekit import AutoEncoder
    from aekit.training import trainer as trainer_module

    monkeypatch.delenv("AEKIT_NUM_THREADS", raising=False)
    seen = []
    original = trainer_module.Trainer._fit

    def spy(self, *args):
        seen.append(torch.get_num_threads())
        return original(self, *args)

    monkeypatch.setattr(trainer_module.Trainer, "_fit", spy)
    torch.set_num_threads(2)
    try:
        ae = AutoEncoder(kind="conv", max_iter=1, random_state=0).fit(digits[0][:100])
    finally:
        torch.set_num_threads(1)
    assert seen == [1] and ae.budget_["threads"] == 1 and ae.budget_["max_epochs"] == 1
    assert torch.get_num_threads() == 1
