"""One recording → a Call: decode, turns (webrtcvad), transcripts (faster-whisper).

The audio is streamed twice (VAD, then ASR) rather than held in memory, so a recording of any
length runs in bounded memory; decoding costs under 1 % of the time (PERF.md). Nothing here writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import asr, audio, turns
from pipeline.config import RunConfig
from pipeline.errors import AudioError
from pipeline.model import Call, Turn

Timed = Callable[[str, float], None]  # (stage, seconds): where the time went, for the calls row


@dataclass(frozen=True, slots=True)
class AudioFacts:
    """What the file itself says, recorded in the `calls` row."""

    duration_s: float
    sample_rate: int  # the file's own rate
    codec: str
    channels: int


def build_call(path: Path, call_id: str, rel: str, cfg: RunConfig,
               transcriber: Callable[[], asr.Transcriber], timed: Timed) -> tuple[Call, AudioFacts]:
    """Audio file → Call with transcribed turns; raises AudioError for unusable audio.

    `transcriber` is asked for only once the audio has passed every check, so a batch of bad
    files never loads the model.
    """
    sr = cfg.audio.sample_rate
    info = audio.probe(path)
    if info.channels == 1:
        raise AudioError(path, "单声道录音暂不支持（需要双声道：坐席、客户各一个声道）")
    if info.channels != len(cfg.channels):
        raise AudioError(path, f"有 {info.channels} 个声道，但声道配置 {cfg.channels} 只对应 "
                               f"{len(cfg.channels)} 个")
    chans = sorted(cfg.roles)

    def stream() -> Iterator[np.ndarray]:
        for block in audio.blocks(path, sr):
            yield block[chans]

    t0 = time.perf_counter()
    frames = turns.scan(stream(), sr, cfg.vad)
    timed("vad", time.perf_counter() - t0)
    if frames.duration < cfg.audio.min_duration_s:
        raise AudioError(path, f"录音过短（{frames.duration:.1f} 秒，至少 {cfg.audio.min_duration_s:g} 秒）")
    regions = turns.regions(frames, cfg.vad)
    if not any(regions):
        raise AudioError(path, "整通录音没有检测到语音（静音文件）")
    t0 = time.perf_counter()
    windows = asr.plan(regions, frames, cfg.asr)
    heard = transcriber().transcribe(stream(), windows, sr)
    timed("asr", time.perf_counter() - t0)
    made = sorted((
        (s, e, cfg.roles[chans[ch]], heard.get((ch, r), asr.Heard()), turns.level_db(frames, ch, s, e))
        for ch, regs in enumerate(regions)
        for r, (s, e) in enumerate(regs)
    ), key=lambda m: (m[0], m[1], m[2]))
    call_turns = tuple(
        Turn(i, role, s, e, h.text, h.words, level, h.language, h.language_prob)
        for i, (s, e, role, h, level) in enumerate(made)
    )
    facts = AudioFacts(round(frames.duration, 3), info.source_rate, info.codec, info.channels)
    return Call(call_id, frames.duration, call_turns, rel), facts
