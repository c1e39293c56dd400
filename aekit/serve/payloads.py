"""Request bodies to Python inputs and Python results to response bodies, in the conventions clients know.

* **Tables**: JSON records with column names, ``{"records": [{"age": 41, "colour": "red"}, ...]}`` (a table
  fitted from a NumPy array names its columns ``x0, x1, ...``). ``null`` is a missing cell.
* **Arrays**: the Open Inference Protocol's tensor form (KServe v2), ``{"inputs": [{"name": "x", "shape": [2, 3],
  "datatype": "FP32", "data": [...]}]}``, answered as ``{"model_name": ..., "outputs": [{...}]}`` with ``data``
  flat in row-major order.
* **Images**: one PNG per request (``Content-Type: image/png``), answered with a PNG.
* **Codec files**: the raw bytes (``application/octet-stream``).

A body that cannot be read raises :class:`~aekit.serve.errors.RequestError` with one line saying what was sent;
what the estimator refuses is left to the estimator, so its own message reaches the client.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import Any

import msgspec
import numpy as np
import orjson
import pandas as pd
from msgspec.structs import astuple

from .errors import RequestError

#: Open Inference Protocol datatypes and the NumPy types they map to.
DATATYPES: dict[str, type] = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
}
_DATATYPE_OF = {np.dtype(t): name for name, t in DATATYPES.items()}
#: Largest image a request may carry (width x height): a small PNG can unpack to gigabytes.
MAX_IMAGE_PIXELS = 4096 * 4096
#: The media types of the forms above.
JSON, PNG, BYTES = "application/json", "image/png", "application/octet-stream"


def read_json(body: bytes) -> Any:
    """The parsed JSON body (strict JSON: ``NaN`` is not a number there; send ``null`` for a missing value)."""
    if not body:
        raise RequestError(400, "the request has no body; send JSON (Content-Type: application/json)")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"the body is not valid JSON ({exc})") from None


def dump_json(payload: Any) -> bytes:
    """``payload`` as JSON; NumPy arrays and scalars are written as numbers, NaN and infinities as ``null``."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def json_object(body: bytes, keys: tuple[str, ...]) -> dict:
    """The JSON body as an object holding one of ``keys``."""
    obj = read_json(body)
    if not isinstance(obj, dict) or not any(k in obj for k in keys):
        wanted = " or ".join(repr(k) for k in keys)
        raise RequestError(400, f"the body must be a JSON object with {wanted}; got {_kind(obj)}")
    return obj


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object with keys {sorted(map(str, value))[:8]}"
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def check_rows(n: int, max_rows: int, what: str = "rows") -> None:
    """Refuse an empty request (400) and one of more than ``max_rows`` rows (413)."""
    if n < 1:
        raise RequestError(400, f"the request holds no {what}; send at least one")
    if n > max_rows:
        raise RequestError(413, f"the request holds {n} {what}; this server takes at most {max_rows} per request "
                           "(split it, or start the server with a larger --max-rows)")


# ------------------------------------------------------------------------------------------------ tables
def column_names(spec: dict) -> list[str]:
    """The record keys a model takes: the fitted columns, or ``x0, x1, ...`` for an array."""
    if spec["kind"] == "table":
        return [c["name"] for c in spec["columns"]]
    return list(_array_names(math.prod(spec["shape"])))


@lru_cache(maxsize=64)
def _array_names(width: int) -> tuple[str, ...]:
    return tuple(f"x{i}" for i in range(width))


@lru_cache(maxsize=64)
def _numeric_records_decoder(names: tuple[str, ...]) -> msgspec.json.Decoder:
    """A decoder of ``{"records": [...]}`` whose every record has exactly the keys ``names``, each a number or
    null. Records become structs, not dicts, and a body of any other shape fails on its first departure."""
    record = msgspec.defstruct("Record", [(name, float | None) for name in names], forbid_unknown_fields=True,
                               gc=False)
    return msgspec.json.Decoder(msgspec.defstruct("Records", [("records", list[record])],
                                                  forbid_unknown_fields=True, gc=False))


