"""LLMClient error mapping against a real tiny HTTP server (no mocks of the openai library)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from rag.generate.client import LLMBadOutput, LLMClient, LLMRejected, LLMUnavailable
from rag.generate.local_server import free_port
from rag.settings import Settings

SECRET = "sk-test-SECRET-0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }  # fmt: skip


def _chunk(text: str | None, finish: str | None = None) -> bytes:
    delta = {"content": text} if text is not None else {}
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    return f"data: {json.dumps(body)}\n\n".encode()


class FakeLLM(BaseHTTPRequestHandler):
    """Behaviour chosen by the first path segment: /<mode>/v1/chat/completions."""

    hits: ClassVar[Counter[str]] = Counter()
    bodies: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        mode = self.path.split("/")[1]
        FakeLLM.hits[mode] += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeLLM.bodies.append(body)
        if mode == "ok":
            self._send(200, json.dumps(_completion("hello")).encode())
        elif mode == "500":
            self._send(500, b'{"error": {"message": "boom"}}')
        elif mode == "flaky":
            if FakeLLM.hits[mode] == 1:
                self._send(503, b'{"error": {"message": "busy"}}')
            else:
                self._send(200, json.dumps(_completion("recovered")).encode())
        elif mode in ("400", "401"):
            msg = f"bad request, key {SECRET}" if mode == "400" else f"Incorrect API key {SECRET}"
            self._send(int(mode), json.dumps({"error": {"message": msg}}).encode())
        elif mode == "garbage":
            self._send(200, b"<html>definitely not an API</html>", "text/html")
        elif mode == "badjson":
            self._send(200, b'{"choices": 12', "application/json")
        elif mode == "hang":
            time.sleep(3)
            self._send(200, json.dumps(_completion("late")).encode())
        elif mode.startswith("stream"):
            self._stream(mode)

    def _stream(self, mode: str) -> None:
        parts = [_chunk("Hel"), _chunk("lo"), _chunk(None, "stop"), b"data: [DONE]\n\n"]
        if mode == "streamcut":
            # promise more bytes than are sent, then drop the connection
            parts = parts[:2]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for p in parts:
                self.wfile.write(p)
                self.wfile.flush()
            self.close_connection = True
            return
        if mode == "streamshort":  # a clean end, but no finish_reason
            parts = parts[:2]
        payload = b"".join(parts)
        self._send(200, payload, "text/event-stream")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out on purpose leave broken pipes behind


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), FakeLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _reset() -> None:
    FakeLLM.hits.clear()
    FakeLLM.bodies.clear()


def client(url: str, mode: str, tmp_path: Path, **llm: Any) -> LLMClient:
    opts: dict[str, Any] = {"base_url": f"{url}/{mode}/v1", "api_key": SECRET, "timeout_s": 5.0,
                            "connect_timeout_s": 1.0, "max_retries": 2, **llm}  # fmt: skip
    settings = Settings(data_dir=tmp_path, llm=opts)
    return LLMClient(settings, retry_wait_s=0.01)


def test_ok(fake_url: str, tmp_path: Path) -> None:
    with client(fake_url, "ok", tmp_path) as c:
        assert c.chat(MESSAGES, max_tokens=5) == "hello"
    assert FakeLLM.bodies[0]["max_tokens"] == 5
    assert FakeLLM.bodies[0]["temperature"] == 0.0


def test_5xx_retried_then_unavailable(fake_url: str, tmp_path: Path) -> None:
    c = client(fake_url, "500", tmp_path)
    with pytest.raises(LLMUnavailable, match="HTTP 500") as err:
        c.chat(MESSAGES)
    assert FakeLLM.hits["500"] == 3  # 1 + max_retries
    assert SECRET not in str(err.value) and "/500/v1" in str(err.value)


def test_transient_failure_recovers(fake_url: str, tmp_path: Path) -> None:
    assert client(fake_url, "flaky", tmp_path).chat(MESSAGES) == "recovered"
    assert FakeLLM.hits["flaky"] == 2


@pytest.mark.parametrize("code", ["400", "401"])
def test_4xx_not_retried_and_key_not_leaked(fake_url: str, tmp_path: Path, code: str) -> None:
    with pytest.raises(LLMRejected) as err:
        client(fake_url, code, tmp_path).chat(MESSAGES)
    assert FakeLLM.hits[code] == 1
    assert err.value.status_code == int(code)
    assert SECRET not in str(err.value)
    assert isinstance(err.value, LLMUnavailable)


@pytest.mark.parametrize("mode", ["garbage", "badjson"])
def test_malformed_response_is_bad_output(fake_url: str, tmp_path: Path, mode: str) -> None:
    with pytest.raises(LLMBadOutput):
        client(fake_url, mode, tmp_path).chat(MESSAGES)


def test_timeout(fake_url: str, tmp_path: Path) -> None:
    c = client(fake_url, "hang", tmp_path, timeout_s=0.3, max_retries=1)
    start = time.perf_counter()
    with pytest.raises(LLMUnavailable, match="timed out"):
        c.chat(MESSAGES)
    assert time.perf_counter() - start < 2.5
    assert FakeLLM.hits["hang"] == 2


def test_connection_refused(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(LLMUnavailable, match="cannot reach") as err:
        client(url, "x", tmp_path, max_retries=1).chat(MESSAGES)
    assert url in str(err.value)


def test_stream(fake_url: str, tmp_path: Path) -> None:
    assert list(client(fake_url, "stream", tmp_path).stream(MESSAGES)) == ["Hel", "lo"]
    assert FakeLLM.bodies[-1]["stream"] is True


@pytest.mark.parametrize("mode", ["streamcut", "streamshort"])
def test_stream_cut_midway(fake_url: str, tmp_path: Path, mode: str) -> None:
    got: list[str] = []
    with pytest.raises(LLMUnavailable):
        got.extend(client(fake_url, mode, tmp_path).stream(MESSAGES))
    assert got == ["Hel", "lo"]


def test_stream_5xx_before_first_token(fake_url: str, tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="HTTP 500"):
        list(client(fake_url, "500", tmp_path, max_retries=0).stream(MESSAGES))
    assert FakeLLM.hits["500"] == 1
