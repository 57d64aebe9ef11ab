"""The turns of a call recorded on one mixed channel: diarise, transcribe, then name the roles.

A stereo call's channels say who spoke; a mono call's voices must be told apart first
(`diarize`), and which voice is the agent can only be known from what it says (`roles`), so the
ASR runs before the roles are given. Everything downstream — rules, store, review — sees the
same turns as for a stereo call; the `calls` row records that the call was mixed, how sure the
role decision was, and that confidence lowers every finding's (`quality.reliability`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from pipeline import asr, campplus, diarize, roles, turns
from pipeline.config import RunConfig
from pipeline.model import Role, Turn

Timed = Callable[[str, float], None]


@dataclass(frozen=True, slots=True)
class Models:
    """What a worker loads once for mono calls."""

    weights: campplus.Weights
    lexicons: roles.Lexicons


@dataclass(frozen=True, slots=True)
class Mixed:
    turns: tuple[Turn, ...]
    speakers: int
    role_confidence: float
    role_reasons: tuple[str, ...]
    similarity: float  # of the two voices (cosine of centroids)


def build_turns(stream: Callable[[], Iterator[np.ndarray]], frames: turns.Frames, cfg: RunConfig,
                transcriber: Callable[[], asr.Transcriber], models: Models, direction: str | None,
                timed: Timed) -> Mixed:
    """Turns of a one-channel call: `stream()` yields (1, n) blocks, `frames` is its VAD scan."""
    sr = cfg.audio.sample_rate
    m = cfg.mono
    opts = diarize.Options(window_s=m.window_s, shift_s=m.shift_s, min_piece_s=m.min_piece_s)
    regions = turns.regions(frames, cfg.vad)[0]
    t0 = time.perf_counter()
    wins = diarize.windows(regions, opts)
    emb = diarize.embed_stream(stream(), sr, wins, models.weights, opts)
    dia = diarize.diarize(regions, wins, emb, opts)
    timed("diarize", time.perf_counter() - t0)
    pieces = [[(p.start, p.end) for p in dia.pieces]]
    t0 = time.perf_counter()
    heard = transcriber().transcribe(stream(), asr.plan(pieces, frames, cfg.asr), sr)
    timed("asr", time.perf_counter() - t0)
    texts = [heard.get((0, r), asr.Heard()) for r in range(len(dia.pieces))]
    said: dict[int, list[tuple[float, str]]] = {}
    for p, h in zip(dia.pieces, texts):
        said.setdefault(p.speaker, []).append((p.start, h.text))
    guess = roles.guess(said, direction, models.lexicons)
    agent = guess.agent
    out = tuple(
        Turn(i, Role.AGENT if p.speaker == agent else Role.CUSTOMER, p.start, p.end, h.text, h.words,
             turns.level_db(frames, 0, p.start, p.end), h.language, h.language_prob)
        for i, (p, h) in enumerate(zip(dia.pieces, texts))
    )
    return Mixed(out, dia.speakers, guess.confidence, guess.reasons, dia.similarity)
