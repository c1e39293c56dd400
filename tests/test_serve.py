"""``aekit serve``: every saved format answers over HTTP as its Python API does, bad requests get the Python API's
one-line message with a 4xx, concurrent small requests share model calls, and a schema-driven fuzz of the OpenAPI
document finds no 5xx and no traceback."""

from __future__ import annotations

import asyncio
import io
import json
import pickle
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from aekit import (AnomalyDetector, AutoEncoder, Clusterer, Codec, Denoiser, Imputer, Recommender,  # noqa: E402
                   TextAutoEncoder, load)
from aekit.cli import build_parser, main  # noqa: E402
from aekit.serve import OPERATIONS, ServeSettings, build_app, load_models  # noqa: E402
from aekit.serve.errors import RequestError  # noqa: E402


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.lognormal(3, 1, n), "items": rng.integers(1, 9, n),
                         "channel": rng.choice(["web", "shop", "phone"], n), "member": rng.random(n) < 0.4})


def _interactions() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [(f"u{u}", f"{'ab'[u % 2]}{i}") for u in range(60) for i in rng.choice(8, 4, replace=False)]
    return pd.DataFrame(rows, columns=["user", "item"])


def _texts() -> list[str]:
    rng = np.random.default_rng(0)
    nouns = ["dog", "cat", "bread", "soup", "hammer", "saw", "city", "river"]
    return [f"a {rng.choice(['small', 'old', 'red'])} {rng.choice(nouns)} near the {rng.choice(nouns)}"
            for _ in range(120)]


@pytest.fixture(scope="module")
def served(tmp_path_factory, digits):
    """One tiny fitted model of every saved format, saved, loaded by the server as it would be, and the data."""
    images, _ = digits
    pixels = np.rint(images[:200, 0] * 255).astype(np.uint8)  # (200, 8, 8) uint8
    table = _table(120)
    holes = table.mask(np.random.default_rng(1).random(table.shape) < 0.1)
    rng = np.random.default_rng(0)
    array = rng.normal(size=(120, 6)).astype(np.float32)
    root = tmp_path_factory.mktemp("served")
    fits = {
        "table": AutoEncoder(latent_dim=2, hidden_dims=(8,), max_iter=2, random_state=0).fit(table),
        "array": AutoEncoder(latent_dim=2, hidden_dims=(8,), max_iter=2, random_state=0).fit(array),
        "image": AutoEncoder(latent_dim=3, hidden_dims=(16,), max_iter=2, random_state=0).fit(images[:200]),
        "detector": AnomalyDetector(n_estimators=1, hidden_dims=(8,), max_iter=2, random_state=0).fit(table),
        "clusters": Clusterer(3, manifold=None, max_iter=2, refine_epochs=0, n_init=1, random_state=0).fit(array),
        "imputer": Imputer(max_iter=2, hidden_dims=(16,), random_state=0).fit(holes),
        "denoiser": Denoiser(level=0.2, widths=(4, 4, 4), max_iter=1, random_state=0).fit(pixels[:64]),
        "codec": Codec(latent_dim=4, channels=4, spatial_channels=2, max_iter=1, random_state=0).fit(pixels[:64]),
        "recommender": Recommender(kind="mult-dae", hidden_dim=16, latent_dim=4, n_members=1, max_iter=2,
                                   validation_fraction=0, random_state=0).fit(_interactions()),
        "text": TextAutoEncoder(width=16, heads=2, latent_dim=4, vocab_size=100, batch_size=32, max_iter=1,
                                random_state=0).fit(_texts()),
    }
    for name, est in fits.items():
        est.save(root / name)
    fits["table"].encoder_.save(root / "encoder")
    models = load_models([str(root / n) for n in [*fits, "encoder"]], device="cpu")
    loaded = {m.name: m.estimator for m in models}
    return {"models": models, "est": loaded, "root": root, "table": table, "holes": holes, "array": array,
            "images": images[:200], "pixels": pixels}


