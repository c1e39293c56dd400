"""Serving a detector over HTTP against calling it in-process, and ONNX Runtime against PyTorch eager.

For each ADBench table (6_cardio: 21 columns, where the server's batching defaults were chosen; 43_WDBC: 30
columns, held out), an ``AnomalyDetector`` is fitted, saved, and served by ``aekit serve`` in a child process on
127.0.0.1 (loopback only). In the same run:

* **in-process, one row at a time**: ``decision_function`` on one row, in a loop;
* **served, 1-row requests from 16 concurrent clients**: each client posts one JSON record and waits for its
  answer before the next (the server's micro-batching stacks what arrives together);
* **in-process, 256 rows at a time** and **served, 256-row requests** as JSON records and as an Open Inference
  Protocol tensor, from one client waiting for each answer.

The phases are interleaved in one-second slices, ``--seconds`` rounds of them, so that the machine's other load
falls on all phases alike; in-process calls use whichever of one torch thread and the default is faster.

Every phase is bounded in time and in number of requests. Reported: rows/s, and p50/p99
latency of a call or request. Bars: served 1-row throughput at least 2x the in-process one-row loop; served
256-row throughput at least 70% of in-process.

ONNX: the detector itself is not exportable (its score includes a neighbour search); its first member is an
``AutoEncoder``, whose graphs are exported and timed in ONNX Runtime beside PyTorch eager, one thread each, at
batch 1 and 256.

Run: ``python benchmarks/serve.py`` (``--no-write`` to print only). Run it alone: client and server share the
machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from _common import ROOT, markdown_table, publish, section_header
from aekit.training.threads import thread_count

TABLES = {"6_cardio": "design", "43_WDBC": "held-out"}
CLIENTS = 16
BIG = 256
#: Most requests any one phase sends (the phases also stop after --seconds).
MAX_REQUESTS = 20_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    ms = np.asarray(latencies) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


@dataclass
class Tally:
    """Rows, seconds and per-call latencies of one phase, summed over its slices."""

    rows: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def result(self) -> dict:
        return {"rows_per_s": self.rows / self.seconds, "requests": len(self.latencies),
                **dict(zip(("p50", "p99"), _percentiles(self.latencies)))}


def in_process(det, X: np.ndarray, rows: int, seconds: float, tally: Tally) -> None:
    """``decision_function`` on ``rows`` rows at a time, cycling through ``X``, for ``seconds``."""
    started, i = time.perf_counter(), 0
    while time.perf_counter() - started < seconds and len(tally.latencies) < MAX_REQUESTS:
        batch = X[i : i + rows] if i + rows <= len(X) else X[:rows]
        t = time.perf_counter()
        det.decision_function(batch)
        tally.latencies.append(time.perf_counter() - t)
        tally.rows += len(batch)
        i = (i + rows) % len(X)
    tally.seconds += time.perf_counter() - started


def best_threads(det, X: np.ndarray, rows: int) -> int:
    """The faster of one torch thread and the default number for in-process calls of ``rows`` rows (the strongest
    in-process peer)."""
    rates = {}
    for threads in sorted({1, torch.get_num_threads()}):
        with thread_count(threads):
            det.decision_function(X[:rows])
            probe = Tally()
            in_process(det, X, rows, 1.0, probe)
        rates[threads] = probe.result()["rows_per_s"]
    return max(rates, key=rates.get)


class Connection:
    """A minimal HTTP/1.1 keep-alive client on one loopback connection: a request's bytes are prepared once, and
    reading an answer costs a few microseconds, so the client takes little of the two cores it shares with the
    server (a full client library spends about a millisecond of CPU per request)."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        self.writer.close()

    @staticmethod
    def request(path: str, body: bytes) -> bytes:
        return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(v) for k, _, v in (line.partition(":") for line in lines[1:])
                      if k.strip().lower() == "content-length")
        return int(lines[0].split()[1]), await self.reader.readexactly(length)


