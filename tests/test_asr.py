"""The real Whisper model: language ID only where it can work, transcripts that do not depend on
the machine's core count."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pipeline import asr
from pipeline.config import AsrOptions
from tests.conftest import ROOT, SAMPLE_CALLS, voiced

pytestmark = pytest.mark.slow  # loads the real Whisper base model


@pytest.fixture(scope="module")
def transcriber():
    return asr.Transcriber(AsrOptions())


# Whisper's language ID costs an encoder pass per window: it must not run with a model that cannot
# tell Cantonese from Mandarin (issue 12: Whisper base paid it on every window, 0.72× the baseline).
# Base labels turns with our probe on the encoder states it computed anyway (langid.py).
def test_base_has_no_cantonese_token_so_the_probe_labels_turns(transcriber):
    assert not asr.has_cantonese_token(transcriber.model)
    # faster-whisper lists yue for every multilingual model: that list must not decide it
    assert "yue" in transcriber.model.supported_languages
    assert transcriber.identify is False and transcriber.probe is not None


def test_whisper_language_id_never_runs_with_base(transcriber, monkeypatch):
    def forbidden(*a, **kw):
        raise AssertionError("detect_language ran with Whisper base")

    monkeypatch.setattr(transcriber.model, "detect_language", forbidden)
    sr = 16000
    x = np.zeros((1, sr * 6), np.float32)
    x[0, sr : sr * 3] = voiced(2, sr)
    windows = asr.plan([[(1.0, 3.0)]], None, transcriber.opts)
    heard = transcriber.transcribe([x], windows, sr)
    # 2 s of a buzz: the probe labels it (from the encoder states), Whisper's ID never ran
    assert all(h.language in ("zh", "yue") for h in heard.values())
    assert set(transcriber.pooled) == {(0, 0)} and transcriber.pooled[(0, 0)][1] == pytest.approx(2.0, abs=0.05)


def test_detect_language_off_labels_nothing():
    off = asr.Transcriber(dataclasses.replace(AsrOptions(), detect_language="off"))
    assert off.identify is False and off.probe is None
    assert off.model.model.keep_encoded is False


TRANSCRIBE = """
import json, sys
from pipeline import asr, audio, config, turns
cfg = config.load(); sr = cfg.audio.sample_rate
frames = turns.scan(audio.blocks(sys.argv[1], sr), sr, cfg.vad)
windows = asr.plan(turns.regions(frames, cfg.vad), frames, cfg.asr)
heard = asr.Transcriber(cfg.asr).transcribe(audio.blocks(sys.argv[1], sr), windows, sr)
print(json.dumps(sorted((list(k), h.text) for k, h in heard.items()), ensure_ascii=False))
"""


def test_transcripts_do_not_depend_on_blas_threads():
    """numpy's OpenBLAS computes the log-mel features; with 2 threads instead of 1 it changed words
    of c01 (本月 → 本日) before ASR pinned it to one thread."""
    call = str(SAMPLE_CALLS / "c01_clean_inquiry.mp3")
    texts = []
    for threads in ("1", "2"):
        env = os.environ | {"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        res = subprocess.run([sys.executable, "-c", TRANSCRIBE, call], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300, check=True)
        texts.append(json.loads(res.stdout))
    assert texts[0] == texts[1]


def test_windows_encoded_one_by_one_match_the_batch(transcriber):
    """`ct2.OneByOne` encodes and aligns each window alone (faster on a CPU): the encoder's numbers
    must be the batch's, so the transcripts do not change with the batch size; alignments too,
    for texts of one length (a batch pads the shorter ones, which moves their word times a little)."""
    import ctranslate2

    from pipeline.ct2 import OneByOne

    wrapped = transcriber.model.model
    assert isinstance(wrapped, OneByOne)
    inner = wrapped._inner
    sr = 16000
    rng = np.random.default_rng(0)
    clips = [voiced(4, sr), 0.1 * rng.standard_normal(sr * 4).astype(np.float32)]
    feats = np.stack([transcriber.model.feature_extractor(np.pad(c, (0, sr * 30 - len(c))))[:, :3000] for c in clips])
    batched = np.array(inner.encode(ctranslate2.StorageView.from_array(feats)))
    one = np.array(wrapped.encode(ctranslate2.StorageView.from_array(feats)))
    assert one.shape == batched.shape
    np.testing.assert_allclose(one, batched, atol=2e-3)
    from faster_whisper.tokenizer import Tokenizer

    tok = Tokenizer(transcriber.model.hf_tokenizer, True, task="transcribe", language="zh")
    tokens = [tok.encode("好的请您稍等一下好吗"), tok.encode("请问还有什么可以帮您")]
    assert len(tokens[0]) == len(tokens[1])
    enc = ctranslate2.StorageView.from_array(np.ascontiguousarray(batched))
    a = inner.align(enc, list(tok.sot_sequence), tokens, [400, 400])
    b = wrapped.align(enc, list(tok.sot_sequence), tokens, [400, 400])
    assert [r.alignments for r in a] == [r.alignments for r in b]
