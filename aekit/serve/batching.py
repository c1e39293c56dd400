"""Micro-batching: concurrent small requests to one operation of one model become one call of the estimator.

A model call has a fixed cost (Python overhead, a kernel launch, the detector's neighbour index) that one-row
requests pay every time; stacking the rows that arrive together pays it once. The :class:`MicroBatcher` of an
operation collects requests until ``max_rows`` rows are waiting or ``max_wait`` seconds have passed since the
first one, then runs them as one call on the model's worker thread and hands each request its own rows of the
result. Only requests that stack cleanly share a call: the same parameters and the same layout (DataFrame
columns and dtypes, or array shape and dtype). When a shared call fails or warns, each request is run alone, so
a bad request gets its own error and never spoils its neighbours' answers.

This is what serving systems call dynamic or adaptive batching (e.g. Clipper, NSDI 2017; Triton's dynamic
batcher); the two bounds keep the added latency at most ``max_wait``.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._utils import one_line


def invoke(call: Callable[[Any], Any], inputs: Any) -> tuple[Any, list[str]]:
    """``call(inputs)`` with the warnings it raised, as one-line messages (they go back with the answer)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(inputs)
    return result, [one_line(w.message) for w in caught]


def layout(inputs: Any) -> tuple:
    """What two inputs must share to be stacked: the kind, and the columns and dtypes or the row shape."""
    if isinstance(inputs, pd.DataFrame):
        return ("frame", tuple(map(str, inputs.columns)), tuple(map(str, inputs.dtypes)))
    if isinstance(inputs, np.ndarray):
        return ("array", inputs.shape[1:], inputs.dtype.str)
    return (type(inputs).__name__,)


def stack(parts: list[Any]) -> Any:
    """Inputs of one layout as one input."""
    if isinstance(parts[0], pd.DataFrame):
        return pd.concat(parts, ignore_index=True)
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return [item for part in parts for item in part]


def split(result: Any, counts: list[int]) -> list[Any]:
    """A stacked call's result cut back into each request's rows."""
    bounds = np.cumsum([0, *counts])
    if isinstance(result, pd.DataFrame):
        return [result.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return [result[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass
class _Job:
    inputs: Any
    rows: int
    key: tuple
    params: dict[str, Any]
    future: asyncio.Future = field(repr=False)
    arrived: float = 0.0


class MicroBatcher:
    """Stacks concurrent row-wise calls of one operation of one model.

    Parameters
    ----------
    call : callable
        ``call(inputs, params) -> result``, row-wise: row ``i`` of the result depends only on row ``i`` of the input.
    executor : Executor
        Where the model runs (the model's one worker thread: calls of one model never overlap).
    max_rows : int
        Most rows in one call; a request at least this large is run on its own.
    max_wait : float
        Most seconds a request waits for others to join it.
    on_call : callable, optional
        ``on_call(rows, seconds)`` after every model call, for the server's metrics.
    """

    def __init__(self, call: Callable[[Any, dict[str, Any]], Any], executor: Executor, *, max_rows: int,
                 max_wait: float, on_call: Callable[[int, float], None] | None = None) -> None:
        self.call, self.executor = call, executor
        self.max_rows, self.max_wait = int(max_rows), float(max_wait)
        self.on_call = on_call
        self._pending: list[_Job] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def submit(self, inputs: Any, rows: int, params: dict[str, Any]) -> tuple[Any, list[str]]:
        """The result for ``inputs`` (``rows`` rows) and its warnings, from a call it may share with others."""
        loop = asyncio.get_running_loop()
        if rows >= self.max_rows:
            return (await loop.run_in_executor(self.executor, self._run, [
                _Job(inputs, rows, (), params, loop.create_future())]))[0].result()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._collect())
        job = _Job(inputs, rows, (layout(inputs), tuple(sorted(params.items()))), params, loop.create_future(),
                   loop.time())
        self._pending.append(job)
        self._wake.set()
        return await job.future

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            # the wait is counted from the oldest request's arrival: one that queued during the last model call
            # has waited already
            first = self._pending[0].arrived if self._pending else loop.time()
            while sum(j.rows for j in self._pending) < self.max_rows:
                left = self.max_wait - (loop.time() - first)
                if left <= 0:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), left)
                except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
                    break
            jobs, rows = [], 0
            while self._pending and (not jobs or rows + self._pending[0].rows <= self.max_rows):
                jobs.append(self._pending.pop(0))
                rows += jobs[-1].rows
            if not self._pending:
                self._wake.clear()
            try:
                outcomes = await loop.run_in_executor(self.executor, self._run, jobs)
            except Exception as exc:  # noqa: BLE001 - never leave a request waiting on a future nobody sets
                outcomes = [_Outcome(error=exc)] * len(jobs)
            for job, outcome in zip(jobs, outcomes):
                if not job.future.done():
                    job.future.set_result(outcome.result()) if outcome.ok else job.future.set_exception(outcome.error)

    def _run(self, jobs: list[_Job]) -> list[_Outcome]:
        """On the worker thread: each group of stackable jobs as one call; alone when the shared call fails or
        warns."""
        groups: dict[tuple, list[int]] = {}
        for i, job in enumerate(jobs):
            groups.setdefault(job.key or (i,), []).append(i)
        outcomes: list[_Outcome | None] = [None] * len(jobs)
        for members in groups.values():
            if len(members) > 1:
                shared = self._attempt([jobs[i] for i in members])
                if shared.ok and not shared.value[1]:
                    parts = split(shared.value[0], [jobs[i].rows for i in members])
                    for i, part in zip(members, parts):
                        outcomes[i] = _Outcome(value=(part, []))
                    continue
            for i in members:
                outcomes[i] = self._attempt([jobs[i]])
        return outcomes

    def _attempt(self, jobs: list[_Job]) -> _Outcome:
        started = time.perf_counter()
        try:
            inputs = jobs[0].inputs if len(jobs) == 1 else stack([j.inputs for j in jobs])
            return _Outcome(value=invoke(lambda x: self.call(x, jobs[0].params), inputs))
        except Exception as exc:  # noqa: BLE001 - the request's handler answers it (400 for USER_ERRORS, else 500)
            return _Outcome(error=exc)
        finally:
            if self.on_call is not None:
                self.on_call(sum(j.rows for j in jobs), time.perf_counter() - started)


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


__all__ = ["MicroBatcher", "invoke", "layout", "split", "stack"]
