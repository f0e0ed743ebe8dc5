# `make run` and `make test` each install everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The PyTorch cross-check installs the CPU wheel from /opt/wheels when it is there; set TORCH=0 to skip.
TORCH ?= $(if $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl),1,0)

.PHONY: run test install install-python install-node install-browser install-redis bench clean

# The console entry point (app/cli.py) runs uvicorn on app.main:app; the store defaults to SQLite in data/.
run: install
	$(BIN)/backprop-playground serve --host $(HOST) --port $(PORT)

test: install install-browser install-redis
	$(BIN)/python -m pytest

install: install-python install-node

install-python: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	if [ "$(TORCH)" = "1" ]; then $(BIN)/python -m pip install --quiet 'torch==2.13.0' --find-links /opt/wheels; fi
	touch $@

install-node: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Browser tests drive Debian's Chromium; Playwright's own browser download does not work here.
install-browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The Redis store's tests need Debian's redis-server.
install-redis:
	@test -x /usr/bin/redis-server || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server; }

bench: install install-browser install-redis
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/server.py
	$(BIN)/python bench/store.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/load.py --workers 2 --client raw
	$(BIN)/python bench/load.py --workers 2 --client raw --endpoint api
	$(BIN)/python bench/load.py --workers 2 --client raw --redis
	$(BIN)/python bench/load.py --heavy --client raw
	$(BIN)/python bench/live.py
	$(BIN)/python bench/browser.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache
