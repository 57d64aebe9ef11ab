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
    # Each voice is packed into windows of its own, as a stereo channel is: Whisper hears one
    # voice per window (on the sample calls' mono mixes: fewer misheard closings and taboo words
    # than windows that alternate voices, same CER). The mono channel is read as two copies.
    t0 = time.perf_counter()
    by_voice = [[i for i, p in enumerate(dia.pieces) if p.speaker == k] for k in (0, 1)]
    regions_by_voice = [[(dia.pieces[i].start, dia.pieces[i].end) for i in idx] for idx in by_voice]
    twice = turns.Frames(frames.energy_db * 2, frames.voiced * 2, frames.frame_s, frames.duration)
    heard_by_voice = transcriber().transcribe((np.repeat(b, 2, axis=0) for b in stream()),
                                              asr.plan(regions_by_voice, twice, cfg.asr), sr)
    heard = {i: heard_by_voice[(k, j)] for k, idx in enumerate(by_voice) for j, i in enumerate(idx)
             if (k, j) in heard_by_voice}
    timed("asr", time.perf_counter() - t0)
    texts = [heard.get(i, asr.Heard()) for i in range(len(dia.pieces))]
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
