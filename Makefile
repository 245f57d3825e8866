# Set-up and the two everyday commands. Each target builds the virtual environment first if it
# is missing or out of date, so on a fresh machine `make demo` or `make test` is all it takes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint clean-demo

$(STAMP): requirements.txt requirements-dev.txt requirements-cluster.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -r requirements-cluster.txt -e '.[train,workflow,dev]'
	touch $@

## The whole DAG at demo scale, offline, on the CPU, then its HTML report.
demo: $(STAMP)
	$(BIN)/snakemake --cores all --configfile config/demo.yaml
	$(BIN)/snakemake --configfile config/demo.yaml --report results/demo/report.html

## The test suite (unit tests, real snakemake runs, the smoke-scale DAG).
test: $(STAMP)
	$(BIN)/python -m pytest

## Everything but the tests marked slow.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

## Static checks: ruff (pyflakes and pycodestyle, pyproject's [tool.ruff]), snakemake --lint, snakefmt.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakemake --lint --workflow-profile none
	$(BIN)/snakefmt --check Snakefile workflow/Snakefile workflow/rules

clean-demo:
	rm -rf results/demo
