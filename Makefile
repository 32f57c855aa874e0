# Everything a developer or CI runs. `make test` bootstraps its own virtualenv from pinned
# requirements on a fresh machine, then lints, type-checks and runs the whole suite.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint typecheck pytest venv lock clean emulator openapi sam-build run cleanup-now bench \
	scan browser screenshot lock-checkov

# sam-build before pytest: tests/artifact and the benchmark's smoke run read the artifact.
test: lint typecheck scan browser sam-build pytest

venv: $(STAMP)

$(STAMP): requirements-dev.txt layers/tpns/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	for f in functions/*/app.py; do $(BIN)/mypy $$f || exit 1; done

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Security and best-practice scanners on template.yaml, both must report 0 failures: checkov
# (its own venv: its dependencies clash with the dev pins) and AWS Labs' serverless rules for
# cfn-lint. Findings that do not apply are suppressed in the template, per resource, with a
# reason. No phoning home: no Prisma Cloud download, no update check.
CHECKOV_VENV  ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): requirements-checkov.txt
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

scan: $(STAMP) $(CHECKOV_STAMP)
	BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE $(CHECKOV_VENV)/bin/checkov \
	  --file template.yaml --framework cloudformation --skip-download --compact --quiet
	$(BIN)/cfn-lint --template template.yaml --append-rules cfn_lint_serverless.rules

# Re-pin requirements-checkov.txt (CHECKOV_VERSION and its dependencies; needs the registry).
CHECKOV_VERSION ?= 3.3.30
lock-checkov:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	( echo '# checkov and its dependencies, pinned by `make lock-checkov`; installed in .venv-checkov (they clash with the dev pins).'; \
	  .lock-venv/bin/pip freeze --exclude-editable ) > requirements-checkov.txt
	rm -rf .lock-venv

# Debian's chromium, for the docs page's browser test (Playwright drives it; it never downloads
# a browser of its own). Installed when missing and apt-get can run (root, as on CI); otherwise
# that test skips saying why (under CI it fails instead).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM  # the browser test launches this one
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "warning: no $(CHROMIUM) and apt-get cannot install chromium: the browser test will skip"; \
	fi

# Re-take docs/swagger-ui.png (the README's picture of the docs page) from the browser test.
screenshot: $(STAMP) browser
	DOCS_SCREENSHOT=docs/swagger-ui.png $(BIN)/pytest tests/e2e/test_docs_page_browser.py -k renders

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
	$(BIN)/python -c "from tpns_api.http.openapi import spec_json; open('docs/openapi.json', 'w').write(spec_json())"

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
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .mypy_cache .ruff_cache .pytest_cache .aws-sam