def numeric_records(body: bytes, spec: dict, max_rows: int) -> np.ndarray | None:
    """The common request to a model fitted on an array -- records of exactly its columns, holding numbers and
    nulls -- as float32 ``(n, columns)`` with NaN for null, decoded straight from the body; ``None`` for any other
    body, which :func:`json_object` and :func:`records_input` then read and check, naming what is wrong."""
    try:
        records = _numeric_records_decoder(tuple(column_names(spec))).decode(body).records
    except msgspec.MsgspecError:
        return None
    check_rows(len(records), max_rows)
    with np.errstate(over="ignore"):  # a number too large for float32 becomes inf, which the estimator refuses
        return np.array(list(map(astuple, records)), dtype=np.float32)


_CELL_TYPES = frozenset({str, int, float, bool, type(None)})


def records_input(records: Any, spec: dict, max_rows: int) -> pd.DataFrame | np.ndarray:
    """JSON records as the model's input: a DataFrame for a model fitted on one (missing keys and ``null`` are
    missing cells; the estimator checks the columns), an array in column order for a model fitted on an array
    (``null`` is NaN, which the estimator may refuse)."""
    if not isinstance(records, list):
        raise RequestError(400, f"'records' must be a list of objects (one per row); got {_kind(records)}")
    check_rows(len(records), max_rows)
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise RequestError(400, f"records[{i}] must be an object of column: value; got {_kind(record)}")
        if not all(type(v) in _CELL_TYPES for v in record.values()):
            key, value = next((k, v) for k, v in record.items() if type(v) not in _CELL_TYPES)
            raise RequestError(400, f"records[{i}][{key!r}] is {_kind(value)}; a cell holds a number, a string, "
                               "true/false or null")
    if spec["kind"] == "table":
        return pd.DataFrame.from_records(records)
    names = column_names(spec)
    known = set(names)
    for i, record in enumerate(records):
        if record.keys() != known:
            lacking = [n for n in names if n not in record]
            extra = sorted(set(record) - known)
            raise RequestError(400, f"records[{i}] has columns {sorted(record)[:8]}; this model takes {len(names)} "
                               f"columns {names[:3] + ['...'] * (len(names) > 3)} (missing: {lacking[:5]}, "
                               f"unknown: {extra[:5]})")
    rows = [[r[n] for n in names] for r in records]
    try:  # numbers and nulls (NaN) straight to float32; one too large for it becomes inf, which the estimator refuses
        with np.errstate(over="ignore"):
            return np.array(rows, dtype=np.float32)
    except (ValueError, TypeError, OverflowError):  # text among them: the estimator says what it takes
        return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=object)


def records_output(table: pd.DataFrame | np.ndarray) -> list[dict]:
    """A result table (a DataFrame or a NumPy structured array) as JSON records; missing values become ``null``,
    NumPy scalars plain numbers."""
    if isinstance(table, np.ndarray):
        names = list(table.dtype.names)
        columns = [_cells(table[name]) for name in names]
    else:
        names = [str(c) for c in table.columns.tolist()]
        columns = [_cells(table.iloc[:, i]) for i in range(table.shape[1])]
    return [dict(zip(names, row)) for row in zip(*columns)]


def _cells(column: pd.Series | np.ndarray) -> list:
    values = np.asarray(column) if isinstance(column, np.ndarray) else column.to_numpy()
    if values.dtype.kind in "biuf":
        return values.tolist()  # NaN stays a float, which dump_json writes as null
    return [None if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) else
            v.item() if isinstance(v, np.generic) else v for v in values.tolist()]


