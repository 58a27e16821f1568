"""A local HTTP server in a thread that records every request it receives (the chat apps' stand-in)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class HookServer:
    """``responses``: (status, JSON body) answered in turn; then ``default``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.responses: list[tuple[int, Any]] = []
        self.default: tuple[int, Any] = (200, {"errcode": 0, "errmsg": "ok"})
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                server.received.append(Received(parts.path, parse_qs(parts.query), dict(self.headers),
                                                json.loads(raw.decode("utf-8"))))
                status, body = server.responses.pop(0) if server.responses else server.default
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
