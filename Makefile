# The README's two commands:
#   make train   set up .venv and fine-tune the default model on the emotion tweets
#   make test    set up .venv with the development extras and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
# The emotion tweets from ../shared when they are there, else from tutorial 000's own URL (through the URL loader).
EMOTION_URL := https://raw.githubusercontent.com/laxmimerit/All-CSV-ML-Data-Files-Download/master/twitter_multi_class_sentiment.csv
EMOTION ?= $(if $(wildcard $(SHARED)/datasets/emotion/emotion.csv),$(SHARED)/datasets/emotion/emotion.csv,$(EMOTION_URL))
RUN_DIR ?= runs/emotion
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup setup-dev train test test-slow docs chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, as the local CPU build: an unpinned torch would pull several GB of CUDA packages.
$(VENV)/.torch: $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.torch pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

train: setup
	$(BIN)/fineclass train $(EMOTION) --output-dir $(RUN_DIR) --overwrite

# The browser tests use Debian's chromium and chromium-driver; without them (no apt, no root) those tests skip.
chromium:
	@(command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1) || \
		(command -v apt-get >/dev/null 2>&1 && timeout 600 apt-get update -qq && \
		timeout 600 apt-get install -y -qq chromium chromium-driver >/dev/null) || \
		echo "chromium not installed: the browser tests will be skipped"

test: setup-dev chromium
	$(BIN)/python -m pytest

test-slow: setup-dev
	$(BIN)/python -m pytest -m slow

# The documentation site (mkdocs-material and mkdocstrings, from the dev extras) into site/
docs: setup-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) runs .pytest_cache site
