# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# npm tools (solc, OpenZeppelin, anvil), exactly as package-lock.json pins them.
NPM_STAMP := node_modules/.installed
# Suites that run a second time against PostgreSQL (everything that touches the bridge's
# database); CI must run them, a developer machine runs them when a server answers. The
# SIGKILL crash matrix runs on SQLite only (it tests process death, not the store; on
# PostgreSQL the cluster suite kills API processes at every confirm boundary): with a dev
# chain per case it alone would double `make test`'s time.
PG_SUITES := tests/store tests/bridge tests/settlement tests/cluster tests/quote \
             tests/crash/test_settlement_faults.py
# The trading page: web/ (npm, esbuild) bundled into the folder the bridge serves. The stamp
# rebuilds it only when web/ changes; its browser suite drives Debian's chromium.
WEB_APP   := src/otc_bridge/api/static/app
WEB_DEPS  := web/node_modules/.installed
WEB_STAMP := $(WEB_APP)/.built
WEB_SRC   := $(shell find web/src web/test -type f 2>/dev/null) web/build.mjs web/tsconfig.json
CHROMIUM  := /usr/bin/chromium

.PHONY: run setup test test-sqlite test-postgres test-browser lint typecheck bench clean web node chromium contracts

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

node:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "** Node.js and npm are required (the trading page, the contract build, the dev chain):" \
		     "apt-get install -y nodejs npm **" >&2; exit 1; }

$(WEB_DEPS): web/package.json web/package-lock.json | node
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_STAMP): $(WEB_DEPS) $(WEB_SRC) | node
	cd web && npm run --silent check && npm run --silent build
	touch $@

web: $(WEB_STAMP)

# Debian's chromium for the browser suite (never a browser downloaded by Playwright).
chromium:
	@test -x $(CHROMIUM) || { \
		echo "== installing Debian's chromium for the browser suite"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@test -x $(CHROMIUM) || { echo "** $(CHROMIUM) is missing: the browser suite cannot run **" >&2; exit 1; }

# --ignore-scripts: anvil's binary comes in its platform package; its postinstall would
# only try a download, which must never be part of an install step.
$(NPM_STAMP): package.json package-lock.json | node
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NPM_STAMP)

# Rebuild the committed contract artifacts after editing contracts/.
contracts: $(NPM_STAMP)
	node scripts/build_contracts.mjs

run: $(STAMP) $(NPM_STAMP) $(WEB_STAMP)
	$(BIN)/otc-bridge devnet

# The Python, npm and page installs do not depend on each other: on a fresh clone they run
# at once (pip's ~1 min hides the two `npm ci` and the page build).
setup:
	@$(MAKE) --no-print-directory -j3 $(STAMP) $(NPM_STAMP) $(WEB_STAMP)

# Then the checks and the three suites at once: one after the other they left a core idle
# whenever a suite waited (on its dev chains, devnodes, chromium, a lone last xdist
# worker). The CPU-heavy ones run under `nice` (NICE), so the browser suite, which mostly
# waits and whose page expectations are short, gets a core first when it needs one.
# --output-sync prints each target's output whole when it ends; any failure fails `make
# test` (after the others end). `make test-sqlite` etc. alone run as before, not niced.
test: setup
	@echo "== lint, typecheck and the SQLite, PostgreSQL and browser suites run at once;" \
	      "each one's output follows when it ends"
	@$(MAKE) --no-print-directory -j5 --output-sync=target NICE="nice -n 5" \
		lint typecheck test-sqlite test-postgres test-browser

test-sqlite: $(STAMP) $(NPM_STAMP) $(WEB_STAMP)
	$(NICE) $(BIN)/python -m pytest -n auto --dist loadgroup --durations=15 --ignore=tests/browser

test-postgres: $(STAMP) $(NPM_STAMP) $(WEB_STAMP)
	@if [ "$$CI" = "true" ] || $(BIN)/python -c "import sys; from tests.support.databases import postgres_reachable; sys.exit(postgres_reachable() is not None)"; then \
		echo "== PostgreSQL suite"; \
		OTC_TEST_STORE=postgres $(NICE) $(BIN)/python -m pytest -n auto --dist loadgroup --durations=15 $(PG_SUITES); \
	else \
		echo "** PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL suite did NOT run (CI runs it) **"; \
	fi

# The page in a real browser; under CI=true the suite fails unless every test in it ran
# and passed (tests/browser/conftest.py), and pytest fails when it collects none.
test-browser: $(STAMP) $(WEB_STAMP) chromium
	$(BIN)/python -m pytest tests/browser  # serial: one chromium and one devnode beat two

lint: $(STAMP)
	$(NICE) $(BIN)/ruff check src tests bench
	$(NICE) $(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(NICE) $(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/devnode_transfer_loop.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache web/node_modules web/build $(WEB_APP)
