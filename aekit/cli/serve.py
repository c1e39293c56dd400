"""``aekit serve``: saved models answer requests over HTTP (needs ``pip install "aekit[serve]"``)."""

from __future__ import annotations

import argparse
import gc
import ipaddress
import os
import sys

from .commands import command_help
from .common import add_device_option

#: The environment variable the API key is read from (never a command-line option: ``ps`` shows those to everyone).
API_KEY_VARIABLE = "AEKIT_API_KEY"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help=command_help("serve"),
        description="Load each saved model directory (by its format: autoencoder, encoder, detector, clusterer, "
        "imputer, denoiser, codec, recommender, text) and answer requests for it over HTTP: POST "
        "/v1/models/NAME/OPERATION, GET /v1/models, /v1/models/NAME, /health, /metrics and /openapi.json. Tables "
        "are JSON records, arrays Open Inference Protocol tensors, images PNG, codec files bytes. Binds to "
        f"127.0.0.1 unless --host says otherwise; set {API_KEY_VARIABLE} to require an API key (Authorization: "
        "Bearer KEY) on every request but /health.",
        epilog="Example: aekit serve detector_run encoder=runs/ae --port 8000; then curl "
        "http://127.0.0.1:8000/v1/models")
    p.add_argument("models", nargs="+", metavar="DIR", help="a saved model directory, or NAME=DIR to name it")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    add_device_option(p)
    p.add_argument("--max-rows", type=int, default=10_000, help="most rows per request (default 10000)")
    p.add_argument("--max-body-bytes", type=int, default=16 * 2**20, help="largest request body (default 16 MiB)")
    p.add_argument("--batch-rows", type=int, default=256,
                   help="most rows that concurrent requests share in one model call (default 256)")
    p.add_argument("--batch-wait-ms", type=float, default=2.0,
                   help="most milliseconds a request waits for others to share its call (default 2; 0: no batching)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads of each model call (default: AEKIT_NUM_THREADS when set, else the cores less one, "
                   "which is left to reading and answering requests; at least 1)")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(run=run)


def _check(args: argparse.Namespace) -> None:
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be a positive whole number, got {args.threads}")
    for name in ("port", "max_rows", "max_body_bytes", "batch_rows"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive whole number, got {getattr(args, name)}")
    if args.batch_wait_ms < 0:
        raise ValueError(f"--batch-wait-ms must be 0 or more, got {args.batch_wait_ms}")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args: argparse.Namespace) -> int:
    _check(args)
    try:
        import uvicorn

        from ..serve import ServeSettings, build_app, load_models
    except ImportError as exc:
        raise ImportError(f"aekit serve needs FastAPI and uvicorn ({exc.name} is missing): "
                          "pip install 'aekit[serve]'") from exc
    key = os.environ.get(API_KEY_VARIABLE) or None
    if not key and not _is_loopback(args.host):
        print(f"aekit: warning: serving on {args.host} without an API key: anyone who can reach this address can "
              f"use the models; set {API_KEY_VARIABLE}", file=sys.stderr)
    from ..training.threads import thread_override

    threads = args.threads or thread_override() or max(1, (os.cpu_count() or 2) - 1)
    models = load_models(args.models, device=args.device, threads=threads)
    settings = ServeSettings(api_key=key, max_body_bytes=args.max_body_bytes, max_rows=args.max_rows,
                             batch_rows=args.batch_rows, batch_wait_ms=args.batch_wait_ms)
    app = build_app(models, settings)
    # Everything loaded so far lives as long as the server: out of the cyclic collector's reach, a full collection
    # (which requests' short-lived objects set off now and then) no longer walks every object of torch, scikit-learn
    # and the models, a pause of tens of milliseconds on a small machine. Undone when the server stops (unless the
    # caller had frozen objects already), so a program that calls main() keeps its collector as it was.
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    names = ", ".join(m.name for m in models)
    print(f"aekit: serving {names} on http://{args.host}:{args.port}{' (API key required)' if key else ''}",
          file=sys.stderr)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    finally:
        if not frozen_before:
            gc.unfreeze()
    return 0