def request_bytes(path: str, X: np.ndarray, rows: int, form: str) -> list[bytes]:
    """Requests of ``rows`` rows each, as JSON records or an Open Inference Protocol tensor, ready to send."""
    names = [f"x{j}" for j in range(X.shape[1])]

    def body(part: np.ndarray) -> dict:
        if form == "records":
            return {"records": [dict(zip(names, map(float, r))) for r in part]}
        return {"inputs": [{"name": "x", "shape": list(part.shape), "datatype": "FP32",
                            "data": part.ravel().tolist()}]}

    return [Connection.request(path, json.dumps(body(X[i : i + rows])).encode())
            for i in range(0, len(X) - rows + 1, rows)[:512]]


async def served(port: int, requests: list[bytes], rows: int, clients: int, seconds: float,
                 tally: Tally | None) -> None:
    """``clients`` concurrent clients, each on its own connection, posting requests and waiting for each answer
    before the next, for ``seconds`` (``tally=None``: a warm-up)."""
    async def client(k: int, until: float) -> None:
        async with Connection(port) as c:
            j = k
            while time.perf_counter() < until and (tally is None or len(tally.latencies) < MAX_REQUESTS):
                t = time.perf_counter()
                status, answer = await c.send(requests[j % len(requests)])
                if status != 200:
                    raise RuntimeError(f"{status} {answer[:200]!r}")
                if tally is not None:
                    tally.latencies.append(time.perf_counter() - t)
                    tally.rows += rows
                j += clients

    started = time.perf_counter()
    await asyncio.gather(*(client(k, started + seconds) for k in range(clients)))
    if tally is not None:
        tally.seconds += time.perf_counter() - started


def start_server(model_dir: Path, port: int, extra: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AEKIT_API_KEY", None)
    log = model_dir.with_suffix(".log")  # a file, not a pipe: a pipe nobody reads stops the server when it fills
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "aekit", "serve", f"det={model_dir}", "--host", "127.0.0.1",
                                 "--port", str(port), "--device", "cpu", *extra], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    import httpx

    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not answer /health within 120 s")


def bench_table(name: str, seconds: float, extra: list[str], tmp: Path) -> tuple[list[list], dict, object]:
    from aekit import AnomalyDetector, load

    data = np.load(Path(os.environ["AEKIT_DATA"]) / "adbench" / f"{name}.npz")
    X = data["X"].astype(np.float32)
    det = AnomalyDetector(random_state=0).fit(X)
    det.save(tmp / name)
    det = load(tmp / name, device="cpu")  # the same model the server loads
    one_threads, big_threads = best_threads(det, X, 1), best_threads(det, X, BIG)
    port = _free_port()
    proc = start_server(tmp / name, port, extra)
    path = "/v1/models/det/score"
    one_requests = request_bytes(path, X, 1, "records")
    big_requests = {form: request_bytes(path, X, BIG, form) for form in ("records", "tensor")}
    tallies = {key: Tally() for key in ("one", "one_served", "big", "records", "tensor")}
    try:
        asyncio.run(served(port, one_requests, 1, CLIENTS, 0.5, None))
        for form, requests in big_requests.items():
            asyncio.run(served(port, requests, BIG, 1, 0.5, None))
        # Phases interleaved in one-second slices, so a change in the machine's other load falls on all of them.
        for _ in range(max(1, round(seconds))):
            with thread_count(one_threads):
                in_process(det, X, 1, 1.0, tallies["one"])
            asyncio.run(served(port, one_requests, 1, CLIENTS, 1.0, tallies["one_served"]))
            with thread_count(big_threads):
                in_process(det, X, BIG, 1.0, tallies["big"])
            for form, requests in big_requests.items():
                asyncio.run(served(port, requests, BIG, 1, 1.0, tallies[form]))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    r = {key: t.result() for key, t in tallies.items()}
    shape = f"{name} ({TABLES[name]}, {X.shape[0]}x{X.shape[1]})"
    phases = [(f"in-process, 1 row per call ({one_threads} thread(s))", "one", None),
              (f"served, 1-row records, {CLIENTS} clients", "one_served", "one"),
              (f"in-process, {BIG} rows per call ({big_threads} thread(s))", "big", None),
              (f"served, {BIG}-row records, 1 client", "records", "big"),
              (f"served, {BIG}-row tensor, 1 client", "tensor", "big")]
    rows = []
    for label, key, base in phases:
        ratio = "" if base is None else f"{r[key]['rows_per_s'] / r[base]['rows_per_s']:.2f}x"
        rows.append([shape, label, f"{r[key]['rows_per_s']:,.0f}", f"{r[key]['p50']:.2f}", f"{r[key]['p99']:.2f}",
                     r[key]["requests"], ratio])
    ratios = {"one": r["one_served"]["rows_per_s"] / r["one"]["rows_per_s"],
              **{form: r[form]["rows_per_s"] / r["big"]["rows_per_s"] for form in big_requests}}
    return rows, ratios, det


