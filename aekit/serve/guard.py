"""The door of the server: the API key, the body-size limit, and the request metrics, as one ASGI middleware.

Written as plain ASGI rather than as a framework middleware so that it costs a few microseconds per request (the
server answers one-row requests in about a millisecond) and so that it can stop an oversized body while it is
still arriving, before it is held in memory.

* **API key**: when the server has one (read from an environment variable at start, never from the command
  line, where ``ps`` shows it to every user of the machine), every request but ``GET /health`` must carry it as
  ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; without it the answer is 401. Keys are compared in
  constant time.
* **Body limit**: a ``Content-Length`` over the limit is answered 413 at once; a body sent in chunks without one is
  counted as it arrives and refused when it passes the limit.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from .errors import RequestError, error_body
from .metrics import Metrics

#: The one route answered without the API key (load balancers and orchestrators probe it).
OPEN_PATHS = frozenset({"/health"})


async def reply(send: Any, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer ``{"error": message}`` with ``status`` directly on the ASGI channel."""
    body = error_body(message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: API key, body limit and request metrics in front of ``app``.

    Parameters
    ----------
    app : ASGI application
    api_key : str or None
        The key every request (but ``/health``) must carry; ``None`` lets every request through.
    max_body : int
        Most bytes a request body may have.
    metrics : Metrics
    """

    def __init__(self, app: Any, *, api_key: str | None, max_body: int, metrics: Metrics) -> None:
        self.app, self.max_body, self.metrics = app, int(max_body), metrics
        self.key = api_key.encode() if api_key else None

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        given = headers.get(b"x-api-key")
        auth = headers.get(b"authorization", b"")
        if given is None and auth[:7].lower() == b"bearer ":
            given = auth[7:].strip()
        return given is not None and hmac.compare_digest(given, self.key)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sent(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            headers = dict(scope["headers"])
            if self.key is not None and scope["path"] not in OPEN_PATHS and not self._authorised(headers):
                await reply(sent, 401, "this server needs an API key: send it as 'Authorization: Bearer KEY' or "
                            "'X-API-Key: KEY'", [(b"www-authenticate", b"Bearer")])
                return
            length = headers.get(b"content-length", b"0")
            if not length.isdigit() or int(length) > self.max_body:
                shown = length.decode("latin-1")[:20]
                await reply(sent, 413 if length.isdigit() else 400,
                            f"the request body has Content-Length {shown}; this server takes at most {self.max_body} "
                            "bytes per request (--max-body-bytes)")
                return
            await self.app(scope, self._limited(receive), sent)
        finally:
            self.metrics.request(scope["path"], status[0], time.perf_counter() - started)

    def _limited(self, receive: Any) -> Any:
        seen = [0]

        async def limited() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.max_body:
                    raise RequestError(413, f"the request body passed {self.max_body} bytes; this server takes at "
                                       "most that many per request (--max-body-bytes)")
            return message

        return limited


__all__ = ["Guard", "OPEN_PATHS", "reply"]
