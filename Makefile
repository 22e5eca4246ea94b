# Set-up and entry points. `make test` and `make run` work from a fresh clone on a
# Debian machine with Python 3.11 (as root for the apt step; skipped when already present).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# libgs-common: the CMYK ICC profile of the PDF/X-4 output intent (run time);
# libpdfbox2-java (+ activation, jaxb): PDFBox Preflight in the tests only
APT_PACKAGES := fonts-ipamj-mincho fonts-ipaexfont poppler-utils libgs-common \
	libpdfbox2-java libactivation-java libjaxb-api-java
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: run test lint bench system venv clean

system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,lint]'
	@touch $(STAMP)

venv: system $(STAMP)

run: venv
	$(BIN)/mynumber demo --out demo

test: venv
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

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
	rm -rf $(VENV) demo mynumber-data
