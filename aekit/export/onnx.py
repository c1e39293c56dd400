"""Export a saved estimator's networks to ONNX: one ``.onnx`` graph per function, checked in onnxruntime.

``export_onnx(estimator, out)`` writes, for an ``AutoEncoder``, ``encode.onnx``, ``decode.onnx`` and
``reconstruction_error.onnx``; for an ``Encoder``, ``encode.onnx``; for a ``Denoiser``, ``denoise.onnx``; and
``export.json`` beside them (each graph's input and output names, shapes and meaning, and the model's input
columns). Every graph has a dynamic batch axis (the denoiser's height and width are dynamic too) and takes raw
features or pixels (``graphs.py``). Estimators whose answer is not a network are refused with the reason
(:data:`REFUSALS`).

The graphs are traced by ``torch.onnx.export(..., dynamo=True)`` (torch.export, translated by onnxscript), the
exporter PyTorch develops; :func:`check_onnx` runs every graph in onnxruntime beside its PyTorch module.
"""

from __future__ import annotations

import copy
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._utils import atomic_write_json
from ..estimators import AutoEncoder, Denoiser, Encoder
from ..models.denoising_unet import MULTIPLE
from ..training.threads import thread_count
from .graphs import Decode, Denoise, Encode, ModelInput, ReconstructionError, TableScaling

logger = logging.getLogger("aekit")

#: Why an estimator cannot be exported, and what can be instead.
REFUSALS: dict[str, str] = {
    "AnomalyDetector": "its score includes each row's distance to its nearest training rows, a scikit-learn "
                       "neighbour search over the kept reference rows that is not a network; export a member "
                       "(DIR/member0 is an AutoEncoder directory) for the reconstruction part of the score",
    "Clusterer": "a new row's cluster is a vote of its nearest training codes (a scikit-learn neighbour search); "
                 "export DIR/autoencoder for the codes the vote is taken on",
    "Imputer": "filling runs the network repeatedly (n_passes), keeps the observed cells and decodes categories "
               "back to their labels outside the network; export DIR/autoencoder for the network alone",
    "Codec": "its files are written by an entropy coder (range coding of integer symbols), which is not a tensor "
             "graph",
    "Recommender": "it reads histories as sets of item ids matched to its catalogue and answers with rankings; "
                   "neither is a tensor graph",
    "TextAutoEncoder": "it reads text: the tokenizer and the word-by-word decoding loop are outside any tensor graph",
}
#: Batch sizes every graph is checked at.
CHECK_BATCHES = (1, 7, 256)
#: Smallest and largest image side a denoising graph takes (the network reflect-pads up to 3 pixels).
MIN_SIDE, MAX_SIDE = 8, 8192
#: Share of table cells the check leaves missing (NaN), so the graph's handling of holes is checked too.
MISSING_SHARE = 0.1
#: Largest absolute difference to PyTorch the check accepts.
TOLERANCE = 1e-4


@dataclass
class Graph:
    """One function to export: the PyTorch module, an example input, and its axes that vary."""

    name: str
    module: nn.Module
    example: torch.Tensor
    input_name: str
    output_name: str
    meaning: str
    dynamic: dict[int, str] = field(default_factory=lambda: {0: "batch"})
    sample: Any = None  # draws a batch of realistic inputs: sample(n, rng) -> float32 array


def _table_parts(columns: list[dict] | None) -> TableScaling | None:
    """The scaling of a numeric table; a categorical column cannot be exported (the graph takes numbers)."""
    if columns is None:
        return None
    text = [c["name"] for c in columns if c["type"] != "numeric"]
    if text:
        raise ValueError(f"column(s) {text[:5]} are categorical: an exported graph takes numeric features only "
                         "(their one-hot encoding of labels is not a tensor operation); fit the model on numeric "
                         "columns (or on an already encoded array) to export it")
    return TableScaling(columns)


def _sampler(spec: dict, columns: list[dict] | None) -> Any:
    """Realistic inputs for the check: each numeric column drawn around its fitted mean and spread (a tenth of the
    cells missing), pixels in [0, 1], array features standard normal."""
    shape = spec["shape"] if spec["kind"] != "table" else [len(columns)]
    if columns is not None:
        mean = np.array([c["mean"] for c in columns], dtype=np.float32)
        std = np.array([c["std"] for c in columns], dtype=np.float32)

        def table(n: int, rng: np.random.Generator) -> np.ndarray:
            x = (mean + std * rng.standard_normal((n, len(columns)))).astype(np.float32)
            return np.where(rng.random(x.shape) < MISSING_SHARE, np.float32(np.nan), x)

        return table
    if spec["kind"] == "images":
        return lambda n, rng: rng.random((n, *shape), dtype=np.float32)
    return lambda n, rng: rng.standard_normal((n, *shape)).astype(np.float32)


