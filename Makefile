# Portail Famille: every target installs what it needs on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000
NOW    ?=
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint bench install clean browser docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'pip>=24,<26.3'  # chalice's packager needs pip < 26.3
	$(BIN)/pip install --quiet -e '.[tools,test]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests (tests/browser) drive Debian's Chromium through Playwright
# (`playwright install` cannot download here): installed once, as root, when missing.
$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "Chromium est absent ($(CHROMIUM)) : les tests navigateur en ont besoin. Installez-le en root : « make browser » ou « apt-get update && apt-get install -y chromium »." >&2; \
	  exit 1; \
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

# axe-core (the accessibility checker the browser tests run in every page type), from
# the npm registry at the version package-lock.json pins.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(AXE)

browser: $(CHROMIUM) $(AXE)

## make run: the whole portal on http://127.0.0.1:$(PORT)/ with the demo families
run: $(STAMP)
	$(BIN)/portail serve --demo --port $(PORT) $(if $(NOW),--now $(NOW))

## make test: every test, as CI runs them, on every core (pytest-xdist): each test file
## on one worker (tests/conftest.py groups them), so its fixtures are made once
test: $(STAMP) $(CHROMIUM) $(AXE)
	$(BIN)/pytest -q -n auto --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check functions portail tests bench site

## make docs: docs/cli.md's usage lines and option tables, from the commands' parsers
docs: $(STAMP)
	$(BIN)/python -m portail.cli_docs

## make bench: benchmarks; each prints its ratio last
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## make package STAGE=prod: the stage's deployable package in build/STAGE/ (docs/deployment.md)
STAGE ?= prod
.PHONY: package
package: $(STAMP)
	$(BIN)/portail package --stage $(STAGE) --out build/$(STAGE)

clean:
	rm -rf output .pytest_cache .hypothesis