# ------------------------------------------------------------------------------------------------ tensors
def tensor_input(obj: dict, max_rows: int) -> np.ndarray:
    """The one Open Inference Protocol input tensor of a request, as an array of its shape and datatype."""
    inputs = obj.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise RequestError(400, "'inputs' must be a list holding one tensor object {name, shape, datatype, data}")
    tensor = inputs[0]
    missing = [k for k in ("shape", "datatype", "data") if k not in tensor]
    if missing:
        raise RequestError(400, f"inputs[0] lacks {missing}; a tensor has name, shape, datatype and data")
    shape, datatype, data = tensor["shape"], tensor["datatype"], tensor["data"]
    if not isinstance(shape, list) or not 1 <= len(shape) <= 5 or \
            not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise RequestError(400, f"inputs[0].shape must be a list of 1 to 5 whole numbers >= 0; got {shape!r}")
    if datatype not in DATATYPES:
        raise RequestError(400, f"inputs[0].datatype {datatype!r} is not one this operation reads; use one of "
                           f"{sorted(DATATYPES)}")
    check_rows(shape[0], max_rows)
    if not isinstance(data, list):
        raise RequestError(400, f"inputs[0].data must be a list of numbers; got {_kind(data)}")
    try:
        arr = np.asarray(data, dtype=DATATYPES[datatype])
    except (ValueError, TypeError, OverflowError) as exc:
        raise RequestError(400, f"inputs[0].data could not be read as {datatype}: {exc}") from None
    if arr.size != math.prod(shape):
        raise RequestError(400, f"inputs[0].shape {shape} holds {math.prod(shape)} values, but data has {arr.size}")
    return arr.reshape(shape)


def tensor_output(model: str, name: str, values: np.ndarray) -> dict:
    """A result array as an Open Inference Protocol response (written by :func:`dump_json`: NaN as ``null``)."""
    arr = np.asarray(values)
    if arr.dtype not in _DATATYPE_OF:
        arr = arr.astype(np.float64)
    return {"model_name": model, "outputs": [{"name": name, "shape": list(arr.shape),
                                              "datatype": _DATATYPE_OF[arr.dtype],
                                              "data": np.ascontiguousarray(arr).reshape(-1)}]}


# ------------------------------------------------------------------------------------------------- images
def png_input(body: bytes) -> np.ndarray:
    """A PNG as uint8 pixels: ``(h, w)`` for grey images, ``(c, h, w)`` for colour (3) or colour with alpha (4)."""
    from PIL import Image, UnidentifiedImageError

    if not body:
        raise RequestError(400, "the request has no body; send one PNG image (Content-Type: image/png)")
    try:
        with Image.open(io.BytesIO(body), formats=["PNG"]) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise RequestError(413, f"the image is {im.width}x{im.height} pixels; this server takes at most "
                                   f"{MAX_IMAGE_PIXELS} pixels per image")
            if im.mode not in ("L", "RGB", "RGBA"):
                im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else
                                "L" if im.mode in ("1", "I", "I;16", "F", "LA") else "RGB")
            arr = np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise RequestError(400, f"the body is not a readable PNG image ({exc})") from None
    return arr if arr.ndim == 2 else np.moveaxis(arr, -1, 0)


def png_output(image: np.ndarray) -> bytes:
    """One image ``(h, w)`` or ``(c, h, w)`` with 1-4 channels, uint8 or floats in [0, 1], as PNG bytes."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.round(np.clip(np.nan_to_num(arr.astype(np.float64)), 0.0, 1.0) * 255).astype(np.uint8)
    if arr.ndim == 3:
        arr = arr[0] if arr.shape[0] == 1 else np.moveaxis(arr, 0, -1)
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(out, format="PNG")
    return out.getvalue()


def as_model_images(pixels: np.ndarray, shape: list[int] | None) -> np.ndarray:
    """A decoded PNG as a batch of one image in [0, 1], shaped like the images a model was fitted on (a grey PNG
    gains the channel axis of ``(1, h, w)`` images). A PNG of another size or channel count passes through
    unchanged, so the estimator's own shape message answers it."""
    x = pixels.astype(np.float32) / 255.0
    if shape is not None and len(shape) == 3 and x.ndim == 2:
        x = x[None]
    return x[None]


__all__ = ["BYTES", "DATATYPES", "JSON", "MAX_IMAGE_PIXELS", "PNG", "as_model_images", "check_rows", "column_names",
           "dump_json", "json_object", "numeric_records", "png_input", "png_output", "read_json", "records_input",
           "records_output", "tensor_input", "tensor_output"]
