# Targets that people and CI share. Each one creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint format bench bench-harvest bench-api bench-pages clean

$(BIN)/opendata: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: $(BIN)/opendata
	$(BIN)/opendata db upgrade
	$(BIN)/opendata harvest --all --offline
	PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

test: $(BIN)/opendata
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(BIN)/opendata
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/opendata
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: bench-harvest bench-api bench-pages

bench-harvest: $(BIN)/opendata
	$(BIN)/python bench/run.py

bench-api: $(BIN)/opendata
	$(BIN)/python bench/api/run.py

bench-pages: $(BIN)/opendata
	$(BIN)/python bench/api/pages.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
