# mlgitops: every target installs what it needs into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MLGITOPS := $(BIN)/mlgitops

.PHONY: setup generate validate test lint typecheck bench bench-generator bench-serving serve clean

$(STAMP): pyproject.toml requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[serving]' -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

generate: $(STAMP)
	$(MLGITOPS) generate
	$(MLGITOPS) validate

validate: $(STAMP)
	$(MLGITOPS) validate

lint: $(STAMP)
	$(BIN)/ruff check generator serving tests bench
	$(BIN)/ruff format --check generator serving
	$(BIN)/mypy generator serving

typecheck: lint

test: lint
	$(MLGITOPS) generate --check
	$(MLGITOPS) schema --format markdown | diff -u docs/model-yaml.md -
	$(BIN)/pytest -q

bench: bench-generator

bench-generator: $(STAMP)
	$(BIN)/python -m bench.generator

bench-serving: $(STAMP)
	$(BIN)/python -m bench.serving

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