def bench_onnx(det, tmp: Path, seconds: float) -> tuple[list[list], float]:
    from aekit.export import check_onnx, export_onnx, speed_onnx

    member = det.members_[0]
    export_onnx(member, tmp / "member0_onnx")
    worst = max(r["max_abs_diff"] for r in check_onnx(member, tmp / "member0_onnx"))
    return [[r["graph"], r["batch"], f"{r['torch_rows_per_s']:,.0f}", f"{r['onnxruntime_rows_per_s']:,.0f}",
             f"{r['onnxruntime_rows_per_s'] / r['torch_rows_per_s']:.2f}x"]
            for r in speed_onnx(member, tmp / "member0_onnx", seconds=seconds)], worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each timed phase")
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated ADBench tables")
    parser.add_argument("--server-args", default="", help="extra options for aekit serve, e.g. '--batch-wait-ms 1'")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows, bars, onnx_rows, worst = [], [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.tables.split(","):
            table_rows, ratios, det = bench_table(name, args.seconds, args.server_args.split(), Path(tmp))
            rows += table_rows
            bars.append((name, ratios))
            if not onnx_rows:
                onnx_rows, worst = bench_onnx(det, Path(tmp), min(args.seconds, 2.0))
    lines = [*section_header("Serving over HTTP, and ONNX export"), "",
             "A detector (`AnomalyDetector(random_state=0)`, fitted on the whole table) served by `aekit serve` on "
             "127.0.0.1 and called in-process in the same run; JSON records in, scores and labels out. Latency is "
             "per call (in-process) or per request (served, measured by the client).", "",
             markdown_table(["table", "how", "rows/s", "p50 ms", "p99 ms", "calls", "vs in-process"], rows), ""]
    for name, ratios in bars:
        lines.append(f"- {name}: served 1-row throughput {ratios['one']:.2f}x the in-process one-row loop (bar: >= 2x, "
                     f"{'met' if ratios['one'] >= 2 else 'NOT met'}).")
        for form in ("records", "tensor"):
            lines.append(f"- {name}: served {BIG}-row requests as {form}: {ratios[form]:.0%} of in-process (bar: "
                         f">= 70%, {'met' if ratios[form] >= 0.7 else 'NOT met'}).")
    lines += ["", f"ONNX: the first member of the {args.tables.split(',')[0]} detector (an `AutoEncoder`) exported by "
              f"`aekit export`; largest difference to PyTorch at batch 1, 7, 256: {worst:.1e}. One thread each:", "",
              markdown_table(["graph", "batch", "PyTorch eager rows/s", "ONNX Runtime rows/s", "ratio"], onnx_rows)]
    publish("serve", "\n".join(lines), write=not args.no_write)


if __name__ == "__main__":
    main()
