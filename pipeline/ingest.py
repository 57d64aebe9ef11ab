"""One recording → a Call: decode, turns (webrtcvad), transcripts (faster-whisper).

Stereo: one party per channel, so a channel's speech regions are that party's turns. One mixed
channel (a mono file, or stereo whose channels carry the same signal) goes through `mono`:
diarisation, then roles from what each voice said. Every call gets its audio-quality record
(`quality`) from the VAD pass. The audio is streamed (VAD, [speaker embeddings,] ASR) rather than
held in memory, so a recording of any length runs in bounded memory; decoding costs under 1 % of
the time (PERF.md). Nothing here writes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import asr, audio, emotion, mono, prosody, quality, turns
from pipeline.config import RunConfig
from pipeline.errors import AudioError
from pipeline.model import Call, Role, Turn

Timed = Callable[[str, float], None]  # (stage, seconds): where the time went, for the calls row


@dataclass(frozen=True, slots=True)
class AudioFacts:
    """What the file itself says, recorded in the `calls` row (names as stored)."""

    duration_s: float
    sample_rate: int  # the file's own rate
    codec: str
    channels: int
    clipping_share: float = 0.0
    speech_level_db: float | None = None
    silent_channel: str = ""
    mixed: bool = False
    audio_issues: str = ""
    speakers: int | None = None  # voices found on a mixed channel
    role_confidence: float | None = None  # how sure the agent/customer decision on it is
    role_reasons: str = ""
    reliability: float = 1.0


def build_call(path: Path, call_id: str, rel: str, cfg: RunConfig,
               transcriber: Callable[[], asr.Transcriber], timed: Timed,
               mono_models: Callable[[], mono.Models] | None = None,
               direction: str | None = None) -> tuple[Call, AudioFacts]:
    """Audio file → Call with transcribed turns; raises AudioError for unusable audio.

    `transcriber` (and `mono_models`, for one mixed channel) are asked for only once the audio has
    passed every check, so a batch of bad files never loads a model. A stereo file whose two
    channels carry the same signal is a mono call saved as stereo and is treated as one.
    """
    sr = cfg.audio.sample_rate
    info = audio.probe(path)
    if info.channels != 1 and info.channels != len(cfg.channels):
        raise AudioError(path, f"有 {info.channels} 个声道，但声道配置 {cfg.channels} 只对应 "
                               f"{len(cfg.channels)} 个")
    chans = [0] if info.channels == 1 else sorted(cfg.roles)

    def stream(keep: list[int] = chans) -> Iterator[np.ndarray]:
        for block in audio.blocks(path, sr):
            yield block[keep]

    meter = quality.Meter()
    # The customer's pitch on the same pass (the one channel of a mono call: turns pick theirs).
    pitch = prosody.Meter(next((i for i, c in enumerate(chans) if cfg.roles[c] is Role.CUSTOMER), 0), sr)
    t0 = time.perf_counter()
    frames = turns.scan((pitch.add(meter.add(b)) for b in stream()), sr, cfg.vad)
    timed("vad", time.perf_counter() - t0 - pitch.seconds)
    timed("pitch", pitch.seconds)
    if frames.duration < cfg.audio.min_duration_s:
        raise AudioError(path, f"录音过短（{frames.duration:.1f} 秒，至少 {cfg.audio.min_duration_s:g} 秒）")
    same = info.channels > 1 and meter.same_signal()
    if info.channels == 1 or same:
        frames = turns.Frames(frames.energy_db[:1], frames.voiced[:1], frames.frame_s, frames.duration)
    if not any(turns.regions(frames, cfg.vad)):
        raise AudioError(path, "整通录音没有检测到语音（静音文件）")
    q = quality.assess(meter, frames, [cfg.roles[c].value for c in chans], info.channels == 1, same)
    facts = AudioFacts(round(frames.duration, 3), info.source_rate, info.codec, info.channels,
                       **{k: getattr(q, k) for k in ("clipping_share", "speech_level_db", "silent_channel",
                                                      "mixed", "audio_issues")})
    if q.mixed:
        if mono_models is None:
            raise AudioError(path, "单声道录音需要说话人模型（models/speaker.py）")
        mixed = mono.build_turns(lambda: stream([chans[0]]), frames, cfg, transcriber, mono_models(),
                                 direction, timed)
        facts = dataclasses.replace(facts, speakers=mixed.speakers, role_confidence=mixed.role_confidence,
                                    role_reasons="、".join(mixed.role_reasons),
                                    reliability=quality.reliability(q, mixed.role_confidence))
        call = Call(call_id, frames.duration, prosody.attach(mixed.turns, pitch.track()), rel, True,
                    facts.reliability)
        return emotion.annotate(call), facts
    regions = turns.regions(frames, cfg.vad)
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
    facts = dataclasses.replace(facts, reliability=quality.reliability(q))
    call = Call(call_id, frames.duration, prosody.attach(call_turns, pitch.track()), rel, False,
                facts.reliability)
    return emotion.annotate(call), facts
