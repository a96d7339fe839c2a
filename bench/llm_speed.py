"""Prompt and generation speed of the embedded llama.cpp server (bench/results/llm_build.md).

    python bench/llm_speed.py on off        # one server per extra-buffers setting, two runs each

Each run sends a ~910-token prompt (four abstracts of the bundled corpus, a random nonce first so
the prompt cache cannot be reused) and generates 48 tokens, through the server's own self-test
(:meth:`rag.generate.local_server.LocalLLMServer.self_test`). To compare builds, put another
llama-cpp-python build first on ``PYTHONPATH``: the server child inherits it.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag import Settings
from rag.corpus import load_corpus
from rag.generate.launch import ExtraBuffers
from rag.generate.local_server import LocalLLMServer
from rag.generate.model_files import resolve_gguf
from rag.settings import BUNDLED_CORPUS


def main(argv: list[str]) -> int:
    settings = Settings(data_dir=Path(os.environ.get("SCHOLIUM_BENCH_DIR", "/tmp/scholium-latency")))
    model = resolve_gguf(settings.local.model, settings.models_dir)
    papers = load_corpus([BUNDLED_CORPUS]).papers
    text = "\n\n".join(f"{p.title}\n{p.abstract}" for p in papers[:4])
    modes: list[ExtraBuffers] = [m for m in ("auto", "on", "off") if m in argv] or ["auto"]  # type: ignore[misc]
    for mode in modes:
        server = LocalLLMServer(model, threads=settings.local.threads, n_ctx=4096, extra_buffers=mode)
        clock = time.perf_counter()
        server.start()
        print(f"{mode}: started in {time.perf_counter() - clock:.1f} s, {server.config.describe()}")
        try:
            for _ in range(2):
                prompt = f"[{random.random()}] Summarise these abstracts in two sentences.\n\n{text}"
                result = server.self_test(prompt=prompt, max_tokens=48, count_prompt=True)
                print(mode, json.dumps(result.to_dict()), flush=True)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