def _network_graphs(model: nn.Module, spec: dict, columns: list[dict] | None, latent_dim: int,
                    full: bool) -> list[Graph]:
    """Encode (and, for a whole autoencoder, decode and reconstruction error) of ``model``."""
    scaling = _table_parts(columns)
    config = model.config
    sample_shape = tuple(spec["shape"]) if spec["kind"] != "table" else (len(columns),)
    model_input = ModelInput(tuple(config.input_shape), scaling, config.missing_indicator)
    sample = _sampler(spec, columns)
    example = torch.from_numpy(sample(2, np.random.default_rng(0)))
    what = "raw numeric features" if columns is not None else "pixels in [0, 1]" if spec["kind"] == "images" \
        else "features"
    graphs = [Graph("encode", Encode(model, model_input), example, "x", "codes",
                    f"{what} (B, {', '.join(map(str, sample_shape))}) -> codes (B, {latent_dim})", sample=sample)]
    if full:
        codes = lambda n, rng: rng.standard_normal((n, latent_dim)).astype(np.float32)  # noqa: E731
        graphs += [
            Graph("decode", Decode(model, sample_shape, scaling), torch.from_numpy(codes(2, np.random.default_rng(0))),
                  "codes", "x", f"codes (B, {latent_dim}) -> {what} (B, {', '.join(map(str, sample_shape))})",
                  sample=codes),
            Graph("reconstruction_error", ReconstructionError(model, model_input), example, "x", "error",
                  f"{what} -> each row's mean squared reconstruction error (B,) in model space", sample=sample),
        ]
    return graphs


