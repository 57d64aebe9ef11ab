"""Diarisation: the window plan, the label smoothing, and real two-speaker speech nobody here recorded.

`../shared/realspeech/ami` holds two 30 s AMI excerpts with reference speaker timings (its README);
the real-speech test skips where that folder is absent (a user's machine), and nothing of it is
ever copied into this repository.
The attribution measured is the share of single-speaker reference speech that our VAD found and
gave to the right voice (under the best mapping of our two voices onto theirs); the diarisation
error rate (missed + false alarm + confusion over reference speech, no collar) is printed too.
"""

from pathlib import Path

import numpy as np
import pytest

from pipeline import audio, campplus, config, diarize, turns
from pipeline.config import ROOT

DATA = ROOT.parent / "shared" / "realspeech" / "ami"
needs_ami = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/realspeech/ami is absent")
WEIGHTS = ROOT / config.MonoOptions().speaker_model
needs_weights = pytest.mark.skipif(not WEIGHTS.is_file(), reason="run `make model` (models/speaker.py) first")


def rttm(path: Path) -> list[tuple[float, float, str]]:
    rows = [line.split() for line in path.read_text().splitlines() if line.startswith("SPEAKER")]
    return [(float(r[3]), float(r[3]) + float(r[4]), r[7]) for r in rows]


def scores(pieces, ref, duration: float, collar: float = 0.0, step: float = 0.01) -> dict[str, float]:
    """attribution, VAD coverage and the diarisation error rate with its parts, on a 10 ms grid.

    attribution: of the single-speaker reference speech our VAD found, the share given to the
    right voice under the best mapping of our two voices onto theirs (what issue 17 asks for).
    coverage: the share of single-speaker reference speech our VAD found at all.
    DER: (missed + false alarm + confusion) / reference speech; `collar` seconds around every
    reference boundary are not scored (NIST md-eval uses 0.25 s).
    """
    t = np.arange(0, duration, step)
    names = sorted({who for _, _, who in ref})
    count = np.zeros(len(t), int)
    who = np.full(len(t), -1)
    scored = np.ones(len(t), bool)
    for s, e, name in ref:
        m = (t >= s) & (t < e)
        count[m] += 1
        who[m] = names.index(name)
        for edge in (s, e):
            scored &= np.abs(t - edge) >= collar
    hyp = np.full(len(t), -1)
    for p in pieces:
        hyp[(t >= p.start) & (t < p.end)] = p.speaker
    single = count == 1
    found = single & (hyp >= 0)
    agree = [np.mean(hyp[found] == (who[found] if k == 0 else 1 - who[found])) for k in (0, 1)]
    mapped = np.where(hyp >= 0, hyp if int(np.argmax(agree)) == 0 else 1 - hyp, -1)
    missed = np.sum((np.maximum(count - (hyp >= 0), 0))[scored])
    false_alarm = np.sum(((count == 0) & (hyp >= 0))[scored])
    confusion = np.sum((single & (mapped >= 0) & (mapped != who))[scored])
    total = max(count[scored].sum(), 1)
    return {"attribution": float(max(agree)), "coverage": float(found.sum() / max(single.sum(), 1)),
            "der": float((missed + false_alarm + confusion) / total), "missed": float(missed / total),
            "false_alarm": float(false_alarm / total), "confusion": float(confusion / total)}


@pytest.fixture(scope="module")
def weights():
    return campplus.Weights.load(WEIGHTS)


@needs_weights
@needs_ami
@pytest.mark.parametrize("clip", ["ami_dev00", "ami_dev01"])
def test_real_two_speaker_speech_is_attributed_to_the_right_voice(weights, clip):
    cfg = config.load()
    a = audio.load(DATA / f"{clip}.flac")
    frames = turns.scan([a.channels[:1]], a.sample_rate, cfg.vad)
    regions = turns.regions(frames, cfg.vad)[0]
    wins = diarize.windows(regions)
    result = diarize.diarize(regions, wins, diarize.embed_stream([a.channels[:1]], a.sample_rate, wins, weights))
    ref = rttm(DATA / f"{clip}.rttm")
    got = scores(result.pieces, ref, a.duration)
    nist = scores(result.pieces, ref, a.duration, collar=0.25)
    print(f"{clip}: attribution {got['attribution']:.1%} of the {got['coverage']:.1%} of single-speaker "
          f"speech the VAD found; DER {got['der']:.1%}, with a 0.25 s collar {nist['der']:.1%} = missed "
          f"{nist['missed']:.1%} + false alarm {nist['false_alarm']:.1%} + confusion {nist['confusion']:.1%}; "
          f"centroid cosine {result.similarity}")
    assert result.speakers == 2
    assert got["attribution"] >= 0.85  # issue 17's bar for real speech
    assert got["coverage"] >= 0.85
    # False alarm is mostly the VAD keeping the pauses inside a turn (the reference marks words
    # only); speaker confusion is diarisation's own error.
    assert nist["confusion"] <= 0.10


def test_windows_cover_each_region_to_its_end():
    opts = diarize.Options(window_s=1.5, shift_s=0.75, min_window_s=0.4)
    wins = diarize.windows([(0.0, 0.3), (1.0, 2.0), (3.0, 6.2)], opts)
    assert (1.0, 2.0) in wins  # a short region is one window
    assert not any(s < 0.5 for s, _ in wins)  # under min_window_s: none of its own
    long = [w for w in wins if w[0] >= 3.0]
    assert long[0] == (3.0, 4.5) and long[-1] == (4.7, 6.2)
    assert all(b - a == pytest.approx(1.5) for a, b in long)


def test_two_clear_voices_split_at_the_change_and_short_runs_are_absorbed():
    # Ten windows of voice A then ten of voice B inside one region, with one stray B window in A.
    a, b = np.eye(192, dtype=np.float32)[0], np.eye(192, dtype=np.float32)[1]
    wins = [(i * 0.75, i * 0.75 + 1.5) for i in range(20)]
    emb = np.stack([a] * 10 + [b] * 10)
    emb[4] = b
    emb = emb + 0.01 * np.random.default_rng(0).standard_normal(emb.shape).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    result = diarize.diarize([(0.0, 15.75)], wins, emb, diarize.Options(min_piece_s=1.0))
    assert result.speakers == 2
    assert [p.speaker for p in result.pieces] == [0, 1]  # the stray window is absorbed
    assert result.pieces[0].end == pytest.approx(8.1, abs=0.8)  # windows 9/10 overlap at 7.5–8.25


def test_one_voice_is_one_speaker():
    rng = np.random.default_rng(1)
    base = rng.standard_normal(192).astype(np.float32)
    emb = base + 0.2 * rng.standard_normal((12, 192)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    wins = [(i * 1.0, i * 1.0 + 1.5) for i in range(12)]
    result = diarize.diarize([(0.0, 12.5)], wins, emb)
    assert result.speakers == 1 and {p.speaker for p in result.pieces} == {0}


def test_embed_stream_cuts_windows_across_block_edges(weights=None):
    got = list(diarize._cut(iter([np.arange(10, dtype=np.float32)[None], np.arange(10, 20, dtype=np.float32)[None]]),
                            10, [(0.5, 1.5), (1.2, 1.9)]))
    assert [i for i, _ in got] == [0, 1]
    assert got[0][1].tolist() == list(range(5, 15)) and got[1][1].tolist() == list(range(12, 19))
