# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# npm tools (solc, OpenZeppelin, anvil), exactly as package-lock.json pins them.
NPM_STAMP := node_modules/.installed
# Suites that run a second time against PostgreSQL (everything that touches the bridge's
# database); CI must run them, a developer machine runs them when a server answers.
PG_SUITES := tests/store tests/bridge tests/settlement tests/crash tests/cluster

.PHONY: run test test-sqlite test-postgres lint typecheck bench clean contracts

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# --ignore-scripts: anvil's binary comes in its platform package; its postinstall would
# only try a download, which must never be part of an install step.
$(NPM_STAMP): package.json package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		echo "** node and npm are required (contract build and the dev chain's anvil);" \
			"install them first, e.g. apt-get install nodejs npm **" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NPM_STAMP)

# Rebuild the committed contract artifacts after editing contracts/.
contracts: $(NPM_STAMP)
	node scripts/build_contracts.mjs

run: $(STAMP) $(NPM_STAMP)
	$(BIN)/otc-bridge devnet

test: lint typecheck test-sqlite test-postgres

test-sqlite: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest -n auto --dist loadgroup

test-postgres: $(STAMP) $(NPM_STAMP)
	@if [ "$$CI" = "true" ] || $(BIN)/python -c "import sys; from tests.support.databases import postgres_reachable; sys.exit(postgres_reachable() is not None)"; then \
		echo "== PostgreSQL suite"; \
		OTC_TEST_STORE=postgres $(BIN)/python -m pytest -n auto --dist loadgroup $(PG_SUITES); \
	else \
		echo "** PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL suite did NOT run (CI runs it) **"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/devnode_transfer_loop.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
