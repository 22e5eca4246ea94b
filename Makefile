# Set-up and entry points. `make test` and `make run` work from a fresh clone on a
# Debian machine with Python 3.11 (as root for the apt step; skipped when already present).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# softhsm2: PKCS#11 token for the HSM key tests; libgs-common: the CMYK ICC profile of the
# PDF/X-4 output intent (run time); libpdfbox2-java (+ activation, jaxb): PDFBox Preflight in the tests only
APT_PACKAGES := fonts-ipamj-mincho fonts-ipaexfont poppler-utils softhsm2 libgs-common \
	libpdfbox2-java libactivation-java libjaxb-api-java
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: run test lint bench system venv clean lock

system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Installs exactly what requirements.lock pins, every file checked against its SHA-256
# (runtime + test + lint + build extras, Python 3.11, Linux x86_64); then this project without deps.
# Also a second, older typer/click (hashed too) into its own folder, so that
# tests/cli/test_typer_versions.py runs the CLI on it without the network.
$(STAMP): requirements.lock pyproject.toml tests/cli/typer-0.15.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes --no-deps -r requirements.lock
	rm -rf $(VENV)/alt-typer-0.15
	$(BIN)/pip install -q --require-hashes --no-deps --target $(VENV)/alt-typer-0.15 -r tests/cli/typer-0.15.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Re-resolve requirements.lock from pyproject.toml on PyPI (after adding or bumping a
# dependency; needs the network). uv is pinned so that the same inputs give the same lock.
UV_VERSION := 0.13.9
LOCK_VENV := .venv-lock
lock:
	@test -x $(LOCK_VENV)/bin/uv || { $(PY) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install -q uv==$(UV_VERSION); }
	env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u UV_EXTRA_INDEX_URL -u UV_INDEX_URL \
	  $(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra test --extra lint --extra build \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes \
	  --no-emit-index-url --no-header --quiet \
	  --output-file requirements.lock
	@echo "requirements.lock: $$(grep -c '==' requirements.lock) packages pinned with hashes"

venv: system $(STAMP)

run: venv
	$(BIN)/mynumber demo --out demo

# the PostgreSQL ledger tests run too: .ci/with-postgres starts a throwaway server on
# loopback (unless MYNUMBER_TEST_PG_URL is set) and stops it afterwards
test: venv
	.ci/with-postgres $(BIN)/python -m pytest -n 2 -q

# ruff (pyflakes, bugbear, isort, pyupgrade), mypy (strict on core, transforms, ledger) and
# import-linter (layers point one way); .ci/run calls this before the tests
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python bench/derive.py
	$(BIN)/python bench/register.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/bulk.py

clean:
	rm -rf $(VENV) $(LOCK_VENV) demo mynumber-data
