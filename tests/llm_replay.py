"""Record once, replay in CI: an OpenAI-compatible HTTP server that answers chat completions
from a cassette of real responses (recorded from the embedded Qwen model).

Set ``SCHOLIUM_RECORD=1`` to fill missing entries by forwarding to the real local model;
otherwise a request without a recording fails loudly (HTTP 500), so a changed prompt is noticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CASSETTES = Path(__file__).resolve().parent / "data" / "cassettes"


def request_key(messages: list[dict[str, str]]) -> str:
    """Stable key of a chat request (its messages)."""
    blob = json.dumps([[m["role"], m["content"]] for m in messages], ensure_ascii=False)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


class Cassette:
    """Recorded responses keyed by request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.is_file() else {}
        self.lock = threading.Lock()
        self.misses: list[str] = []

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.entries, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "replay", "object": "chat.completion", "created": 0, "model": "replay",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }  # fmt: skip


def _chunks(text: str) -> Iterator[bytes]:
    pieces = [text[i : i + 12] for i in range(0, len(text), 12)] or [""]
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        choice = {"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}
        body = {"id": "replay", "object": "chat.completion.chunk", "created": 0, "model": "replay",
                "choices": [choice]}  # fmt: skip
        yield f"data: {json.dumps(body)}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _handler(cassette: Cassette, record: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = json.dumps({"object": "list", "data": [{"id": "replay", "object": "model"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = request_key(request["messages"])
            with cassette.lock:
                entry = cassette.entries.get(key)
                if entry is None and record is not None:
                    text = record.chat(request["messages"], max_tokens=request.get("max_tokens"))
                    entry = cassette.entries[key] = {"messages": request["messages"], "response": text}
                    cassette.save()
            if entry is None:
                cassette.misses.append(key)
                body = json.dumps(
                    {
                        "error": {
                            "message": f"no recording for request {key}; re-record with SCHOLIUM_RECORD=1"
                        }
                    }
                ).encode()
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            text = str(entry["response"])
            if request.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(text):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                return
            body = json.dumps(_completion(text)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def replay_server(name: str) -> Iterator[tuple[str, Cassette]]:
    """Serve cassette ``name`` on a free loopback port; yields (base_url, cassette)."""
    cassette = Cassette(CASSETTES / f"{name}.json")
    record = None
    if os.environ.get("SCHOLIUM_RECORD") == "1":
        from rag.generate import LLMClient
        from rag.settings import Settings

        record = LLMClient(Settings(llm={"temperature": 0.0}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cassette, record))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", cassette
    finally:
        server.shutdown()
        server.server_close()
