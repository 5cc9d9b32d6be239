# Copytrack: `make run` starts the whole stack, `make test` runs every test.
# Both set everything up first (virtualenv, Python and npm packages, contract build); set-up is
# idempotent and only redoes a step whose inputs changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: setup run test test-contracts test-python bench clean screenshots

setup: $(VENV)/.installed node_modules/.installed .build/.compiled $(CHROMIUM) frontend/dist/index.html

# Debian's Chromium: the crawler's evidence screenshots and the web app's browser tests drive it
# through Playwright (Playwright's own browser download cannot work without internet).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.build/.compiled: $(VENV)/.installed $(shell find contracts -name '*.vy' 2>/dev/null) ape-config.yaml
	$(BIN)/ape compile
	touch $@

# The web app: rebuilt only when its sources, its npm packages or the contract ABIs change.
frontend/dist/index.html: node_modules/.installed .build/.compiled $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.mts frontend/tsconfig.json
	npm run --silent build:web

screenshots: setup
	COPYTRACK_WEB_ARTIFACTS=docs/screenshots $(BIN)/pytest -p no:ape_test tests/web -q

run: setup
	$(BIN)/copytrack run

test: setup
	$(MAKE) --no-print-directory test-contracts test-python

test-contracts: setup
	$(BIN)/ape test tests/contracts --network ethereum:local:foundry

# Two workers, each test file kept on one (module-scoped stacks are started once per file).
test-python: setup
	$(BIN)/pytest -p no:ape_test -n 2 --dist loadfile tests --ignore=tests/contracts

bench: setup
	for b in bench/gas_*.py bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf .build var .pytest_cache
