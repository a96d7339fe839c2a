"""Load test: N concurrent chat sessions against the Gradio app and the Python API at once.

    python -m bench.load --sessions 20 --duration 120 --mode extractive [--turns 3] [--data DIR]
    python -m bench.load --sessions 20 --duration 480 --mode llm --turns 1

One serving process holds one ``Assistant`` and serves the chat UI (``ui.app.build_app`` +
``serve``) on 127.0.0.1. Half of the sessions (rounded up) are browsers' stand-ins: they talk to
the app over HTTP with ``gradio_client`` from a separate client process, so the serving
process's memory is the server's alone. The other half call ``Assistant.ask`` from threads of the
serving process (a script using the Python API next to the UI).

Each session holds conversations: a question about one paper of the bundled corpus (by its
title, so every conversation has a known subject) and ``--turns - 1`` follow-ups ("What results
does it report?"), each sent with the conversation so far. Sessions cycle through their own
conversations (different papers per session) until ``--duration`` seconds have passed or each
has asked ``--max-turns``; a turn in flight at the deadline is finished and counted.

Correctness: before the load, every conversation is answered once, sequentially (this is also
the warm-up: models loaded, sentence vectors cached). Under load, every answer must be the one
its own question got alone: the same text, citations and quoted sentences (extractive mode is
deterministic). With the LLM, generated text may vary, so an answer must echo its own
question and cite only papers retrieved for it; falling back to an extractive answer (the LLM
failed or timed out) is counted separately. UI answers also have to show the session's own
conversation (the right number of turns). Anything else is an error or a mix-up.

Memory: RSS (VmRSS) of the serving process is sampled every ``--sample-s`` seconds; the report
gives it after warm-up (the answers above plus one turn through the app, then a garbage
collection and glibc ``malloc_trim``: start), at mid-run, at the end, and after another
collection and trim ("retained": what the run left in use). Threads doing NumPy work make
glibc keep freed memory in per-thread arenas, so raw RSS creeps up under load even when
nothing leaks; the trimmed figure tells the two apart. With
the embedded LLM the llama.cpp server's RSS is reported too.

With ``--mode llm`` and no ``llm.base_url`` configured, answers come from the embedded llama.cpp
server, which generates one answer at a time: latencies then mostly measure queueing. Runs are
bounded by ``--duration``: when it passes, sessions stop starting turns; ``--hard-stop S`` more
seconds later, turns still queued are abandoned and their sessions counted as unfinished.

Results: ``bench/results/load_<mode>.json`` and ``.md`` (``--out`` to change the folder).
"""

from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.sessions import (
    Conversation,
    Expected,
    TurnResult,
    api_session,
    check,
    conversations,
    expected_answers,
    ui_client_process,
    ui_session,
)

from .common import RESULTS, machine, percentile, write_json

log = logging.getLogger("bench.load")


def trim_heap() -> None:
    """Collect garbage and hand free heap memory back to the OS (glibc ``malloc_trim``), so
    that RSS shows what is still in use rather than what the allocator keeps for reuse."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def rss_mb(pid: int | str = "self") -> float | None:
    """Resident set size (VmRSS) of a process in MiB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


class RssSampler:
    """Samples the RSS of this process (and optionally another) in a background thread."""

    def __init__(self, every_s: float, other_pid: int | None = None) -> None:
        self.every_s = every_s
        self.other_pid = other_pid
        self.samples: list[tuple[float, float | None, float | None]] = []
        self.blocks: list[int] = []  # sys.getallocatedblocks(): Python objects alive
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        """Record one sample now."""
        other = rss_mb(self.other_pid) if self.other_pid else None
        self.samples.append((time.monotonic(), rss_mb(), other))
        self.blocks.append(sys.getallocatedblocks())

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def at(self, when: float) -> float | None:
        """The serving process's RSS in the sample nearest to ``when``."""
        if not self.samples:
            return None
        return min(self.samples, key=lambda s: abs(s[0] - when))[1]


# -- the run ----------------------------------------------------------------------------------------
def _served(assistant: Any, host: str = "127.0.0.1") -> tuple[Any, str]:
    from rag.generate.local_server import free_port
    from ui.app import build_app, serve

    port = free_port(host)
    demo = build_app(assistant)
    _, url, _ = serve(demo, assistant.settings.ui, host=host, port=port, prevent_thread_lock=True, quiet=True)
    return demo, url


