"""One request in, one answer out: an operation's inputs and parameters from a request, its result as a response.

The request's form (``records``, ``tensor``, ``png``, ``bytes``, ``json``) is remembered, so a ``natural`` result
goes back in the form it came: a PNG for a PNG, a tensor for a tensor, records for a table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from starlette.datastructures import QueryParams
from starlette.responses import Response

from .errors import RequestError
from .operations import Operation
from .payloads import (BYTES, JSON, PNG, as_model_images, check_rows, dump_json, json_object, numeric_records,
                       png_input, png_output, records_input, records_output, tensor_input, tensor_output)


def media_type(content_type: str | None) -> str:
    """``"image/png"`` from ``"image/png; charset=..."``; JSON when the client named none."""
    return (content_type or JSON).split(";")[0].strip().lower()


def read_params(op: Operation, query: QueryParams) -> dict[str, Any]:
    """The operation's query parameters, checked; an unknown or malformed one is refused with what it takes."""
    known = {p.name: p for p in op.params}
    unknown = sorted(set(query) - set(known))
    if unknown:
        takes = f"it takes {sorted(known)}" if known else "it takes none"
        raise RequestError(400, f"unknown query parameter(s) {unknown} for {op.name}; {takes}")
    values = {}
    for name, p in known.items():
        text = query.get(name)
        if text is None:
            values[name] = p.default
        elif p.kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise RequestError(400, f"query parameter {name} must be true or false, got {text[:40]!r}")
            values[name] = text.lower() in ("true", "1")
        else:
            try:
                value = int(text)
            except ValueError:
                raise RequestError(400, f"query parameter {name} must be a whole number, got {text[:40]!r}") from None
            if not p.low <= value <= p.high:
                raise RequestError(400, f"query parameter {name} must be between {p.low} and {p.high}, got {value}")
            values[name] = value
    return values


def _expect(media: str, allowed: tuple[str, ...]) -> None:
    if media not in allowed:
        raise RequestError(415, f"this operation takes {' or '.join(allowed)}; the request's Content-Type is {media!r}")


def read_inputs(op: Operation, inputs: dict, body: bytes, media: str, max_rows: int) -> tuple[Any, int, str]:
    """``(inputs for op.call, rows, form)`` from a request body, for a model whose inputs are ``inputs``."""
    if op.takes == "rows" and inputs["kind"] == "images" and media == PNG:
        return as_model_images(png_input(body), inputs.get("shape")), 1, "png"
    if op.takes == "image":
        _expect(media, (PNG,))
        return png_input(body)[None], 1, "png"
    if op.takes == "file":
        _expect(media, (BYTES,))
        if not body:
            raise RequestError(400, "the request has no body; send a file written by the codec")
        return body, 1, "bytes"
    _expect(media, (JSON, PNG) if op.takes == "rows" and inputs["kind"] == "images" else (JSON,))
    if op.takes == "rows" and inputs["kind"] == "array":
        X = numeric_records(body, inputs, max_rows)
        if X is not None:
            return X, len(X), "records"
    if op.takes in ("rows", "codes"):
        keys = ("inputs",) if op.takes == "codes" or inputs["kind"] == "images" else ("records", "inputs")
        obj = json_object(body, keys)
        if "records" in obj and "records" in keys:
            X = records_input(obj["records"], inputs, max_rows)
            return X, len(X), "records"
        X = tensor_input(obj, max_rows)
        return X, len(X), "tensor"
    if op.takes == "texts":
        texts = json_object(body, ("texts",))["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise RequestError(400, "'texts' must be a list of strings")
        check_rows(len(texts), max_rows, "texts")
        return texts, len(texts), "json"
    if op.takes == "users":
        return _users(json_object(body, ("users", "histories")), max_rows)
    item = json_object(body, ("item",))["item"]
    if not isinstance(item, (str, int)) or isinstance(item, bool):
        raise RequestError(400, f"'item' must be one item id (a string or a whole number); got {item!r:.60}")
    return item, 1, "json"


def _users(obj: dict, max_rows: int) -> tuple[Any, int, str]:
    """Known user ids (``users``) or new users' histories (``histories``: ``{user: [items]}``)."""
    if ("users" in obj) == ("histories" in obj):
        raise RequestError(400, "send either 'users' (known user ids) or 'histories' ({user: [items]}), not both")
    if "users" in obj:
        users = obj["users"]
        if not isinstance(users, list) or not all(isinstance(u, (str, int)) and not isinstance(u, bool)
                                                  for u in users):
            raise RequestError(400, "'users' must be a list of user ids (strings or whole numbers)")
        check_rows(len(users), max_rows, "users")
        return users, len(users), "json"
    histories = obj["histories"]
    if not isinstance(histories, dict) or not all(
            isinstance(items, list) and all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in items)
            for items in histories.values()):
        raise RequestError(400, "'histories' must be an object of user: [item ids]")
    check_rows(len(histories), max_rows, "users")
    return histories, len(histories), "json"


def _json(payload: dict, warnings: list[str]) -> Response:
    if warnings:
        payload["warnings"] = warnings
    return Response(dump_json(payload), media_type=JSON)


def answer(model: str, op: Operation, result: Any, warnings: list[str], form: str) -> Response:
    """The response for ``result`` of ``op`` on ``model``, given the request's form."""
    if op.gives == "bytes":
        return Response(bytes(result), media_type=BYTES)
    if isinstance(result, pd.DataFrame) or (isinstance(result, np.ndarray) and result.dtype.names):
        return _json({"model_name": model, "records": records_output(result)}, warnings)
    arr = np.asarray(result)
    one_image = len(arr) == 1 and arr.ndim >= 3
    if one_image and (op.gives == "png" or (op.gives == "natural" and form == "png")):
        return Response(png_output(arr[0]), media_type=PNG)
    return _json(tensor_output(model, op.output, arr), warnings)


__all__ = ["answer", "media_type", "read_inputs", "read_params"]