@pytest.fixture(scope="module")
def client(served):
    return TestClient(build_app(served["models"]))


def records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def tensor(arr: np.ndarray, datatype: str = "FP32") -> dict:
    return {"inputs": [{"name": "x", "shape": list(arr.shape), "datatype": datatype,
                        "data": np.asarray(arr).ravel().tolist()}]}


def output(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    out = response.json()["outputs"][0]
    return np.asarray(out["data"], dtype=np.float64).reshape(out["shape"])


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def from_png(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)))


def python_error(call) -> str:
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return " ".join(str(info.value).split())


def refused(response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


# ------------------------------------------------------------------------------------------- the catalogue
def test_every_saved_format_is_served_and_described(client, served):
    from aekit.estimators import FORMATS

    assert set(OPERATIONS) == set(FORMATS.names())  # a new format without operations would not be served
    listed = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert {m["format"] for m in listed.values()} == set(OPERATIONS)
    table = client.get("/v1/models/table").json()
    assert table["estimator"] == "AutoEncoder" and table["inputs"]["latent_dim"] == 2
    columns = {c["name"]: c for c in table["inputs"]["columns"]}
    assert columns["amount"]["type"] == "numeric" and columns["channel"]["categories"] == ["phone", "shop", "web"]
    assert "mean" not in columns["amount"]  # the description names what to send, not the training statistics
    assert client.get("/v1/models/image").json()["inputs"] == {"kind": "images", "shape": [1, 8, 8], "latent_dim": 3}
    assert client.get("/v1/models/codec").json()["inputs"] == {"kind": "images", "shape": [1, 8, 8]}
    ops = [o["path"] for o in client.get("/v1/models/detector").json()["operations"]]
    assert ops == ["/v1/models/detector/score", "/v1/models/detector/explain"]
    assert client.get("/health").json() == {"status": "ok", "models": 11}
    schema = client.get("/openapi.json").json()["paths"]["/v1/models/table/encode"]["post"]["requestBody"]
    row = schema["content"]["application/json"]["schema"]["anyOf"][0]["properties"]["records"]["items"]
    assert row["required"] == ["amount", "items", "channel", "member"]
    assert row["properties"]["channel"]["enum"] == ["phone", "shop", "web", None]


# ------------------------------------------------------------------------ each format, as its Python API
def test_autoencoder_on_a_table_answers_records_as_transform_and_reconstruct(client, served):
    ae, frame = served["est"]["table"], served["table"].iloc[:5]
    body = {"records": records(frame)}
    np.testing.assert_allclose(output(client.post("/v1/models/table/encode", json=body)), ae.transform(frame),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(output(client.post("/v1/models/table/reconstruction_error", json=body)),
                               ae.reconstruction_error(frame), rtol=1e-4, atol=1e-6)
    got = pd.DataFrame(client.post("/v1/models/table/reconstruct", json=body).json()["records"])
    want = ae.reconstruct(frame)
    assert list(got.columns) == list(want.columns) and (got["channel"] == want["channel"]).all()
    np.testing.assert_allclose(got["amount"], want["amount"], rtol=1e-4)
    codes = ae.transform(frame)
    decoded = pd.DataFrame(client.post("/v1/models/table/decode", json=tensor(codes)).json()["records"])
    np.testing.assert_allclose(decoded["amount"], ae.inverse_transform(codes)["amount"], rtol=1e-4)


def test_autoencoder_on_an_array_takes_tensors_and_records(client, served):
    ae, x = served["est"]["array"], served["array"][:4]
    want = ae.transform(x)
    np.testing.assert_allclose(output(client.post("/v1/models/array/encode", json=tensor(x))), want, atol=1e-5)
    rows = [{f"x{j}": float(v) for j, v in enumerate(r)} for r in x]
    np.testing.assert_allclose(output(client.post("/v1/models/array/encode", json={"records": rows})), want,
                               atol=1e-5)
    np.testing.assert_allclose(output(client.post("/v1/models/array/encode", json=tensor(x.astype(np.float64),
                                                                                        "FP64"))), want, atol=1e-5)


def test_records_of_an_array_model_read_straight_to_numbers_and_fall_back_for_anything_else(served):
    """The typed reading of the common body gives what the checked reading gives, null as NaN; any other body is
    left to the checked reading, which names what is wrong."""
    from aekit.serve.payloads import numeric_records, read_json, records_input

    spec = served["est"]["array"].input_spec()
    names = [f"x{j}" for j in range(spec["shape"][0])]
    rows = [dict(zip(names, map(float, r))) for r in served["array"][:5]]
    rows[1]["x2"], rows[3]["x0"] = None, 7  # a missing cell and a whole number
    body = json.dumps({"records": rows}).encode()
    fast = numeric_records(body, spec, max_rows=100)
    assert fast.dtype == np.float32 and fast.shape == (5, len(names)) and np.isnan(fast[1, 2]) and fast[3, 0] == 7
    np.testing.assert_array_equal(fast, records_input(read_json(body)["records"], spec, max_rows=100))
    for other in ({"records": [{**rows[0], "extra": 1}]}, {"records": [{n: rows[0][n] for n in names[1:]}]},
                  {"records": [{**rows[0], "x1": "text"}]}, {"records": [{**rows[0], "x1": True}]},
                  {"records": [rows[0]], "more": 1}, tensor(served["array"][:2])):
        assert numeric_records(json.dumps(other).encode(), spec, max_rows=100) is None
    with pytest.raises(RequestError, match="at most 3"):
        numeric_records(body, spec, max_rows=3)


def test_image_models_take_and_give_png(client, served):
    ae, images = served["est"]["image"], served["images"]
    pixels = np.rint(images[0, 0] * 255).astype(np.uint8)
    r = client.post("/v1/models/image/reconstruct", content=png(pixels), headers={"content-type": "image/png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    want = np.rint(np.clip(ae.reconstruct(pixels[None, None] / 255.0), 0, 1) * 255)[0, 0]
    assert np.abs(from_png(r.content).astype(int) - want).max() <= 1
    codes = output(client.post("/v1/models/image/encode", content=png(pixels), headers={"content-type": "image/png"}))
    np.testing.assert_allclose(codes, ae.transform(pixels[None, None] / 255.0), atol=1e-5)
    den, noisy = served["est"]["denoiser"], served["pixels"][5]
    r = client.post("/v1/models/denoiser/denoise", content=png(noisy), headers={"content-type": "image/png"})
    assert r.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(from_png(r.content), den.transform(noisy[None])[0])


def test_codec_compresses_to_bytes_and_decompresses_to_png(client, served):
    codec, image = served["est"]["codec"], served["pixels"][7]
    r = client.post("/v1/models/codec/compress", content=png(image), headers={"content-type": "image/png"})
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.content == codec.compress_each(image[None])[0]
    back = client.post("/v1/models/codec/decompress", content=r.content,
                       headers={"content-type": "application/octet-stream"})
    np.testing.assert_array_equal(from_png(back.content), codec.decompress(r.content)[0])
    damaged = r.content[:-2] + bytes([r.content[-2] ^ 0xFF]) + r.content[-1:]
    message = refused(client.post("/v1/models/codec/decompress", content=damaged,
                                  headers={"content-type": "application/octet-stream"}))
    assert message == python_error(lambda: codec.decompress(damaged, name="the request body"))


def test_detector_scores_labels_and_explains_as_its_python_api(client, served):
    det, frame = served["est"]["detector"], served["table"].iloc[:6]
    got = pd.DataFrame(client.post("/v1/models/detector/score", json={"records": records(frame)}).json()["records"])
    np.testing.assert_allclose(got["score"], det.decision_function(frame), rtol=1e-6)
    np.testing.assert_array_equal(got["label"], det.predict(frame))
    explained = client.post("/v1/models/detector/explain?top=2", json={"records": records(frame)}).json()["records"]
    want = det.explain(frame, top=2)
    assert [r["feature_1"] for r in explained] == list(want["feature_1"])
    np.testing.assert_allclose([r["contribution_2"] for r in explained], want["contribution_2"], rtol=1e-6)


def test_clusterer_imputer_encoder_answer_as_their_python_api(client, served):
    x = served["array"][:10]
    np.testing.assert_array_equal(output(client.post("/v1/models/clusters/predict", json=tensor(x))),
                                  served["est"]["clusters"].predict(x))
    holes = served["holes"].iloc[:8]
    filled = pd.DataFrame(client.post("/v1/models/imputer/impute", json={"records": records(holes)}).json()["records"])
    want = served["est"]["imputer"].transform(holes)
    assert filled.notna().all().all()
    np.testing.assert_allclose(filled["amount"], want["amount"], rtol=1e-5)
    assert list(filled["channel"]) == list(want["channel"])
    frame = served["table"].iloc[:3]
    np.testing.assert_allclose(output(client.post("/v1/models/encoder/encode", json={"records": records(frame)})),
                               served["est"]["encoder"].transform(frame), atol=1e-5)


def test_recommender_and_text_model_answer_as_their_python_api(client, served):
    rec = served["est"]["recommender"]
    got = client.post("/v1/models/recommender/recommend?k=3", json={"users": ["u1", "u2"]}).json()["records"]
    assert pd.DataFrame(got)[["user", "item"]].equals(rec.recommend(["u1", "u2"], k=3)[["user", "item"]])
    new = client.post("/v1/models/recommender/recommend?k=2", json={"histories": {"new": ["a1", "a2"]}}).json()
    assert [r["item"] for r in new["records"]] == list(rec.recommend({"new": ["a1", "a2"]}, k=2)["item"])
    similar = client.post("/v1/models/recommender/similar?k=4", json={"item": "a3"}).json()["records"]
    assert [r["item"] for r in similar] == list(rec.similar_items("a3", k=4)["item"])
    message = refused(client.post("/v1/models/recommender/recommend", json={"users": ["nobody"]}))
    assert message == python_error(lambda: rec.recommend(["nobody"]))
    text = served["est"]["text"]
    queries = ["a red dog near the river", "an old saw"]
    np.testing.assert_allclose(output(client.post("/v1/models/text/embed", json={"texts": queries})),
                               text.transform(queries), atol=1e-5)
    near = client.post("/v1/models/text/neighbours?k=2", json={"texts": queries}).json()["records"]
    assert [r["id"] for r in near] == list(text.neighbours(queries, k=2)["id"])


# ------------------------------------------------------------------------------------------ bad requests
@pytest.mark.parametrize("route, body, call", [
    ("table/encode", {"records": [{"amount": "lots", "items": 1, "channel": "web", "member": True}]},
     lambda e: e.transform(pd.DataFrame([{"amount": "lots", "items": 1, "channel": "web", "member": True}]))),
    ("table/encode", {"records": [{"amount": 1.0, "items": 1, "channel": "web"}]},
     lambda e: e.transform(pd.DataFrame([{"amount": 1.0, "items": 1, "channel": "web"}]))),
    ("array/encode", {"inputs": [{"name": "x", "shape": [1, 6], "datatype": "FP32", "data": [1, 2, None, 4, 5, 6]}]},
     lambda e: e.transform(np.array([[1, 2, np.nan, 4, 5, 6]], dtype=np.float32))),
    ("array/encode", {"inputs": [{"name": "x", "shape": [1, 5], "datatype": "FP32", "data": [1, 2, 3, 4, 5]}]},
     lambda e: e.transform(np.ones((1, 5), dtype=np.float32))),
    ("array/decode", {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]},
     lambda e: e.inverse_transform(np.ones((1, 3), dtype=np.float32))),
    ("imputer/impute", {"records": [{"amount": 1.0, "items": 2, "channel": "fax", "member": None}]},
     lambda e: e.transform(pd.DataFrame([{"amount": 1.0, "items": 2, "channel": "fax", "member": None}]))),
])
def test_a_bad_request_gets_the_python_apis_message(client, served, route, body, call):
    estimator = served["est"][route.split("/")[0]]
    assert refused(client.post(f"/v1/models/{route}", json=body)) == python_error(lambda: call(estimator))


def test_images_of_the_wrong_size_get_the_python_apis_message(client, served):
    big = np.zeros((12, 12), np.uint8)
    message = refused(client.post("/v1/models/image/encode", content=png(big), headers={"content-type": "image/png"}))
    assert message == python_error(lambda: served["est"]["image"].transform(big[None, None] / 255.0))
    message = refused(client.post("/v1/models/codec/compress", content=png(big),
                                  headers={"content-type": "image/png"}))
    assert message == python_error(lambda: served["est"]["codec"].compress_each(big[None]))


@pytest.mark.parametrize("route, kwargs, status, words", [
    ("table/encode", {"content": b"{not json"}, 400, "not valid JSON"),
    ("table/encode", {"json": {"rows": []}}, 400, "'records' or 'inputs'"),
    ("table/encode", {"json": {"records": []}}, 400, "no rows"),
    ("table/encode", {"json": {"records": [{"amount": [1, 2]}]}}, 400, "a cell holds a number"),
    ("array/encode", {"json": {"inputs": [{"name": "x", "shape": [1, 6], "datatype": "FP32", "data": [1]}]}}, 400,
     "holds 6 values"),
    ("array/encode", {"json": {"inputs": [{"name": "x", "shape": [1, 6], "datatype": "STR", "data": [1]}]}}, 400,
     "datatype"),
    ("array/encode", {"json": {"records": [{"x0": 1}]}}, 400, "missing: ['x1'"),
    ("array/encode", {"content": b"abc", "headers": {"content-type": "text/plain"}}, 415, "application/json"),
    ("image/encode", {"content": b"\x89PNG broken", "headers": {"content-type": "image/png"}}, 400, "not a readable"),
    ("detector/explain?top=0", {"json": {"records": []}}, 400, "between 1 and"),
    ("detector/score?k=3", {"json": {"records": []}}, 400, "unknown query parameter"),
    ("codec/decompress", {"content": b"", "headers": {"content-type": "application/octet-stream"}}, 400, "no body"),
    ("recommender/similar", {"json": {"item": [1]}}, 400, "one item id"),
    ("text/embed", {"json": {"texts": "one string"}}, 400, "list of strings"),
    ("table/encode", {"content": b"[" * 100_000 + b"]" * 100_000}, 400, "not valid JSON"),
    ("array/encode", {"json": {"inputs": [{"name": "x", "shape": [1, 6], "datatype": "FP64",
                                           "data": [10 ** 400] * 6}]}}, 400, "not valid JSON"),
])
def test_malformed_requests_get_a_4xx_with_one_line(client, route, kwargs, status, words):
    assert words in refused(client.post(f"/v1/models/{route}", **kwargs), status)


def test_limits_on_body_size_and_rows(served):
    small = TestClient(build_app(served["models"], ServeSettings(max_body_bytes=2000, max_rows=3)))
    x = np.zeros((4, 6), np.float32)
    assert "at most 3" in refused(small.post("/v1/models/array/encode", json=tensor(x)), 413)
    assert "at most 2000 bytes" in refused(small.post("/v1/models/array/encode", content=b"[" + b"0," * 2000 + b"0]"),
                                           413)

    def chunks():  # no Content-Length: counted while it arrives
        for _ in range(10):
            yield b" " * 500

    assert "passed 2000 bytes" in refused(small.post("/v1/models/array/encode", content=chunks()), 413)
    assert small.post("/v1/models/array/encode", json=tensor(x[:3])).status_code == 200


def test_api_key_from_the_environment_guards_every_route_but_health(served, monkeypatch):
    secure = TestClient(build_app(served["models"], ServeSettings(api_key="s3cret")))
    body = tensor(served["array"][:1])
    assert "API key" in refused(secure.post("/v1/models/array/encode", json=body), 401)
    refused(secure.get("/v1/models"), 401)
    refused(secure.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    refused(secure.get("/openapi.json", headers={"X-API-Key": "s3cre"}), 401)
    assert secure.get("/health").status_code == 200
    assert secure.post("/v1/models/array/encode", json=body, headers={"Authorization": "Bearer s3cret"}).status_code \
        == 200
    assert secure.get("/v1/models", headers={"X-API-Key": "s3cret"}).status_code == 200
    options = {a.dest for a in build_parser("serve")._subparsers._group_actions[0].choices["serve"]._actions}
    assert not any("key" in o for o in options)  # a key on the command line would show in `ps`


def test_only_the_named_directories_are_served(client, served, tmp_path):
    for path in ("/v1/models/..%2F..%2Fetc/encode", "/v1/models/nothere/encode", f"/v1/models/{served['root']}"):
        assert client.post(path, json={}).status_code in (404, 405)
    with pytest.raises(ValueError, match="two models are named"):
        load_models([str(served["root"] / "array"), f"array={served['root'] / 'table'}"])
    with pytest.raises(FileNotFoundError):
        load_models([str(tmp_path / "missing")])
    assert "takes POST" in refused(client.get("/v1/models/detector/score"), 405)
    documented = client.get("/openapi.json").json()["paths"]
    assert all(set(documented[f"/v1/models/{m.name}/{op.name}"]) == {"post"} for m in served["models"]
               for op in m.operations)


def test_the_cli_binds_to_loopback_and_reads_the_key_from_the_environment(served, monkeypatch, capsys):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setenv("AEKIT_API_KEY", "k")
    assert main(["serve", f"ae={served['root'] / 'array'}", "--port", "8123"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    c = TestClient(seen["app"])
    assert c.get("/v1/models").status_code == 401
    assert c.get("/v1/models", headers={"X-API-Key": "k"}).json()["models"][0]["name"] == "ae"
    assert main(["serve", str(served["root"] / "absent")]) == 2
    assert "not found" in capsys.readouterr().err


def test_each_model_runs_on_a_worker_thread_with_the_servers_thread_limits(served):
    """OpenMP keeps its thread count per calling thread, so the limits must be set on the model's worker thread
    itself: a limit set only where the server starts left the worker's neighbour search on every core."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def counts() -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for pool in threadpool_info():
            found.setdefault(pool["user_api"], set()).add(pool["num_threads"])
        return found

    before = torch.get_num_threads()
    with threadpool_limits(limits=None):  # restores this thread's pools after the loads below changed them
        for threads in (1, 2):
            [model] = load_models([str(served["root"] / "detector")], device="cpu", threads=threads)
            try:
                seen = model.executor.submit(counts).result()
            finally:
                model.executor.shutdown()
            assert seen["openmp"] == {threads} and seen["blas"] == {1}, seen
    torch.set_num_threads(before)


def test_a_server_with_two_threads_scores_without_openblas_warnings(tmp_path):
    """``aekit serve --threads 2``, a real server on loopback: the detector's neighbour search runs on the model's
    worker thread, where a raised OpenBLAS thread count printed a may-hang warning on every call (and a server
    whose stderr went to an unread pipe stopped when the pipe filled)."""
    import httpx

    X = np.random.default_rng(0).random((600, 21)).astype(np.float32)
    AnomalyDetector(n_estimators=1, hidden_dims=(8,), max_iter=2, random_state=0).fit(X).save(tmp_path / "det")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "server.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "aekit", "serve", f"det={tmp_path / 'det'}",
                                 "--port", str(port), "--threads", "2"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        for _ in range(3):
            r = httpx.post(f"{url}/v1/models/det/score", json=tensor(X[:256]), timeout=30)
            assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "OpenBLAS Warning" not in log.read_text()


# ---------------------------------------------------------------------------------------- micro-batching
def test_concurrent_single_rows_share_model_calls_and_get_their_own_answers(served):
    app = build_app(served["models"], ServeSettings(batch_wait_ms=50))
    det, frame = served["est"]["detector"], served["table"].iloc[:16]
    want = det.decision_function(frame)
    bad = {"records": [{"amount": "lots", "items": 1, "channel": "web", "member": True}]}

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            bodies = [{"records": records(frame.iloc[i : i + 1])} for i in range(16)] + [bad]
            return await asyncio.gather(*(c.post("/v1/models/detector/score", json=b) for b in bodies))

    answers = asyncio.run(run())
    scores = [a.json()["records"][0]["score"] for a in answers[:16]]
    np.testing.assert_allclose(scores, want, rtol=1e-9)  # each request its own row, as scored alone
    assert answers[16].status_code == 400  # the bad row failed alone, without spoiling the others
    text = app.state.metrics.render()
    calls = int(re.search(r'aekit_model_calls_total\{model="detector",operation="score"\} (\d+)', text).group(1))
    assert calls <= 3  # 17 requests: the 16 good rows shared a call or two, the bad one ran alone
    assert 'aekit_requests_total{route="/v1/models/detector/score",status="200"} 16' in text
    assert 'aekit_request_duration_seconds_count{route="/v1/models/detector/score"} 17' in text


def test_concurrent_requests_with_other_parameters_do_not_share_a_call(served):
    app = build_app(served["models"], ServeSettings(batch_wait_ms=50))
    det, frame = served["est"]["detector"], served["table"].iloc[:4]

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.post(f"/v1/models/detector/explain?top={1 + i % 2}",
                                                 json={"records": records(frame.iloc[i : i + 1])}) for i in range(4)))

    for i, answer in enumerate(asyncio.run(run())):
        got, want = answer.json()["records"][0], det.explain(frame.iloc[i : i + 1], top=1 + i % 2)
        assert ("feature_2" in got) == (i % 2 == 1) and got["feature_1"] == want["feature_1"].iloc[0]


# --------------------------------------------------------------------------------------------- the fuzz
FUZZ_SECONDS = 10.0


def test_schema_driven_fuzz_finds_no_server_error_and_no_traceback(served):
    """Requests generated from /openapi.json (valid ones, and ones that break the schema), in-process, bounded in
    number and time: no answer may be a 5xx or carry a traceback."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode

    app = build_app(served["models"], ServeSettings(max_rows=50, batch_wait_ms=0))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen = {"requests": 0, "5xx": 0, "traceback": 0, "statuses": {}}
    deadline = time.monotonic() + FUZZ_SECONDS

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        @settings(max_examples=250, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=schema.as_strategy(generation_mode=mode))
        def fuzz(case):
            if time.monotonic() > deadline:
                return
            response = case.call()
            seen["requests"] += 1
            seen["statuses"][response.status_code] = seen["statuses"].get(response.status_code, 0) + 1
            seen["5xx"] += response.status_code >= 500
            seen["traceback"] += b"Traceback" in response.content or b'File "' in response.content

        fuzz()
    print(f"\nfuzz: {seen}")
    assert seen["requests"] >= 100 and seen["5xx"] == 0 and seen["traceback"] == 0
    assert any(200 <= s < 300 for s in seen["statuses"]) and any(400 <= s < 500 for s in seen["statuses"])


def test_loading_reads_no_pickle(served, monkeypatch):
    files = {p.suffix for p in served["root"].rglob("*") if p.is_file()}
    assert files <= {".json", ".safetensors", ".csv"}

    def refuse(*args, **kwargs):
        raise AssertionError("a saved model was unpickled")

    for module, name in ((pickle, "load"), (pickle, "loads"), (torch, "load")):
        monkeypatch.setattr(module, name, refuse)
    models = load_models([str(served["root"] / n) for n in ("detector", "encoder", "recommender", "text")],
                         device="cpu")
    assert [type(m.estimator).__name__ for m in models] == ["AnomalyDetector", "Encoder", "Recommender",
                                                            "TextAutoEncoder"]
