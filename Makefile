# Gembok: the two commands are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the test suite needs (checked, installed only when missing): Pango draws
# the data-subject export's PDF; PostgreSQL is the second engine the store tests run on
# (the tests start their own server); the last line is for tests/deploy: a Debian box
# booted with systemd-nspawn, reached over SSH.
APT_TEST_PACKAGES := openssl chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
	postgresql libpq5 \
	debootstrap systemd-container nftables openssh-client iproute2 netcat-openbsd

.PHONY: run demo test lint install install-dev apt-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: set up the venv and run the whole appliance in the foreground
run: install
	$(BIN)/gembok run

## make demo: the same, on a fresh data dir filled with demo divisions, agents and customers
demo: install
	$(BIN)/gembok run --demo

apt-test:
	@missing=""; for p in $(APT_TEST_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## make lint: ruff on everything, mypy --strict on every package, the import contracts
lint: install-dev
	$(BIN)/ruff check appliance webui tui simulator tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

## make test: install what the tests need, lint, then the whole suite
test: install-dev apt-test lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
