"""The server's counters in Prometheus' text exposition format (``GET /metrics``).

* ``aekit_requests_total{route, status}``: requests answered;
* ``aekit_request_duration_seconds{route}``: a histogram of the time from the request to its answer;
* ``aekit_model_calls_total{model, operation}`` and ``aekit_model_call_rows{model, operation}``: calls of the
  estimators and a histogram of the rows in each (micro-batching shows here as calls of many rows);
* ``aekit_model_call_seconds{model, operation}``: a histogram of the time of each call.

Routes are labelled by their path, which the server fixes at start; any other path counts as ``unmatched``, so a
scan of random paths cannot grow the label set.
"""

from __future__ import annotations

import threading
from collections import defaultdict

#: Upper bounds (seconds) of the latency buckets.
SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Upper bounds of the rows-per-call buckets.
ROWS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class _Histogram:
    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds, self.counts, self.total, self.n = bounds, [0] * len(bounds), 0.0, 0

    def add(self, value: float) -> None:
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, labels: str) -> list[str]:
        sep = "," if labels else ""
        out = [f'{name}_bucket{{{labels}{sep}le="{b:g}"}} {c}' for b, c in zip(self.bounds, self.counts)]
        return out + [f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.n}', f"{name}_sum{{{labels}}} {self.total:.6g}",
                      f"{name}_count{{{labels}}} {self.n}"]


def _labels(**values: str) -> str:
    escaped = {k: str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for k, v in values.items()}
    return ",".join(f'{k}="{v}"' for k, v in escaped.items())


class Metrics:
    """Thread-safe counters and histograms of one server, rendered by :meth:`render`.

    Parameters
    ----------
    routes : set of str
        The paths the server answers; others are labelled ``unmatched``.
    """

    def __init__(self, routes: set[str] | None = None) -> None:
        self.routes = set(routes or ())
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, int], int] = defaultdict(int)
        self._latency: dict[str, _Histogram] = {}
        self._calls: dict[tuple[str, str], _Histogram] = {}
        self._call_seconds: dict[tuple[str, str], _Histogram] = {}

    def route(self, path: str) -> str:
        return path if path in self.routes else "unmatched"

    def request(self, path: str, status: int, seconds: float) -> None:
        """One answered request."""
        route = self.route(path)
        with self._lock:
            self._requests[route, int(status)] += 1
            self._latency.setdefault(route, _Histogram(SECONDS)).add(seconds)

    def model_call(self, model: str, operation: str, rows: int, seconds: float) -> None:
        """One call of an estimator, with the rows it computed."""
        with self._lock:
            self._calls.setdefault((model, operation), _Histogram(ROWS)).add(rows)
            self._call_seconds.setdefault((model, operation), _Histogram(SECONDS)).add(seconds)

    def render(self) -> str:
        """Everything, in Prometheus' text format (version 0.0.4)."""
        with self._lock:
            lines = ["# HELP aekit_requests_total Requests answered, by route and HTTP status.",
                     "# TYPE aekit_requests_total counter"]
            lines += [f"aekit_requests_total{{{_labels(route=r, status=s)}}} {n}"
                      for (r, s), n in sorted(self._requests.items())]
            lines += ["# HELP aekit_request_duration_seconds Time from request to answer.",
                      "# TYPE aekit_request_duration_seconds histogram"]
            for route, hist in sorted(self._latency.items()):
                lines += hist.lines("aekit_request_duration_seconds", _labels(route=route))
            lines += ["# HELP aekit_model_calls_total Calls of an estimator (one call may serve many requests).",
                      "# TYPE aekit_model_calls_total counter"]
            lines += [f"aekit_model_calls_total{{{_labels(model=m, operation=o)}}} {h.n}"
                      for (m, o), h in sorted(self._calls.items())]
            lines += ["# HELP aekit_model_call_rows Rows computed per estimator call.",
                      "# TYPE aekit_model_call_rows histogram"]
            for (m, o), hist in sorted(self._calls.items()):
                lines += hist.lines("aekit_model_call_rows", _labels(model=m, operation=o))
            lines += ["# HELP aekit_model_call_seconds Time of each estimator call.",
                      "# TYPE aekit_model_call_seconds histogram"]
            for (m, o), hist in sorted(self._call_seconds.items()):
                lines += hist.lines("aekit_model_call_seconds", _labels(model=m, operation=o))
        return "\n".join(lines) + "\n"


__all__ = ["Metrics"]
