# ftemu: every task starts here. `make serve` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
COMPAT_VENV ?= .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.installed-stamp
COMPAT_1X_VENV ?= .venv-compat-1x
COMPAT_1X_STAMP := $(COMPAT_1X_VENV)/.installed-stamp
SPEC_DIR ?= ../shared/reference/openapi
PIP_FLAGS ?= --quiet --disable-pip-version-check
ARGS ?=

.PHONY: install serve test unit conformance compat compat-install lint typecheck bench fuzz docs clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -e '.[test]'
	@# Bytecode now, even where PYTHONDONTWRITEBYTECODE is set: every start would compile the sources otherwise.
	$(PY) -m compileall -q emulator client conformance
	@touch $(STAMP)

install: $(STAMP)

serve: install
	$(VENV)/bin/ftemu serve $(ARGS)

# Every test: the project's own suite (in-process and over uvicorn), then the conformance kit twice.
test: install
	$(PY) -m pytest -n 2 -q tests $(ARGS)
	$(MAKE) --no-print-directory conformance

unit: install
	$(PY) -m pytest -q tests $(ARGS)

conformance: install
	FTEMU_SPEC_DIR=$(SPEC_DIR) $(PY) -m pytest -q -p no:xdist --pyargs conformance
	FTEMU_SPEC_DIR=$(SPEC_DIR) $(PY) -m pytest -q -p no:xdist --pyargs conformance --target-server

# The legacy openai==0.28.1 CLI (with pandas) in its own environment, against a live emulator.
$(COMPAT_STAMP):
	@test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install $(PIP_FLAGS) "openai==0.28.1" "pandas>=2,<4" "openpyxl>=3.1,<4"
	@touch $(COMPAT_STAMP)

# The 1.x openai CLI (fine_tuning.jobs.*), the last versions that have it, in its own environment.
$(COMPAT_1X_STAMP):
	@test -x $(COMPAT_1X_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_1X_VENV)
	$(COMPAT_1X_VENV)/bin/python -m pip install $(PIP_FLAGS) "openai>=1.40,<2.35"
	@touch $(COMPAT_1X_STAMP)

compat-install: $(COMPAT_STAMP) $(COMPAT_1X_STAMP)

# Also the latest openai Node SDK, installed by npm into a temporary directory by its test (needs node 20+).
compat: install $(COMPAT_STAMP) $(COMPAT_1X_STAMP)
	FTEMU_COMPAT_PYTHON=$(abspath $(COMPAT_VENV))/bin/python FTEMU_COMPAT_1X_PYTHON=$(abspath $(COMPAT_1X_VENV))/bin/python \
		$(PY) -m pytest -q -p no:cacheprovider -n 2 compat $(ARGS)

lint: install
	$(VENV)/bin/ruff check emulator client conformance tests bench compat
	$(VENV)/bin/ruff format --check emulator client conformance tests bench compat

typecheck: install
	$(VENV)/bin/mypy

bench: install $(COMPAT_STAMP)
	@export FTEMU_COMPAT_PYTHON=$(abspath $(COMPAT_VENV))/bin/python; for script in bench/bench_*.py; do name=$$(basename $$script .py); echo "== $$name"; \
		$(PY) -m bench.$$name || exit 1; done

fuzz: install
	$(PY) -m pip install $(PIP_FLAGS) -e '.[fuzz]'
	FTEMU_SPEC_DIR=$(SPEC_DIR) $(PY) -m conformance.fuzz $(ARGS)

docs: install
	$(PY) -m conformance.behaviours --write docs/behaviours.md

clean:
	rm -rf $(VENV) $(COMPAT_VENV) $(COMPAT_1X_VENV) .ftemu .pytest_cache .hypothesis .mypy_cache .ruff_cache
