# har-pipeline: `make pipeline` runs the whole pipeline, `make test` runs the tests.
# Both create .venv and install the pinned dependencies first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HAR_HOME ?= har-data
export HAR_HOME
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
# Pipeline options, e.g. `make pipeline ARGS="--repeats 2 --epochs 3"`; see `--help`.
ARGS ?=

.PHONY: setup pipeline test lint bench-ingest bench-accuracy clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -c constraints.txt -e '.[dev]'
	touch $@

pipeline: setup
	$(BIN)/python -m flows.pipeline $(ARGS)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-ingest: setup
	$(BIN)/python -m benchmarks.ingest

bench-accuracy: setup
	$(BIN)/python -m benchmarks.accuracy $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
