"""Kaldi-compatible log-mel filterbank features, the input CAM++ was trained on.

Same settings as 3D-Speaker's `FBank` (torchaudio.compliance.kaldi.fbank with its defaults): 25 ms
povey-windowed frames every 10 ms, DC removed, pre-emphasis 0.97, 512-point power spectrum,
80 mel bins from 20 Hz to Nyquist, natural log, no dither; snip_edges. numpy only.
"""

from __future__ import annotations

import functools

import numpy as np

FRAME = 400  # samples at 16 kHz: 25 ms
SHIFT = 160  # 10 ms
NFFT = 512
BINS = 80
PREEMPH = 0.97
EPS = float(np.finfo(np.float32).eps)


def _mel(f: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(f) / 700.0)


@functools.cache
def mel_banks(sample_rate: int = 16000, bins: int = BINS, low: float = 20.0) -> np.ndarray:
    """(bins, NFFT/2 + 1) triangular filters in the mel domain, as Kaldi builds them."""
    lo, hi = _mel(low), _mel(sample_rate / 2)
    delta = (hi - lo) / (bins + 1)
    mels = _mel(np.arange(NFFT // 2) * sample_rate / NFFT)
    left = lo + np.arange(bins)[:, None] * delta
    center, right = left + delta, left + 2 * delta
    up = (mels - left) / (center - left)
    down = (right - mels) / (right - center)
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1))).astype(np.float32)  # the Nyquist bin gets no weight


@functools.cache
def _window() -> np.ndarray:
    n = np.arange(FRAME)
    return ((0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))) ** 0.85).astype(np.float32)


def fbank(samples: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """(frames, 80) log-mel energies of float samples in [-1, 1]; no frames if under 25 ms."""
    if sample_rate != 16000:
        raise ValueError("fbank expects 16 kHz audio (the rate CAM++ was trained on)")
    n = 1 + (len(samples) - FRAME) // SHIFT if len(samples) >= FRAME else 0
    if n == 0:
        return np.zeros((0, BINS), np.float32)
    idx = np.arange(FRAME)[None, :] + SHIFT * np.arange(n)[:, None]
    frames = samples.astype(np.float32)[idx]
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= PREEMPH * frames[:, :-1].copy()
    frames[:, 0] -= PREEMPH * frames[:, 0]
    power = np.abs(np.fft.rfft(frames * _window(), NFFT)) ** 2
    return np.log(np.maximum(power.astype(np.float32) @ mel_banks(sample_rate).T, EPS))
