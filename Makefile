# One Makefile for people and CI: `make run`, `make test`, `make lint`.
PYTHON ?= python3
export NO_MKDOCS_2_WARNING := 1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint build index bench browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev,semantic]'
	touch $(STAMP)

build: $(STAMP)  ## build the static help center into site/
	$(BIN)/mkdocs build --strict --quiet

index: $(STAMP)  ## build the search index (a new version, switched to atomically)
	$(BIN)/kb index

run: build index  ## build the site and index, then serve both on http://127.0.0.1:8000
	$(BIN)/kb serve

bench: $(STAMP)  ## speed figures as ratios measured in one run; writes bench/results.json
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py

# Debian's Chromium for the browser tests; installed only when absent.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

test: $(STAMP) browser  ## lint, then every test (build, service, browser)
	$(MAKE) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf site var $(VENV)