@dataclass
class Phase:
    """The outcome of one round of concurrent sessions."""

    results: list[TurnResult]
    go: float
    deadline: float
    end: float
    unfinished: int
    hard_stopped: bool


def run_phase(
    assistant: Any,
    url: str,
    plans: list[tuple[int, list[Conversation]]],
    ui_n: int,
    mode: str,
    duration: float,
    max_turns: int,
    hard_stop: float,
    expected: dict[tuple[str, int], Expected],
) -> Phase:
    """All sessions at once: ``plans[:ui_n]`` through the app from a client process, the rest
    through the API in threads of this process; turns start until ``duration`` has passed.

    Each result is checked against ``expected`` as it arrives and its answer text dropped, so
    that what the run keeps does not grow with the answers (memory is being measured)."""
    k = assistant.settings.retrieval.k
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    results: list[TurnResult] = []
    lock = threading.Lock()
    hard_stopped = False
    ui_done: set[int] = set()
    go = time.monotonic() + 8.0  # the client process imports gradio_client meanwhile
    deadline = go + duration
    client = ctx.Process(
        target=ui_client_process,
        args=(url, plans[:ui_n], mode, k, go, deadline, max_turns, queue),
        daemon=True,
    )
    client.start()

    def keep(result: TurnResult) -> None:
        result.problems = _problems(result, expected, mode)
        result.copy = ""
        with lock:
            results.append(result)

    def api(session: int, mine: list[Conversation]) -> None:
        time.sleep(max(0.0, go - time.monotonic()))
        api_session(assistant, session, mine, mode, deadline, max_turns, keep)

    threads = [threading.Thread(target=api, args=plan, daemon=True) for plan in plans[ui_n:]]
    for t in threads:
        t.start()
    while len(ui_done) < ui_n or any(t.is_alive() for t in threads):
        try:
            item = queue.get(timeout=0.5)
        except Exception:  # queue.Empty
            item = None
            if not client.is_alive() and len(ui_done) < ui_n:
                error = f"client process exited ({client.exitcode})"
                keep(TurnResult(-1, "ui", "-", 0, "", go, go, error=error))
                break
        if isinstance(item, tuple):
            ui_done.add(int(item[1]))
        elif isinstance(item, dict):
            keep(TurnResult(**item))
        if time.monotonic() > deadline + hard_stop:
            hard_stopped = True
            log.warning("hard stop %.0f s after the deadline: abandoning running turns", hard_stop)
            break
    end = time.monotonic()
    unfinished = (ui_n - len(ui_done)) + sum(1 for t in threads if t.is_alive())
    client.join(0 if hard_stopped else 10)
    if client.is_alive():
        client.terminate()
    with lock:
        return Phase(list(results), go, deadline, end, unfinished, hard_stopped)


def run_load(
    assistant: Any,
    *,
    sessions: int = 20,
    duration: float = 120.0,
    turns: int = 3,
    mode: str = "extractive",
    max_turns: int = 10_000,
    conversations_per_session: int = 2,
    ui_sessions: int | None = None,
    warm_turns: int = 0,
    sample_s: float = 2.0,
    hard_stop: float = 600.0,
    llm_pid: int | None = None,
) -> dict[str, Any]:
    """Serve the app over ``assistant``, run the sessions, and summarise (see the module doc).

    ``warm_turns`` > 0: first a round of all sessions at once, each asking that many turns, not
    measured (threads, sessions and allocator arenas exist afterwards; its errors and mix-ups
    are reported under ``warm_up``). ``hard_stop``: seconds after the deadline at which turns
    still running are abandoned (``unfinished_sessions``; the UI client process is terminated).
    """
    ui_n = (sessions + 1) // 2 if ui_sessions is None else ui_sessions
    per = max(1, conversations_per_session)
    convs = conversations(sessions * per, turns)
    plans = [(s, convs[s * per : (s + 1) * per]) for s in range(sessions)]

    clock = time.perf_counter()
    expected, warm = expected_answers(assistant, convs, mode)
    warm_up_s = time.perf_counter() - clock

    demo, url = _served(assistant)
    try:
        # One turn through the app first: its first request sets up routes and queues.
        ui_session(url, -1, convs[:1], mode, assistant.settings.retrieval.k, float("inf"), 1)
        warm_phase = None
        if warm_turns > 0:
            warm_phase = run_phase(
                assistant, url, plans, ui_n, mode, duration, warm_turns, hard_stop, expected
            )
        trim_heap()
        with RssSampler(sample_s, llm_pid) as rss:
            phase = run_phase(assistant, url, plans, ui_n, mode, duration, max_turns, hard_stop, expected)
        mid = rss.at(phase.go + (phase.end - phase.go) / 2)
    finally:
        demo.close()
    trim_heap()
    after_gc = rss_mb()
    data = summarise(
        phase.results,
        mode=mode,
        sessions=sessions,
        ui_n=ui_n,
        turns=turns,
        duration=duration,
        go=phase.go,
        deadline=phase.deadline,
        end=phase.end,
        rss=rss,
        mid=mid,
        after_gc=after_gc,
        warm=warm,
        warm_up_s=warm_up_s,
        hard_stopped=phase.hard_stopped,
        unfinished=phase.unfinished,
        assistant=assistant,
    )
    if warm_phase is not None:
        data["warm_up"]["concurrent_round"] = {
            "turns_per_session": warm_turns,
            "answers": len(warm_phase.results),
            "errors": sum(1 for r in warm_phase.results if r.error),
            "mixed_up": sum(1 for r in warm_phase.results if r.problems and not r.error),
            "unfinished_sessions": warm_phase.unfinished,
        }
    return data


