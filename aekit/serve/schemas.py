"""The OpenAPI description of each operation's request and responses, built from the model's fitted inputs.

A table model's records list its columns with their JSON types (categories as an enum), an image model's tensor
names its image shape, so the document at ``/openapi.json`` says exactly what each model takes, and a client
generator or a schema-driven fuzzer (schemathesis) can build valid and invalid requests from it.
"""

from __future__ import annotations

from .operations import Operation
from .payloads import BYTES, DATATYPES, JSON, PNG, column_names

_BINARY = {"type": "string", "format": "binary"}
_ERROR = {"description": "what was wrong, in one line",
          "content": {JSON: {"schema": {"type": "object", "properties": {"error": {"type": "string"}},
                                        "required": ["error"]}}}}
_SCALAR_ID = {"type": ["string", "integer"]}


def _column(column: dict) -> dict:
    if column["type"] == "numeric":
        return {"type": ["number", "null"]}
    if column["dtype"] == "bool":
        return {"type": ["boolean", "null"]}
    return {"enum": [*column["categories"], None]}


def records_schema(spec: dict, max_rows: int) -> dict:
    """``{"records": [...]}`` with one property per fitted column."""
    if spec["kind"] == "table":
        properties = {c["name"]: _column(c) for c in spec["columns"]}
    else:
        properties = {name: {"type": ["number", "null"]} for name in column_names(spec)}
    row = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    return {"type": "object", "required": ["records"],
            "properties": {"records": {"type": "array", "items": row, "minItems": 1, "maxItems": max_rows}}}


def tensor_schema(row_shape: list[int] | None, max_rows: int) -> dict:
    """``{"inputs": [tensor]}`` (Open Inference Protocol); the description gives the expected shape."""
    shape = "[n, ...]" if row_shape is None else str(["n", *row_shape]).replace("'", "")
    tensor = {"type": "object", "required": ["name", "shape", "datatype", "data"],
              "description": f"one tensor of shape {shape}, n <= {max_rows}, data flat in row-major order",
              "properties": {"name": {"type": "string"},
                             "shape": {"type": "array", "items": {"type": "integer", "minimum": 0},
                                       "minItems": 1, "maxItems": 5},
                             "datatype": {"enum": sorted(DATATYPES)},
                             "data": {"type": "array", "items": {"type": ["number", "boolean"]}}}}
    return {"type": "object", "required": ["inputs"],
            "properties": {"inputs": {"type": "array", "items": tensor, "minItems": 1, "maxItems": 1}}}


def _tensor_output() -> dict:
    tensor = {"type": "object", "properties": {"name": {"type": "string"}, "shape": {"type": "array"},
                                               "datatype": {"type": "string"}, "data": {"type": "array"}}}
    return {"type": "object", "properties": {"model_name": {"type": "string"},
                                             "outputs": {"type": "array", "items": tensor}}}


def request_body(op: Operation, inputs: dict, max_rows: int) -> dict:
    """The ``requestBody`` of ``op`` for a model whose inputs are described by ``inputs``."""
    if op.takes == "rows":
        content = {JSON: {"schema": {"anyOf": [tensor_schema(inputs.get("shape"), max_rows)]
                                     if inputs["kind"] == "images" else
                                     [records_schema(inputs, max_rows), tensor_schema(inputs.get("shape"), max_rows)]}}}
        if inputs["kind"] == "images":
            content[PNG] = {"schema": _BINARY}
    elif op.takes == "codes":
        content = {JSON: {"schema": tensor_schema([inputs["latent_dim"]], max_rows)}}
    elif op.takes == "image":
        content = {PNG: {"schema": _BINARY}}
    elif op.takes == "file":
        content = {BYTES: {"schema": _BINARY}}
    elif op.takes == "texts":
        content = {JSON: {"schema": {"type": "object", "required": ["texts"], "properties": {
            "texts": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": max_rows}}}}}
    elif op.takes == "users":
        content = {JSON: {"schema": {"type": "object", "minProperties": 1, "properties": {
            "users": {"type": "array", "items": _SCALAR_ID, "minItems": 1, "maxItems": max_rows},
            "histories": {"type": "object", "additionalProperties": {"type": "array", "items": _SCALAR_ID}}}}}}
    else:  # item
        content = {JSON: {"schema": {"type": "object", "required": ["item"], "properties": {"item": _SCALAR_ID}}}}
    return {"required": True, "content": content}


def responses(op: Operation) -> dict:
    """The documented answers of ``op``: its result, and the one-line errors."""
    if op.gives == "bytes":
        ok = {BYTES: {"schema": _BINARY}}
    elif op.gives == "tensor":
        ok = {JSON: {"schema": _tensor_output()}}
    else:
        ok = {JSON: {"schema": {"type": "object"}}, PNG: {"schema": _BINARY}}
    return {"200": {"description": op.summary, "content": ok}, "400": _ERROR, "401": _ERROR, "413": _ERROR,
            "415": _ERROR}


def parameters(op: Operation) -> list[dict]:
    """The query parameters of ``op``."""
    out = []
    for p in op.params:
        schema = {"type": "boolean", "default": p.default} if p.kind is bool else \
            {"type": "integer", "minimum": p.low, "maximum": p.high, "default": p.default}
        out.append({"name": p.name, "in": "query", "required": False, "description": p.help, "schema": schema})
    return out


def openapi_extra(op: Operation, inputs: dict, max_rows: int) -> dict:
    """Everything the OpenAPI document says about ``op`` beyond its path and summary."""
    return {"requestBody": request_body(op, inputs, max_rows), "parameters": parameters(op),
            "responses": responses(op)}


__all__ = ["openapi_extra", "parameters", "records_schema", "request_body", "responses", "tensor_schema"]
