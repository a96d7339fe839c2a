"""The embedded server heals itself on a CPU that faults on llama.cpp's AMX path.

The CI machine may not fault at all, so the fault is simulated by a stand-in server process
(tests/standin_llama_server.py) that Scholium launches exactly like llama_cpp.server: it dies with
a real SIGSEGV on its first completion in the default configuration (extra buffer types on) and
works in the safe one, or crashes in every configuration, or crashes while serving requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Assistant, Settings
from rag.generate.client import LLMClient, LLMUnavailable
from rag.generate.launch import PROFILE_FILE, LaunchProfiles, ladder, profile_key
from rag.generate.local_server import LocalLLMServer, LocalServerError, get_local_server, stop_local_servers

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.standin_llama_server"


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fake GGUF file, a launch log, and the stand-in importable by the child process."""
    model = tmp_path / "fake.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 60)
    log = tmp_path / "launches.jsonl"
    monkeypatch.setenv("STANDIN_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.chdir(ROOT)
    yield {"model": model, "log": log, "profiles": tmp_path / "models" / PROFILE_FILE}
    stop_local_servers()


def launches(log: Path) -> list[dict[str, Any]]:
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def server(env: dict[str, Any], **kw: Any) -> LocalLLMServer:
    kw.setdefault("extra_buffers", "auto")
    return LocalLLMServer(
        env["model"],
        threads=2,
        startup_timeout_s=30,
        self_test_timeout_s=20,
        server_module=MODULE,
        profiles=LaunchProfiles(env["profiles"]),
        **kw,
    )


def settings_for(env: dict[str, Any], base: Settings | None = None, **local: Any) -> Settings:
    opts = {"model": str(env["model"]), "threads": 2, "server_module": MODULE, "self_test_timeout_s": 20,
            "startup_timeout_s": 30, **local}  # fmt: skip
    llm = {"timeout_s": 20, "max_retries": 0}
    if base is None:
        return Settings(data_dir=env["profiles"].parent.parent, progress=False, local=opts, llm=llm)
    return base.with_overrides(local=opts, llm=llm, data_dir=str(env["profiles"].parent.parent))


def test_ladder_follows_the_setting() -> None:
    assert [c.name for c in ladder("auto", 2)] == ["default", "no-extra-buffers", "minimal"]
    assert [c.name for c in ladder("on", 2)] == ["default"]
    assert [c.name for c in ladder("off", 2)] == ["no-extra-buffers", "minimal"]
    minimal = ladder("auto", 4)[-1]
    assert (minimal.extra_buffers, minimal.threads, minimal.mmap) == (False, 1, False)


def test_amx_fault_heals_and_is_remembered(standin: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "default")
    first = server(standin)
    try:
        first.start()
        assert first.config.name == "no-extra-buffers" and first.is_running()
        assert first.last_self_test is not None and first.last_self_test.ok
        assert "SIGSEGV" in first.failures[0] and "default" in first.failures[0]
    finally:
        first.stop()
    assert [launch["extra_buffers"] for launch in launches(standin["log"])] == [True, False]
    entry = LaunchProfiles(standin["profiles"]).get(profile_key(standin["model"]))
    assert entry["config"] == "no-extra-buffers"
    assert entry["crashes"][0]["signal"] == "SIGSEGV" and entry["crashes"][0]["config"] == "default"

    second = server(standin)  # a later process: straight to the configuration that worked
    try:
        second.start()
        assert second.config.name == "no-extra-buffers" and not second.failures
    finally:
        second.stop()
    assert [launch["extra_buffers"] for launch in launches(standin["log"])] == [True, False, False]


def test_pinned_setting_is_not_overridden_by_memory(
    standin: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "")
    LaunchProfiles(standin["profiles"]).remember(
        profile_key(standin["model"]), model=standin["model"], config="minimal"
    )
    for setting, expected in (("on", "default"), ("off", "no-extra-buffers")):
        pinned = server(standin, extra_buffers=setting)
        try:
            pinned.start()
            assert pinned.config.name == expected
        finally:
            pinned.stop()
    assert [launch["extra_buffers"] for launch in launches(standin["log"])] == [True, False]


def test_crash_in_every_configuration_gives_up_once(
    standin: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "always")
    broken = server(standin)
    with pytest.raises(LocalServerError) as err:
        broken.start()
    message = str(err.value)
    for needed in ("SIGSEGV", "every configuration", "default", "no-extra-buffers", "minimal",
                   "SCHOLIUM_LOCAL__EXTRA_BUFFERS", "scholium doctor"):  # fmt: skip
        assert needed in message, (needed, message)
    tried = launches(standin["log"])
    assert [(x["extra_buffers"], x["threads"], x["mmap"]) for x in tried] == [
        (True, 2, True), (False, 2, True), (False, 1, False)
    ]  # fmt: skip
    started = time.perf_counter()
    with pytest.raises(LocalServerError, match="not restarted again"):
        broken.start()  # no relaunch loop: the same message at once
    assert time.perf_counter() - started < 0.5
    assert len(launches(standin["log"])) == 3


def test_crash_while_serving_relaunches_once_then_stops(
    standin: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "request-2")  # the self-test passes, the first request dies
    settings = settings_for(standin)
    client = LLMClient(settings)
    ask = [{"role": "user", "content": "Say something."}]
    with pytest.raises(LLMUnavailable):
        client.chat(ask)
    with pytest.raises(LLMUnavailable):  # relaunched once (safer configuration), dies again
        client.chat(ask)
    assert len(launches(standin["log"])) == 2
    assert launches(standin["log"])[1]["extra_buffers"] is False
    for _ in range(3):
        with pytest.raises(LLMUnavailable, match="crashed twice") as err:
            client.chat(ask)
        assert "SIGSEGV" in str(err.value)
    assert len(launches(standin["log"])) == 2, "a crash must not turn into a relaunch per question"
    with pytest.raises(LocalServerError, match="crashed twice"):
        get_local_server(settings)


def test_first_question_is_answered_by_the_llm_after_a_fault(
    standin: dict[str, Any], monkeypatch: pytest.MonkeyPatch, small_settings: Settings
) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "default")
    settings = settings_for(standin, small_settings)
    assistant = Assistant(settings)
    title = assistant.search("transformer", k=1)[0].title
    answer = assistant.ask(f"What does the paper '{title}' do?", mode="llm")
    assert answer.notice is None, answer.notice
    assert answer.mode.generator == "llm" and answer.citations, answer.to_dict()
    assert [x["extra_buffers"] for x in launches(standin["log"])] == [True, False]

    stop_local_servers()  # as if the process ended: the next start goes straight to the safe one
    again = Assistant(settings).ask(f"What does the paper '{title}' do?", mode="llm")
    assert again.mode.generator == "llm" and again.notice is None
    assert [x["extra_buffers"] for x in launches(standin["log"])] == [True, False, False]


def test_server_broken_everywhere_gives_one_clear_notice(
    standin: dict[str, Any], monkeypatch: pytest.MonkeyPatch, small_settings: Settings
) -> None:
    monkeypatch.setenv("STANDIN_CRASH", "always")
    assistant = Assistant(settings_for(standin, small_settings))
    titles = [hit.title for hit in assistant.search("transformer", k=2)]
    first = assistant.ask(f"What does the paper '{titles[0]}' do?", mode="llm")
    second = assistant.ask(f"What does the paper '{titles[1]}' propose?", mode="llm")
    for answer in (first, second):
        assert answer.notice and "SIGSEGV" in answer.notice and "EXTRA_BUFFERS" in answer.notice
        assert answer.mode.generator != "llm" and answer.mode.fallback_reason == "llm_unavailable"
    assert len(launches(standin["log"])) == 3, "no relaunch per question"