def _problems(result: TurnResult, expected: dict[tuple[str, int], Expected], mode: str) -> list[str]:
    exp = expected.get((result.conversation, result.turn))
    if exp is not None:
        return check(result, exp, mode)
    return [f"error: {result.error}"] if result.error else []


def _ms(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "max": round(max(ms), 1),
        "mean": round(sum(ms) / len(ms), 1),
    }


def summarise(results: list[TurnResult], **run: Any) -> dict[str, Any]:
    """Throughput, latency, errors, mix-ups and memory of a run, JSON-safe."""
    rss: RssSampler = run["rss"]
    go, deadline, end = run["go"], run["deadline"], run["end"]
    assistant = run["assistant"]
    ok = [r for r in results if not r.problems]
    errors = [r for r in results if r.error]
    mixed = [r for r in results if r.problems and not r.error]
    served_in_time = [r for r in results if r.end <= deadline + 1e-9]
    wall = max(end - go, 1e-9)
    start_rss = rss.samples[0][1] if rss.samples else None
    end_rss = rss.samples[-1][1] if rss.samples else None
    by_via: dict[str, Any] = {}
    for via in ("ui", "api"):
        mine = [r for r in results if r.via == via]
        by_via[via] = {
            "turns": len(mine),
            "errors": sum(1 for r in mine if r.error),
            "latency_ms": _ms([r.seconds for r in mine if not r.error]),
        }
    by_turn = {
        str(t): _ms([r.seconds for r in results if r.turn == t and not r.error])
        for t in sorted({r.turn for r in results})
    }
    llm = {}
    if run["mode"] == "llm":
        llm = {
            "fallbacks": sum(1 for r in results if r.fallback),
            "llm_model": assistant.settings.llm.model
            if assistant.settings.llm.base_url
            else (assistant.settings.local.model),
            "llm_endpoint": assistant.settings.llm.base_url or "embedded llama.cpp server",
            "finished_by_deadline": len(served_in_time),
        }
    problems = Counter(p.split(":")[0] for r in results for p in r.problems)
    return {
        "mode": run["mode"],
        "sessions": run["sessions"],
        "ui_sessions": run["ui_n"],
        "api_sessions": run["sessions"] - run["ui_n"],
        "turns_per_conversation": run["turns"],
        "duration_s": run["duration"],
        "wall_s": round(wall, 1),
        "answers": len(results),
        "answers_ok": len(ok),
        "conversations_started": sum(1 for r in results if r.turn == 0),
        "errors": len(errors),
        "mixed_up": len(mixed),
        "problem_kinds": dict(problems),
        "error_examples": sorted({r.error or "" for r in errors})[:5],
        "mixed_up_examples": [
            {"session": r.session, "via": r.via, "question": r.question, "problems": r.problems}
            for r in mixed[:5]
        ],
        "throughput_answers_per_s": round(len(results) / wall, 3),
        "latency_ms": _ms([r.seconds for r in results if not r.error]),
        "latency_by_client": by_via,
        "latency_by_turn": by_turn,
        "abstained": sum(1 for r in results if r.abstained),
        "hard_stopped": run["hard_stopped"],
        "unfinished_sessions": run["unfinished"],
        **llm,
        "warm_up": {
            "answers": len(run["warm"]),
            "seconds": round(run["warm_up_s"], 1),
            "latency_ms": _ms(run["warm"]),
            "note": "each turn answered once, alone and sequentially, before the load (cache-cold)",
        },
        "rss_mb": {
            "start": start_rss,
            "mid": run["mid"],
            "end": end_rss,
            "max": max((s[1] for s in rss.samples if s[1] is not None), default=None),
            "after_gc": run["after_gc"],
            "growth": round(end_rss - start_rss, 1) if start_rss and end_rss else None,
            "retained": round(run["after_gc"] - start_rss, 1) if start_rss and run["after_gc"] else None,
            "growth_second_half": round(end_rss - run["mid"], 1) if end_rss and run["mid"] else None,
            "python_blocks_start_end": [rss.blocks[0], rss.blocks[-1]] if rss.blocks else None,
            "series": [[round(t - go, 1), v] for t, v, _ in rss.samples],
            "llm_server": [[round(t - go, 1), v] for t, _, v in rss.samples if v is not None] or None,
        },
        "settings": {
            "ui_concurrency": assistant.settings.ui.concurrency,
            "k": assistant.settings.retrieval.k,
            "chroma": assistant.settings.chroma.url or "embedded",
            "data_dir": str(assistant.settings.data_dir),
        },
        "machine": machine(),
    }


