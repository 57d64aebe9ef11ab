"""CAM++ in numpy against the torch original, and the Kaldi filterbank it is fed.

The reference embeddings (tests/data/campplus_ref.json) were computed once with torch 2.13 CPU,
3D-Speaker's CAMPPlus on the same weights and torchaudio's kaldi.fbank (dither 0) on the two
synthetic voices below, mean-normalised as in inference. Nothing here needs torch.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline import campplus, fbank
from pipeline.config import ROOT, MonoOptions

WEIGHTS = ROOT / MonoOptions().speaker_model
REF = json.loads((Path(__file__).parent / "data" / "campplus_ref.json").read_text())

needs_weights = pytest.mark.skipif(not WEIGHTS.is_file(), reason="run `make model` (models/speaker.py) first")


def voice(seconds: float, f0: float) -> np.ndarray:
    """A vowel-like harmonic tone with vibrato and a 3 Hz syllable envelope (as in the reference)."""
    t = np.arange(int(16000 * seconds)) / 16000
    tone = sum(np.sin(2 * np.pi * f0 * k * t * (1 + 0.05 * np.sin(2 * np.pi * 2 * t))) / k for k in range(1, 12))
    return (0.1 * tone * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.fixture(scope="module")
def weights():
    return campplus.Weights.load(WEIGHTS)


@needs_weights
@pytest.mark.parametrize("name, seconds, f0", [("low_1.5s", 1.5, 110.0), ("high_2.3s", 2.3, 230.0)])
def test_embedding_equals_the_torch_original(weights, name, seconds, f0):
    feats = fbank.fbank(voice(seconds, f0))
    got = campplus.embed(weights, (feats - feats.mean(axis=0))[None])[0]
    want = np.array(REF[name], np.float32)
    assert np.abs(got - want).max() < 2e-3  # reference rounded to 5 decimals; float32 sums differ
    assert got @ want / np.linalg.norm(got) / np.linalg.norm(want) > 0.99999


@needs_weights
def test_a_batch_equals_one_at_a_time(weights):
    clips = [voice(1.5, f) for f in (110.0, 180.0, 260.0)]
    feats = np.stack([f - f.mean(axis=0) for f in map(fbank.fbank, clips)])
    together = campplus.embed(weights, feats)
    for i in range(3):
        assert np.allclose(together[i], campplus.embed(weights, feats[i : i + 1])[0], atol=1e-4)


def test_fbank_frames_and_shape():
    assert fbank.fbank(np.zeros(399, np.float32)).shape == (0, 80)  # shorter than one 25 ms frame
    assert fbank.fbank(np.zeros(16000, np.float32)).shape == (98, 80)  # snip_edges: 1 + (16000-400)//160
    loud, quiet = fbank.fbank(voice(1.0, 150.0)), fbank.fbank(0.1 * voice(1.0, 150.0))
    above = quiet > np.log(fbank.EPS) + 1  # bins off the floor (a harmonic tone leaves high bins empty)
    assert above.mean() > 0.3
    # a gain is a constant log offset, which the per-segment mean normalisation removes
    assert np.allclose((loud - quiet)[above], 2 * np.log(10), atol=1e-3)
    with pytest.raises(ValueError, match="16 kHz"):
        fbank.fbank(np.zeros(8000, np.float32), 8000)


def test_mel_banks_cover_20_hz_to_nyquist():
    banks = fbank.mel_banks()
    assert banks.shape == (80, 257) and (banks >= 0).all() and banks.max() <= 1.0
    assert banks[:, 0].sum() == 0 and banks[:, -1].sum() == 0  # DC (below 20 Hz) and Nyquist unused
    assert (banks.sum(axis=1) > 0).all()
