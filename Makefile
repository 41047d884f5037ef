# Two commands on a fresh machine:  make demo   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench install browser clean

$(BIN)/netstrata: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $(BIN)/netstrata

install: $(BIN)/netstrata

demo: install
	$(BIN)/netstrata demo

# The report's browser test needs Debian's chromium; the script does nothing when it is present.
browser:
	sh scripts/install-chromium.sh || echo "chromium could not be installed: the browser test will be skipped (outside CI)"

# The type check ([tool.mypy] in pyproject.toml: src/netstrata, zero errors) runs first: a type error fails the tests.
test: install browser
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
