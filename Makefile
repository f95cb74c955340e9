# Two commands on a fresh machine: `make demo` (the main job end to end) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,llm]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cis demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --processes 2 dbt_project/models dbt_project/macros

test: lint
	$(BIN)/python -m pytest -n 3 --dist loadfile $(PYTEST_ARGS)

clean:
	-$(BIN)/cis db stop
	rm -rf .cis target logs
