"""An embedding worker process (see :mod:`rag.embeddings.pool`): reads ``(texts, batch_size)``
requests on stdin and writes ``("ok", vectors)`` or ``("error", message)`` on stdout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .pool import receive, send


def serve(folder: str, max_length: int) -> None:
    """Worker loop: read ``(texts, batch_size)``, answer ``("ok", vectors)`` or ``("error", msg)``."""
    from threadpoolctl import threadpool_limits

    from .bert import BertSentenceEncoder

    threadpool_limits(1)
    encoder = BertSentenceEncoder(Path(folder), max_length=max_length)
    # The protocol owns the original stdout; anything a library prints goes to stderr.
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    while True:
        try:
            texts, batch_size = receive(stdin)
        except EOFError:
            return
        try:
            send(stdout, ("ok", encoder.encode(texts, batch_size=batch_size)))
        except Exception as exc:  # the parent raises it as WorkerFailed
            send(stdout, ("error", f"{type(exc).__name__}: {exc}"))


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
