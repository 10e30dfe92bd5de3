# `make run` and `make test` each create or reuse .venv and install what is needed first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install run test eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	# the demo company (generated from a seed, loaded through the real connectors; a no-op once loaded)
	$(BIN)/journey demo
	$(BIN)/journey serve

test: install
	$(BIN)/pytest

eval: install
	$(BIN)/python -m evals retrieval

bench: install
	$(BIN)/python -m evals bench

clean:
	rm -rf $(VENV) .journey .pytest_cache
