# The two commands a newcomer needs: `make run` (the whole system locally) and `make test`.
# Only Python 3.11+ and make are required; everything else is installed into .venv.

PYTHON ?= python3
PORT ?= 7071
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
# pytest-xdist processes for `make test` (measured to pay on this project's 2-core machines)
TEST_WORKERS ?= 2

.PHONY: run test lint venv run-venv clean

# What running needs (requirements-run.txt); the tests and tools come on top (requirements-dev.txt).
run-venv: $(RUN_STAMP)
venv: $(STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt requirements-run.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-run.txt
	@touch $(RUN_STAMP)

$(STAMP): requirements.txt requirements-run.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(RUN_STAMP) $(STAMP)

## run: embedded PostgreSQL, migrations, the sample morning (first start), API + site on http://localhost:$(PORT) (auth off)
run: run-venv
	$(BIN)/python -m shared_code dev --port $(PORT)

## test: the whole suite against a real PostgreSQL (TEST_DATABASE_URL, else an embedded one),
## on TEST_WORKERS processes (pytest-xdist; each has its own database), each file kept on one
test: venv
	scripts/ensure-test-tools.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

## lint: ruff (lint and layout), the layering of docs/architecture.md (import-linter contracts in pyproject.toml)
## and the type checker (mypy over shared_code/ and functions/, configured in pyproject.toml)
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache .mypy_cache .hypothesis
