# dondoc: `make run` sets up and starts the bot; `make test` sets up and runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: setup run init test lint typecheck pytest catalogs clean bench demo

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	bash scripts/catalogs.sh compile
	touch $(STAMP)

init: setup
	$(BIN)/dondoc init
	$(BIN)/dondoc agencies load-divisions --province "Quảng Ninh" --era district --apply > /dev/null

run: init
	$(BIN)/dondoc run

# dondoc without Telegram or a token: the bot against its local Bot API stand-in, a sample
# province, a page that acts as a Telegram chat (http://127.0.0.1:8000/) and the dashboard.
demo: setup
	$(BIN)/python -m sandbox.demo

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy domain models views scheduler handlers bot sandbox

# Four workers: most tests wait on sockets and subprocesses, not on the CPU.
PYTEST_WORKERS ?= 4

pytest: setup
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

test: lint typecheck pytest

catalogs: setup
	bash scripts/catalogs.sh all

bench: setup
	$(BIN)/python bench/status.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
