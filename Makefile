# One Makefile for people and CI: `make run`, `make test`, `make lint`.
PYTHON ?= python3
export NO_MKDOCS_2_WARNING := 1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint build index release bench browser wrk postgres clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev,semantic]'
	$(BIN)/kb model
	touch $(STAMP)

build: $(STAMP)  ## preview build of the site into site/; fails on any warning (broken links)
	$(BIN)/kb build

index: $(STAMP)  ## a new release with a fresh search index and the current release's site
	$(BIN)/kb index

release: $(STAMP)  ## build the site and the index into a new release, switched to atomically
	$(BIN)/kb release

run: release  ## build a release, then serve it on http://127.0.0.1:8000
	$(BIN)/kb serve

bench: $(STAMP) $(NODE_STAMP) browser wrk postgres  ## speed figures as ratios measured in one run; writes bench/results.json
	$(BIN)/python bench/run.py

# Debian's wrk, the load generator of the bench and of its test; installed only when absent.
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

# Debian's PostgreSQL, started by the query log's tests in a temporary folder (tests/pg.py);
# installed only when absent (Debian keeps pg_ctl in /usr/lib/postgresql/<version>/bin).
postgres:
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# Debian's Chromium for the browser tests; installed only when absent.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# axe-core and Lighthouse for the browser checks, pinned in package-lock.json; Node.js from
# Debian only when the machine has none.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP) browser wrk postgres  ## lint, then every test (build, service, browser)
	$(MAKE) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf site var $(VENV) node_modules
