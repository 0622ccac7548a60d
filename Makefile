# Two commands: `make run` serves the site, `make test` checks it. Both start from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test lint format bench clean

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

instance/config.py:
	$(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@

run: $(BIN)/flask instance/config.py
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	$(BIN)/gunicorn wsgi:app

test: $(BIN)/flask
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(BIN)/flask
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(BIN)/flask
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
