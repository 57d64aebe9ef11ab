"""Pitch (F0) of one channel, measured on the streamed pass, and each turn's pitch from it.

`Meter` is fed the same decoded (n_channels, n) blocks as the VAD (like `quality.Meter`) and keeps
one F0 value per 20 ms frame of one channel — the customer's on a stereo call, the single mixed
channel on a mono one — so memory stays bounded (180,000 float32 values for an hour). `attach`
turns the track into per-turn numbers stored in the `turns` table (`pitch_hz`, `pitch_range_st`),
from which `pipeline.emotion` judges the customer against their own baseline on every rescore.

The estimator is YIN (de Cheveigné & Kawahara 2002: the cumulative mean normalised difference,
absolute threshold 0.15, parabolic refinement), vectorised over all frames of a block with numpy
FFTs, silent frames skipped before any FFT. Measured (README, "Customer emotion"): 0.06 s per
minute of 75 %-voiced audio on one core of the 2-core dev machine, under 1 % of a call's time with
Whisper base. librosa 0.11 was measured as the alternative: `librosa.yin` costs 0.1 s/min, `pyin`
2.2 s/min plus 25 s of numba compilation per process, and the install adds ~500 MB (numba,
llvmlite, scipy, scikit-learn) for per-turn medians that need no more precision than this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from pipeline.model import Role, Seconds, Turn

HOP_S = 0.02  # one F0 value per 20 ms: per-turn medians need no finer grid
WIN_S = 0.03  # YIN integration window: 2+ periods of a 75 Hz voice
FMIN_HZ = 75.0  # below the lowest adult male speaking F0 (~85 Hz) …
FMAX_HZ = 400.0  # … above a raised female voice (angry speech rises ~3–7 semitones)
THRESHOLD = 0.15  # YIN's absolute threshold on the normalised difference (the paper's value)
MIN_DBFS = -50.0  # frames quieter than this are line noise, not voice
MIN_VOICED = 5  # voiced frames (0.1 s) a turn needs for a pitch of its own


@dataclass(frozen=True, slots=True)
class Track:
    """F0 per frame (Hz, NaN where unvoiced); frame i is centred at i * hop_s + win_s / 2."""

    f0: np.ndarray
    hop_s: Seconds = HOP_S
    win_s: Seconds = WIN_S


CHUNK = 256  # frames per FFT batch: bounded memory, same result


def yin(frames: np.ndarray, sample_rate: int, win: int) -> np.ndarray:
    """F0 (Hz, NaN unvoiced) of each row of `frames` (m, win + max_lag + 1)."""
    m, length = frames.shape
    kmin, kmax = int(sample_rate / FMAX_HZ), length - win - 1
    f0 = np.full(m, np.nan)
    head = frames[:, :win].astype(np.float32)
    loud = np.flatnonzero(10 * np.log10(np.mean(head * head, axis=1) + 1e-12) > MIN_DBFS)
    if not len(loud):
        return f0  # silence (the other party talking, a pause) costs no FFT
    for i in range(0, len(loud), CHUNK):  # a 30 s block at once would hold ~150 MB of spectra
        rows = loud[i : i + CHUNK]
        f0[rows] = _yin(frames[rows].astype(np.float32), sample_rate, win, kmin, kmax)
    return f0


def _yin(x: np.ndarray, sample_rate: int, win: int, kmin: int, kmax: int) -> np.ndarray:
    m, length = x.shape
    x -= x[:, :win].mean(axis=1, keepdims=True)
    nfft = 1 << int(np.ceil(np.log2(length)))
    a = np.fft.rfft(x[:, :win], nfft)
    b = np.fft.rfft(x, nfft)
    r = np.fft.irfft(np.conj(a) * b, nfft)[:, : kmax + 1]  # r[t] = sum_j x_j x_{j+t}, j < win
    cs = np.concatenate([np.zeros((m, 1), np.float32), np.cumsum(x * x, axis=1)], axis=1)
    energy = cs[:, win : win + kmax + 1] - cs[:, : kmax + 1]  # sum of x_{j+t}^2, j < win
    d = np.maximum(energy[:, :1] + energy - 2 * r, 0.0)
    d[:, 0] = 0.0
    cum = np.cumsum(d[:, 1:], axis=1)
    taus = np.arange(1, kmax + 1)
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] * taus / np.maximum(cum, 1e-12)
    f0 = np.full(m, np.nan)
    below = cmnd[:, kmin:kmax] < THRESHOLD
    rows = np.flatnonzero(below.any(axis=1))
    if not len(rows):
        return f0
    first = kmin + np.argmax(below[rows], axis=1)  # YIN: the first dip under the threshold …
    c = cmnd[rows, : kmax + 1]
    rising = np.zeros_like(c, dtype=bool)
    rising[:, :-1] = c[:, 1:] >= c[:, :-1]
    rising[:, -2:] = True
    after = rising & (np.arange(kmax + 1) >= first[:, None])
    t = np.clip(np.argmax(after, axis=1), 1, kmax - 1)  # … walked down to its bottom
    y0, y1, y2 = (c[np.arange(len(rows)), t + d] for d in (-1, 0, 1))
    den = y0 - 2 * y1 + y2
    shift = np.where(np.abs(den) > 1e-12, 0.5 * (y0 - y2) / np.where(den == 0, 1, den), 0.0)
    f0[rows] = sample_rate / (t + np.clip(shift, -0.5, 0.5))
    return f0


class Meter:
    """Accumulates the F0 track of one channel over the decoded (n_channels, n) blocks."""

    def __init__(self, channel: int, sample_rate: int) -> None:
        self.channel, self.sr = channel, sample_rate
        self.hop, self.win = int(HOP_S * sample_rate), int(WIN_S * sample_rate)
        self.length = self.win + int(sample_rate / FMIN_HZ) + 2
        self.rest = np.zeros(0, dtype=np.float32)
        self.parts: list[np.ndarray] = []
        self.seconds = 0.0  # CPU time spent here, reported apart from the VAD's

    def add(self, block: np.ndarray) -> np.ndarray:
        import time

        t0 = time.perf_counter()
        ch = min(self.channel, block.shape[0] - 1)
        x = np.concatenate([self.rest, block[ch].astype(np.float32)])
        count = max(0, (len(x) - self.length) // self.hop + 1)
        if count:
            view = np.lib.stride_tricks.sliding_window_view(x, self.length)[:: self.hop][:count]
            self.parts.append(yin(view, self.sr, self.win).astype(np.float32))
        self.rest = x[count * self.hop :]
        self.seconds += time.perf_counter() - t0
        return block

    def track(self) -> Track:
        f0 = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.float32)
        return Track(f0, self.hop / self.sr, self.win / self.sr)


def turn_pitch(track: Track, start: Seconds, end: Seconds) -> tuple[float | None, float | None]:
    """(median F0 in Hz, spread p90/p10 in semitones) of the voiced frames centred in the turn."""
    a = max(0, int(np.ceil((start - track.win_s / 2) / track.hop_s)))
    b = max(a, int(np.floor((end - track.win_s / 2) / track.hop_s)) + 1)
    f = track.f0[a:b]
    f = f[~np.isnan(f)]
    if len(f) < MIN_VOICED:
        return None, None
    lo, mid, hi = np.percentile(f, [10, 50, 90])
    return round(float(mid), 1), round(float(12 * np.log2(hi / lo)), 2)


def attach(turns: Iterable[Turn], track: Track, role: Role = Role.CUSTOMER) -> tuple[Turn, ...]:
    """`turns` with `pitch_hz` / `pitch_range_st` set on those of `role` (the tracked voice)."""
    out = []
    for t in turns:
        if t.role is role:
            hz, spread = turn_pitch(track, t.start, t.end)
            t = replace(t, pitch_hz=hz, pitch_range_st=spread)
        out.append(t)
    return tuple(out)
