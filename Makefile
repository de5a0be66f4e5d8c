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
# The embedded server can take over a minute to start on a busy 2-core machine.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180
# Pipeline options, e.g. `make pipeline ARGS="--repeats 2 --epochs 3"`; see `har pipeline --help`.
ARGS ?=
# Service (`make server`, `make worker`, `make deploy`); override e.g. `make worker WORKER_LIMIT=2`.
SERVER_HOST ?= 127.0.0.1
SERVER_PORT ?= 4200
PREFECT_API_URL ?= http://$(SERVER_HOST):$(SERVER_PORT)/api
# The URL the browser UI calls; Prefect would otherwise tell it port 4200 whatever --port is.
PREFECT_UI_API_URL ?= $(PREFECT_API_URL)
SERVICE_HOME ?= $(abspath $(HAR_HOME))/prefect
WORKER_POOL ?= har-gpu
WORKER_LIMIT ?= 1
WORKER_NAME ?=
# `make reports`: serve <data home>/reports over HTTP (point HAR_REPORTS_URL at it).
REPORTS_HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help setup constraints pipeline test test-fast lint bench-ingest bench-accuracy \
	bench-validation bench-study clean server worker deploy reports
.DEFAULT_GOAL := help

help: ## list the targets
	@awk 'BEGIN {FS = ":.*?## "} /^[a-z][a-zA-Z_-]*:.*?## / {printf "  %-17s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)
	@echo "  variables: HAR_HOME=$(HAR_HOME) SERVER_PORT=$(SERVER_PORT) WORKER_POOL=$(WORKER_POOL)" \
		"WORKER_LIMIT=$(WORKER_LIMIT) PORT=$(PORT) ARGS=..."

setup: $(STAMP) ## create .venv and install the pinned dependencies

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -c constraints.txt -e '.[dev]'
	touch $@

# Requirements live in pyproject.toml, holds in constraints.in; this freezes a fresh venv.
constraints: ## regenerate constraints.txt in a throwaway venv (python -m tools.constraints)
	$(PYTHON) -m tools.constraints --python $(PYTHON)

pipeline: setup ## ingest → train → report under an embedded server (ARGS="--repeats 2 ...")
	$(BIN)/har pipeline $(ARGS)

test: setup ## the whole test suite (PYTEST_ARGS="-m 'not e2e'" to narrow it)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The unit tests only (synthetic data, no Prefect server): the quick loop while developing.
test-fast: setup ## the unit tests only (about 30 s)
	$(BIN)/python -m pytest -m unit -q $(PYTEST_ARGS)

# mypy reads its settings (packages checked, pydantic plugin) from [tool.mypy] in pyproject.toml.
lint: setup ## ruff check + format check + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench-ingest: setup ## time the ingest of the real archive
	$(BIN)/python -m benchmarks.ingest

bench-accuracy: setup ## accuracy benchmark on the real data (ARGS="--repeats 10")
	$(BIN)/python -m benchmarks.accuracy $(ARGS)

bench-validation: setup ## compare model variants on held-out training subjects
	$(BIN)/python -m benchmarks.validation $(ARGS)

bench-study: setup ## a whole study through the flow per batching mode (ARGS="--repeats 10")
	$(BIN)/python -m benchmarks.study $(ARGS)

# A Prefect server on 127.0.0.1 whose database lives under the data home.
# Prefect creates only the last folder of PREFECT_HOME, so the data home is made first.
server: setup ## Prefect server on SERVER_HOST:SERVER_PORT, database under $HAR_HOME/prefect
	mkdir -p $(SERVICE_HOME)
	PREFECT_HOME=$(SERVICE_HOME) PREFECT_UI_API_URL=$(PREFECT_UI_API_URL) \
		PREFECT_SERVER_API_HOST=$(SERVER_HOST) PREFECT_SERVER_API_PORT=$(SERVER_PORT) \
		$(BIN)/prefect server start --host $(SERVER_HOST) --port $(SERVER_PORT)

# A worker on the GPU pool, one flow run at a time; it inherits CUDA_VISIBLE_DEVICES
# (one worker per GPU) and trains on the CPU when no GPU is visible.
worker: setup ## a worker on WORKER_POOL (har-gpu), WORKER_LIMIT flow runs at a time
	mkdir -p $(SERVICE_HOME)
	PREFECT_HOME=$(SERVICE_HOME) PREFECT_API_URL=$(PREFECT_API_URL) HAR_HOME=$(abspath $(HAR_HOME)) \
		$(BIN)/prefect worker start --pool $(WORKER_POOL) --limit $(WORKER_LIMIT) \
		$(if $(WORKER_NAME),--name $(WORKER_NAME))

# Work pools har-gpu and har-cpu (idempotent), then the deployments in deployments/prefect.yaml.
deploy: setup ## work pools har-gpu and har-cpu, then the deployments of deployments/prefect.yaml
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/python -m deployments.pools
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect --no-prompt deploy \
		--prefect-file deployments/prefect.yaml --all

# Serves the folder as it is: reports are static files (report.html is self-contained).
reports: ## serve $HAR_HOME/reports over HTTP on REPORTS_HOST:PORT (set HAR_REPORTS_URL to it)
	mkdir -p $(abspath $(HAR_HOME))/reports
	$(PYTHON) -m http.server --bind $(REPORTS_HOST) \
		--directory $(abspath $(HAR_HOME))/reports $(PORT)

clean: ## remove .venv and the caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
