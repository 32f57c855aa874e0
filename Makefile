# Everything a developer or CI runs. `make test` bootstraps its own virtualenv from pinned
# requirements on a fresh machine, then lints, type-checks and runs the whole suite.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint typecheck pytest venv lock clean emulator openapi sam-build run cleanup-now bench

# sam-build before pytest: tests/artifact and the benchmark's smoke run read the artifact.
test: lint typecheck sam-build pytest

venv: $(STAMP)

$(STAMP): requirements-dev.txt layers/tpns/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	for f in functions/*/app.py; do $(BIN)/mypy $$f || exit 1; done

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# `sam build` without Docker, from a separate venv with a pinned SAM CLI (its dependencies
# clash with the dev pins). Every resource is built by lambda-build/Makefile (BuildMethod: makefile),
# which ships unchecked-hash .pyc; it needs make, python3.11 on PATH (the functions' runtime)
# and PyPI.
SAM_CLI_VERSION ?= 1.170.0
SAM_VENV  ?= .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)

$(SAM_STAMP):
	rm -rf $(SAM_VENV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

sam-build: $(SAM_STAMP)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --template template.yaml

# Regenerate the committed OpenAPI spec from the validation models.
openapi: $(STAMP)
	PYTHONPATH=layers/tpns $(BIN)/python -c "from tpns_api.openapi import spec_json; open('docs/openapi.json', 'w').write(spec_json())"

# Re-pin requirements-dev.txt from requirements-dev.in (needs the package registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -r requirements-dev.in
	( echo '# Pinned by `make lock` from requirements-dev.in; install with `make venv`.'; \
	  .lock-venv/bin/pip freeze --exclude-editable ) > requirements-dev.txt
	rm -rf .lock-venv

# The whole bundle on loopback (moto, emulator, API gateway, queue poller, cleanup schedule),
# wired from template.yaml. Ctrl-C stops everything. LOCAL_STACK_ARGS="--help" lists options.
LOCAL_STACK_DIR ?= .local-stack
run: $(STAMP)
	$(BIN)/python -m local_stack --state-dir $(LOCAL_STACK_DIR) run $(LOCAL_STACK_ARGS)

# Run the local stack's cleanup schedule now (the stack must be running).
cleanup-now: $(STAMP)
	$(BIN)/python -m local_stack --state-dir $(LOCAL_STACK_DIR) trigger

# Cold start (from the fresh sam build artifact), warm overhead, bulk throughput and memory
# against baselines; writes BENCHMARKS.md and its charts (docs/benchmarks/).
bench: $(STAMP) sam-build
	$(BIN)/python -m bench $(BENCH_ARGS)

# A TPNS emulator on 127.0.0.1:8080 with a demo app, for trying the client by hand.
emulator: $(STAMP)
	$(BIN)/python -m tpns_emulator --port 8080 --app 1500001048:demo-secret-key

clean:
	rm -rf $(VENV) $(SAM_VENV) .mypy_cache .ruff_cache .pytest_cache .aws-sam
