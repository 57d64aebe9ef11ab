"""Mandarin or Cantonese from Whisper base's own encoder states: a linear probe we fitted.

Whisper base (and small, medium) has no `<|yue|>` token: forced to zh it writes Cantonese as
Mandarin-ised standard Chinese, and its language ID calls Cantonese "zh", so neither the text nor
Whisper's own language probabilities can feed V003 (seed 000 服务语种选择). The encoder still hears
the difference: the mean of a turn's encoder frames, standardised, through one logistic
regression, separates the two. The probe costs nothing at run time: the encoder states are the
ones the transcription computed anyway (`ct2.Tap`), pooled over each turn's own frames.

The numbers in `langid.json` were fitted by `tools/fit_langid.py` on the dev split of
`../shared/realspeech` (Cantonese and Mandarin clips, wideband and through an 8 kHz G.711
telephone channel); the test split measures it (bench/realspeech.py, README). A model with a
`<|yue|>` token (large-v3) uses Whisper's own language ID instead (`asr.has_cantonese_token`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.windows import Key, Piece

__all__ = ["FRAMES_PER_S", "MIN_SPEECH_S", "PROBE", "Pool", "Probe", "frames_of"]

FRAMES_PER_S = 50  # Whisper's encoder: 1,500 frames per 30 s window
MIN_SPEECH_S = 1.0  # shorter turns (喂, 好的, 嗯) sound alike in both: left unlabelled
PROBE = Path(__file__).with_name("langid.json")


@dataclass(frozen=True)
class Probe:
    """P(Cantonese) = σ(w · (x − mean) / scale + b) for a turn's mean encoder frame x."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    dims: int  # the encoder's width the probe was fitted for (512 for Whisper base)

    @classmethod
    def load(cls, path: Path = PROBE) -> Probe:
        d = json.loads(path.read_text(encoding="utf-8"))
        arr = {k: np.asarray(d[k], dtype=np.float32) for k in ("mean", "scale", "weights")}
        return cls(arr["mean"], arr["scale"], arr["weights"], float(d["bias"]), int(d["dims"]))

    def prob_yue(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.weights + self.bias)
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0))))

    def label(self, x: np.ndarray, seconds: float) -> tuple[str, float]:
        """("yue" | "zh", probability of that label), or ("", 0.0) for too little speech."""
        if seconds < MIN_SPEECH_S or x.shape[-1] != self.dims:
            return "", 0.0
        p = self.prob_yue(x)
        return ("yue", round(p, 3)) if p >= 0.5 else ("zh", round(1.0 - p, 3))


def frames_of(piece: Piece) -> tuple[int, int]:
    """The encoder frames of a piece's own speech inside its window (its context left out)."""
    lo = piece.packed + (piece.start - piece.audio_start)
    hi = piece.packed + (piece.end - piece.audio_start)
    a, b = round(lo * FRAMES_PER_S), round(hi * FRAMES_PER_S)
    return a, max(b, a + 1)


class Pool:
    """Sums of encoder frames per turn, over every window piece of it (a long turn spans several)."""

    def __init__(self) -> None:
        self.sums: dict[Key, np.ndarray] = {}
        self.counts: dict[Key, int] = {}
        self._seen: set[tuple[Key, float]] = set()

    def add(self, piece: Piece, encoded: np.ndarray) -> None:
        """Add a piece's frames once: a window decoded again (fallback, second pass) adds nothing."""
        if (piece.key, piece.start) in self._seen:
            return
        self._seen.add((piece.key, piece.start))
        lo, hi = frames_of(piece)
        frames = encoded[lo : min(hi, len(encoded))]
        if not len(frames):
            return
        self.sums[piece.key] = self.sums.get(piece.key, 0) + frames.sum(axis=0, dtype=np.float64)
        self.counts[piece.key] = self.counts.get(piece.key, 0) + len(frames)

    def means(self) -> dict[Key, tuple[np.ndarray, float]]:
        """Each turn's mean frame and its seconds of speech."""
        return {k: ((s / self.counts[k]).astype(np.float32), self.counts[k] / FRAMES_PER_S)
                for k, s in self.sums.items()}
