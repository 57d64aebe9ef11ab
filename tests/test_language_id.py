"""Language ID costs an encoder pass per window: it must not run with a model that cannot tell
Cantonese from Mandarin (issue 12: Whisper base paid it on every window, 0.72× the baseline)."""

import dataclasses

import numpy as np
import pytest

from pipeline import asr
from pipeline.config import AsrOptions
from tests.conftest import voiced

pytestmark = pytest.mark.slow  # loads the real Whisper base model


@pytest.fixture(scope="module")
def transcriber():
    return asr.Transcriber(AsrOptions())


def test_base_has_no_cantonese_token_so_auto_leaves_language_id_off(transcriber):
    assert not asr.has_cantonese_token(transcriber.model)
    # faster-whisper lists yue for every multilingual model: that list must not decide it
    assert "yue" in transcriber.model.supported_languages
    assert transcriber.identify is False


def test_language_id_never_runs_with_base(transcriber, monkeypatch):
    def forbidden(*a, **kw):
        raise AssertionError("detect_language ran with Whisper base")

    monkeypatch.setattr(transcriber.model, "detect_language", forbidden)
    sr = 16000
    x = np.zeros((1, sr * 6), np.float32)
    x[0, sr : sr * 3] = voiced(2, sr)
    windows = asr.plan([[(1.0, 3.0)]], None, transcriber.opts)
    heard = transcriber.transcribe([x], windows, sr)
    assert all(h.language == "" for h in heard.values())


def test_detect_language_on_forces_it(transcriber):
    forced = asr.Transcriber(dataclasses.replace(AsrOptions(), detect_language="on"))
    assert forced.identify is True