def _cpu_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` on the CPU in eval mode: the graphs trace it there, and the estimator keeps its own
    model on its device."""
    return copy.deepcopy(model).cpu().eval()


def graphs_for(estimator: Any) -> list[Graph]:
    """The functions of ``estimator`` that export, or a ``ValueError`` saying why it cannot be exported."""
    name = type(estimator).__name__
    if name in REFUSALS:
        raise ValueError(f"a {name} cannot be exported to ONNX: {REFUSALS[name]}")
    if isinstance(estimator, AutoEncoder):
        pre = estimator.preprocessor_
        return _network_graphs(_cpu_copy(estimator.model_), estimator.input_spec(),
                               None if pre is None else pre.to_dict()["columns"], estimator.config_.latent_dim, True)
    if isinstance(estimator, Encoder):
        pre = estimator.adapter.preprocessor
        return _network_graphs(_cpu_copy(estimator.model), estimator.input_spec(),
                               None if pre is None else pre.to_dict()["columns"], estimator.latent_dim, False)
    if isinstance(estimator, Denoiser):
        c = int(estimator.channels_)
        # 30x30: a size that is not a multiple of 4, so the traced graph pads like the network does
        sample = lambda n, rng: rng.random((n, c, 30, 30), dtype=np.float32)  # noqa: E731
        meaning = (f"noisy images (B, {c}, H, W) in [0, 1], H and W from {MIN_SIDE} to {MAX_SIDE} -> cleaned "
                   "images, same shape")
        example = torch.from_numpy(sample(2, np.random.default_rng(0)))
        return [Graph("denoise", Denoise(_cpu_copy(estimator.model_), MULTIPLE), example, "x", "denoised", meaning,
                      dynamic={0: "batch", 2: "height", 3: "width"}, sample=sample)]
    raise ValueError(f"a {name} cannot be exported to ONNX: only AutoEncoder, Encoder and Denoiser models are")


def _export_one(graph: Graph, path: Path) -> None:
    module = graph.module.eval()
    dims = {axis: torch.export.Dim(label) if axis == 0 else torch.export.Dim(label, min=MIN_SIDE, max=MAX_SIDE)
            for axis, label in graph.dynamic.items()}
    # torch.export's deprecation notices about its internals, and the exporter's note that torchvision's operators
    # are not registered (aekit uses none), say nothing to the user of the graph
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            program = torch.onnx.export(module, (graph.example,), dynamo=True, verbose=False,
                                        dynamic_shapes={"x" if graph.input_name == "x" else "z": dims},
                                        input_names=[graph.input_name], output_names=[graph.output_name])
    finally:
        registration.setLevel(level)
    program.save(str(path))


def export_onnx(estimator: Any, out: str | os.PathLike) -> list[Path]:
    """Write one ``.onnx`` graph per exportable function of ``estimator`` into the folder ``out``, and
    ``export.json`` describing them. Returns the graph files.

    Parameters
    ----------
    estimator : AutoEncoder, Encoder or Denoiser
        A fitted (or loaded) estimator; any other is refused with the reason.
    out : path
        The folder to write (created; existing graphs of the same names are replaced).
    """
    try:
        import onnx  # noqa: F401 - the exporter writes through it; say what to install if it is missing
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"ONNX export needs onnx and onnxscript ({exc.name} is missing): "
                          "pip install 'aekit[export]'") from exc
    graphs = graphs_for(estimator)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths, described = [], []
    for graph in graphs:
        path = out / f"{graph.name}.onnx"
        started = time.perf_counter()
        _export_one(graph, path)
        logger.info("exported %s in %.1f s", path, time.perf_counter() - started)
        paths.append(path)
        described.append({"file": path.name, "input": graph.input_name, "output": graph.output_name,
                          "dynamic_axes": {str(a): n for a, n in graph.dynamic.items()}, "computes": graph.meaning})
    inputs = {"kind": "images", "channels": int(estimator.channels_)} if isinstance(estimator, Denoiser) else \
        estimator.input_spec()
    facts = {"estimator": type(estimator).__name__, "graphs": described, "inputs": inputs}
    atomic_write_json(out / "export.json", facts)
    return paths


def onnx_runner(path: str | os.PathLike, threads: int | None = None) -> Any:
    """An ONNX Runtime runner of the graph at ``path`` on the CPU (``threads``: its intra- and inter-op threads)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = options.inter_op_num_threads = int(threads)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_onnx(estimator: Any, out: str | os.PathLike, batches: tuple[int, ...] = CHECK_BATCHES,
               seed: int = 0) -> list[dict[str, Any]]:
    """Run every exported graph in onnxruntime beside its PyTorch module on the same inputs.

    Returns one row per graph and batch size: ``{"graph", "batch", "max_abs_diff"}``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for graph in graphs_for(estimator):
        runner = onnx_runner(Path(out) / f"{graph.name}.onnx")
        module = graph.module.eval()
        for n in batches:
            x = graph.sample(n, rng)
            with torch.no_grad():
                expected = module(torch.from_numpy(x)).numpy()
            got = runner.run(None, {graph.input_name: x})[0]
            if got.shape != expected.shape:
                raise ValueError(f"{graph.name}.onnx gave shape {got.shape} at batch {n}; PyTorch gives "
                                 f"{expected.shape}")
            rows.append({"graph": graph.name, "batch": n, "max_abs_diff": float(np.max(np.abs(got - expected)))})
    return rows


def speed_onnx(estimator: Any, out: str | os.PathLike, batches: tuple[int, ...] = (1, 256), seconds: float = 1.0,
               seed: int = 0) -> list[dict[str, Any]]:
    """Rows per second of each graph in onnxruntime and in PyTorch eager (one thread each), at each batch size,
    each timed for about ``seconds``."""
    rng = np.random.default_rng(seed)
    rows = []
    with thread_count(1):
        for graph in graphs_for(estimator):
            runner = onnx_runner(Path(out) / f"{graph.name}.onnx", threads=1)
            module = graph.module.eval()
            for n in batches:
                x = graph.sample(n, rng)
                tx = torch.from_numpy(x)
                with torch.no_grad():
                    eager = _rate(lambda: module(tx), n, seconds)
                onnx_rate = _rate(lambda: runner.run(None, {graph.input_name: x}), n, seconds)
                rows.append({"graph": graph.name, "batch": n, "torch_rows_per_s": eager,
                             "onnxruntime_rows_per_s": onnx_rate})
    return rows


def _rate(fn: Any, rows: int, seconds: float) -> float:
    fn()  # warm-up
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()
        calls += 1
    return calls * rows / (time.perf_counter() - started)


__all__ = ["CHECK_BATCHES", "REFUSALS", "TOLERANCE", "Graph", "check_onnx", "export_onnx", "graphs_for", "onnx_runner",
           "speed_onnx"]
