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
# Pipeline options, e.g. `make pipeline ARGS="--repeats 2 --epochs 3"`; see `--help`.
ARGS ?=
# Service (`make server`, `make worker`, `make deploy`); override e.g. `make worker WORKER_LIMIT=2`.
SERVER_PORT ?= 4200
PREFECT_API_URL ?= http://127.0.0.1:$(SERVER_PORT)/api
SERVICE_HOME ?= $(abspath $(HAR_HOME))/prefect
WORKER_POOL ?= har-gpu
WORKER_LIMIT ?= 1
WORKER_NAME ?=

.PHONY: setup pipeline test test-fast lint bench-ingest bench-accuracy bench-validation clean server worker deploy

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

# The unit tests only (synthetic data, no Prefect server): the quick loop while developing.
test-fast: setup
	$(BIN)/python -m pytest -m unit -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-ingest: setup
	$(BIN)/python -m benchmarks.ingest

bench-accuracy: setup
	$(BIN)/python -m benchmarks.accuracy $(ARGS)

bench-validation: setup
	$(BIN)/python -m benchmarks.validation $(ARGS)

# A Prefect server on 127.0.0.1 whose database lives under the data home.
server: setup
	PREFECT_HOME=$(SERVICE_HOME) $(BIN)/prefect server start --host 127.0.0.1 --port $(SERVER_PORT)

# A worker on the GPU pool, one flow run at a time; it inherits CUDA_VISIBLE_DEVICES
# (one worker per GPU) and trains on the CPU when no GPU is visible.
worker: setup
	PREFECT_HOME=$(SERVICE_HOME) PREFECT_API_URL=$(PREFECT_API_URL) HAR_HOME=$(abspath $(HAR_HOME)) \
		$(BIN)/prefect worker start --pool $(WORKER_POOL) --limit $(WORKER_LIMIT) \
		$(if $(WORKER_NAME),--name $(WORKER_NAME))

# Work pools har-gpu and har-cpu (idempotent), then the deployments in deployments/prefect.yaml.
deploy: setup
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/python -m deployments.pools
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect --no-prompt deploy \
		--prefect-file deployments/prefect.yaml --all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