def markdown(data: dict[str, Any]) -> str:
    """A short report of a run."""
    lat, rss = data["latency_ms"], data["rss_mb"]
    rows = [
        (
            "sessions (UI over HTTP / Python API)",
            f"{data['sessions']} ({data['ui_sessions']} / {data['api_sessions']})",
        ),
        ("turns per conversation", data["turns_per_conversation"]),
        ("duration limit / wall time", f"{data['duration_s']:g} s / {data['wall_s']} s"),
        ("answers (conversations started)", f"{data['answers']} ({data['conversations_started']})"),
        ("throughput", f"{data['throughput_answers_per_s']} answers/s"),
        ("latency p50 / p95 / max", f"{lat.get('p50')} / {lat.get('p95')} / {lat.get('max')} ms"),
        ("errors", data["errors"]),
        ("mixed-up or different answers", data["mixed_up"]),
        ("abstentions", data["abstained"]),
        (
            "RSS start / mid / end / after GC + malloc_trim",
            f"{rss['start']} / {rss['mid']} / {rss['end']} / {rss['after_gc']} MiB",
        ),
        (
            "RSS growth: whole run / second half / retained after trim",
            f"{rss['growth']} / {rss['growth_second_half']} / {rss['retained']} MiB",
        ),
    ]
    if data["mode"] == "llm":
        rows += [
            ("LLM", f"{data['llm_model']} ({data['llm_endpoint']})"),
            ("answers finished within the duration limit", data["finished_by_deadline"]),
            ("LLM fallbacks (extractive answer instead)", data["fallbacks"]),
        ]
    rows.append(("sessions abandoned at the hard stop", data["unfinished_sessions"]))
    lines = [
        f"# Load test: {data['mode']} answers",
        "",
        "`python -m bench.load` — concurrent chat sessions against the Gradio app (HTTP on 127.0.0.1,",
        "gradio_client, separate process) and the Python API (`Assistant.ask` in threads), one shared",
        "Assistant. See the module docstring for what is checked.",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in rows],
        "",
        "| client | answers | errors | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for via, row in data["latency_by_client"].items():
        ms = row["latency_ms"]
        cells = [via, row["turns"], row["errors"], ms.get("p50"), ms.get("p95"), ms.get("max")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    series = rss.get("series") or []
    if series:
        step = max(1, len(series) // 10)
        points = ", ".join(f"{t:g} s: {v}" for t, v in series[::step])
        lines += ["", f"Serving-process RSS over the run (MiB; 0 s = load starts): {points}."]
    if rss.get("python_blocks_start_end"):
        first, last = rss["python_blocks_start_end"]
        lines += [f"Python objects alive (sys.getallocatedblocks): {first} at the start, {last} at the end."]
    if rss.get("llm_server"):
        llm_rss = [v for _, v in rss["llm_server"]]
        lines += [f"llama.cpp server RSS: {llm_rss[0]} → {llm_rss[-1]} MiB (max {max(llm_rss)})."]
    warm = data["warm_up"]
    lines += [
        "",
        f"Warm-up (every turn once, alone, cache-cold): {warm['answers']} answers in {warm['seconds']} s, "
        f"p50 {warm['latency_ms'].get('p50')} ms, p95 {warm['latency_ms'].get('p95')} ms.",
    ]
    if "concurrent_round" in warm:
        w = warm["concurrent_round"]
        lines += [
            "",
            f"Then an unmeasured round of all sessions at once ({w['turns_per_session']} turns each): "
            f"{w['answers']} answers, {w['errors']} errors, {w['mixed_up']} mixed-up.",
        ]
    lines += [
        "",
        f"Machine: {data['machine']['cpus']} CPUs, load average at the end {data['machine']['loadavg']}; "
        f"UI concurrency limit {data['settings']['ui_concurrency']}, k={data['settings']['k']}, "
        f"Chroma {data['settings']['chroma']}.",
    ]
    if data["error_examples"]:
        lines += ["", "Errors:", *[f"- `{e}`" for e in data["error_examples"]]]
    if data["mixed_up_examples"]:
        lines += ["", "Mixed-up answers:", *[f"- {m}" for m in data["mixed_up_examples"]]]
    for note in data.get("notes") or []:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument(
        "--duration", type=float, default=120.0, help="seconds of load (turns start until then)"
    )
    parser.add_argument("--mode", choices=["extractive", "llm"], default="extractive")
    parser.add_argument("--turns", type=int, default=3, help="questions per conversation (1 + follow-ups)")
    parser.add_argument("--max-turns", type=int, default=10_000, help="at most this many turns per session")
    parser.add_argument("--conversations", type=int, default=2, help="distinct conversations per session")
    parser.add_argument("--data", type=Path, help="data dir of an index (default: Scholium's default)")
    parser.add_argument("--chroma-url", help="a `chroma run` server holding the index")
    parser.add_argument("--local-model", help="llm: the embedded model (default: Scholium's, Qwen 1.5B)")
    parser.add_argument(
        "--hard-stop", type=float, default=600.0, help="abandon turns this long after the deadline"
    )
    parser.add_argument(
        "--warm-turns", type=int, default=0, help="an unmeasured concurrent round of this many turns first"
    )
    parser.add_argument("--sample-s", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="suffix of the result file names")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from rag import Assistant, Settings

    over: dict[str, Any] = {"progress": False, "log_level": "ERROR"}
    if args.data:
        over["data_dir"] = args.data
    if args.chroma_url:
        over["chroma"] = {"url": args.chroma_url}
    if args.local_model:
        over["local"] = {"model": args.local_model}
    settings = Settings(**over)
    llm_pid = None
    stop: Any = None
    notes: list[str] = []
    if args.mode == "llm" and not settings.llm.base_url:
        from rag.generate.local_server import get_local_server, stop_local_servers

        server = get_local_server(settings)  # started before the clock runs
        stop = stop_local_servers
        llm_pid = server.pid
    assistant = Assistant(settings)
    try:
        data = run_load(
            assistant,
            sessions=args.sessions,
            duration=args.duration,
            turns=args.turns,
            mode=args.mode,
            max_turns=args.max_turns,
            conversations_per_session=args.conversations,
            warm_turns=args.warm_turns,
            sample_s=args.sample_s,
            hard_stop=args.hard_stop,
            llm_pid=llm_pid,
        )
    finally:
        if stop is not None:
            stop()
    if llm_pid is not None:  # the embedded model
        data["llm_model"] = Path(settings.local.model).name
    if args.mode == "llm":
        notes.append(
            "The warm-up of an LLM run only retrieves (answers are not deterministic), so the first "
            "concurrent answers also embed their evidence sentences for the first time: most of the "
            "serving process's RSS step at the start of the load is that (20 threads embedding at once)."
        )
    data["notes"] = notes
    data["command"] = "python -m bench.load " + " ".join(
        f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}")
        for k, v in vars(args).items()
        if v not in (None, "", False) and k != "out"
    )
    name = f"load_{args.mode}{'_' + args.tag if args.tag else ''}"
    write_json(args.out / f"{name}.json", data)
    (args.out / f"{name}.md").write_text(markdown(data))
    print(markdown(data), flush=True)


if __name__ == "__main__":
    main()
