"""A stand-in for ``llama_cpp.server`` that crashes the way llama.cpp does on an AMX-faulting CPU.

Run by Scholium's boot script exactly like the real server (``local.server_module =
"tests.standin_llama_server"``): same flags, same ``SCHOLIUM_LLAMA_EXTRA_BUFFERS`` switch. It serves
``GET /v1/models``, streaming and plain ``POST /v1/chat/completions`` and ``/extras/tokenize``,
and kills itself with a real SIGSEGV according to ``STANDIN_CRASH``:

- ``default``: on the first completion when extra buffer types are on (the AMX fault);
- ``always``: on the first completion in every configuration;
- ``request-N``: on the N-th completion of each process (the self-test is the first), in every
  configuration — a crash while serving users.

Each launch appends ``{"extra_buffers", "threads", "mmap", "pid"}`` as a JSON line to
``STANDIN_LOG``. Replies are deterministic: the first evidence sentence of source [1] with its
marker (so Scholium's citation check accepts it), or "OK" for other prompts.
"""

from __future__ import annotations

import argparse
import ctypes
import faulthandler
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_completions = 0


def _crash_now(extra_buffers: bool) -> bool:
    mode = os.environ.get("STANDIN_CRASH", "")
    if mode == "default":
        return extra_buffers and _completions == 1
    if mode == "always":
        return _completions == 1
    if mode.startswith("request-"):
        return _completions == int(mode.split("-", 1)[1])
    return False


def _segfault() -> None:
    """A real segmentation fault in the handling thread (like ggml's), not a queued signal that
    would let this thread finish its reply first."""
    sys.stderr.flush()
    faulthandler.disable()
    ctypes.string_at(0)


def reply_for(messages: list[dict[str, Any]]) -> str:
    """First sentence of evidence source [1] with its marker, else "OK"."""
    text = str(messages[-1].get("content", "")) if messages else ""
    match = re.search(r"^\[1\] [^\n]*\n([^\n]+)", text, re.MULTILINE)
    if not match:
        return "OK"
    first = re.split(r"(?<=[.!?])\s+", match.group(1).strip())[0].rstrip(".")
    return f"{first} [1]."


def _handler(model_id: str, extra_buffers: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, body: Any, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._json({"object": "list", "data": [{"id": model_id, "object": "model"}]})

        def do_POST(self) -> None:
            global _completions
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path.endswith("/tokenize"):
                self._json({"tokens": list(range(len(str(request.get("input", "")).split())))})
                return
            _completions += 1
            if _crash_now(extra_buffers):
                _segfault()
            text = reply_for(request.get("messages") or [])
            if not request.get("stream"):
                self._json({
                    "id": "standin", "object": "chat.completion", "created": 0, "model": model_id,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                })  # fmt: skip
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            words = text.split(" ")
            for i, word in enumerate(words):
                last = i == len(words) - 1
                chunk = {
                    "id": "standin", "object": "chat.completion.chunk", "created": 0, "model": model_id,
                    "choices": [{"index": 0, "delta": {"content": word + ("" if last else " ")},
                                 "finish_reason": "stop" if last else None}],
                }  # fmt: skip
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--model_alias")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n_threads", type=int, default=1)
    parser.add_argument("--use_mmap", default="True")
    args, _unknown = parser.parse_known_args()
    extra_buffers = os.environ.get("SCHOLIUM_LLAMA_EXTRA_BUFFERS", "1") != "0"
    log = os.environ.get("STANDIN_LOG")
    if log:
        launch = {"extra_buffers": extra_buffers, "threads": args.n_threads,
                  "mmap": args.use_mmap == "True", "pid": os.getpid()}  # fmt: skip
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(launch) + "\n")
    handler = _handler(args.model_alias or args.model, extra_buffers)
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
