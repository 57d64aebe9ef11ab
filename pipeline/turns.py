"""Speech regions per channel with webrtcvad: the turns the ASR transcribes and the rules time.

Each channel of a stereo call carries one party, so a region of speech on a channel is that party's
turn. Frames webrtcvad calls speech are kept only if they are also loud relative to the channel's
own speech (`rel_level_db`) and not far quieter than another channel at that moment
(`crosstalk_db`): the other party's echo and line noise fool webrtcvad on real lines.

`scan` reads the audio block by block (any length in bounded memory) and keeps only a few numbers
per 30 ms frame; `regions` turns those into speech regions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pipeline.config import VadOptions
from pipeline.model import Seconds

Region = tuple[Seconds, Seconds]


@dataclass(frozen=True)
class Frames:
    """What the VAD keeps of a call: per channel, per frame, energy (dBFS) and webrtcvad's verdict."""

    energy_db: tuple[np.ndarray, ...]
    voiced: tuple[np.ndarray, ...]
    frame_s: Seconds
    duration: Seconds  # of the decoded audio

    @property
    def channels(self) -> int:
        return len(self.energy_db)


def frame_energy_db(samples: np.ndarray, n: int) -> np.ndarray:
    count = len(samples) // n
    frames = samples[: count * n].reshape(count, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def scan(blocks: Iterable[np.ndarray], sample_rate: int, opts: VadOptions) -> Frames:
    """One pass over (n_channels, n) blocks: frame energies and webrtcvad decisions per channel."""
    import webrtcvad

    if sample_rate not in (8000, 16000, 32000, 48000):
        raise ValueError(f"webrtcvad needs 8, 16, 32 or 48 kHz, not {sample_rate}")
    n = sample_rate * opts.frame_ms // 1000
    energies: list[list[np.ndarray]] = []
    voiced: list[list[np.ndarray]] = []
    vads: list = []
    rest: np.ndarray | None = None
    total = 0
    for block in blocks:
        total += block.shape[1]
        if not vads:
            vads = [webrtcvad.Vad(opts.aggressiveness) for _ in range(block.shape[0])]
            energies = [[] for _ in vads]
            voiced = [[] for _ in vads]
        if rest is not None and rest.shape[1]:
            block = np.concatenate([rest, block], axis=1)
        count = block.shape[1] // n
        for ch, vad in enumerate(vads):
            samples = block[ch, : count * n]
            energies[ch].append(frame_energy_db(samples, n))
            pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").reshape(count, n)
            # Every frame goes through webrtcvad: it adapts its noise model as it goes.
            voiced[ch].append(np.fromiter((vad.is_speech(f.tobytes(), sample_rate) for f in pcm),
                                          dtype=bool, count=count))
        rest = block[:, count * n :]
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    return Frames(tuple(cat(e) for e in energies), tuple(cat(v).astype(bool) for v in voiced),
                  opts.frame_ms / 1000, total / sample_rate)


def speech_flags(frames: Frames, opts: VadOptions) -> list[np.ndarray]:
    """Per channel: webrtcvad's speech, gated by the channel's own level and by cross-talk."""
    out = []
    for ch in range(frames.channels):
        e, v = frames.energy_db[ch], frames.voiced[ch]
        if not len(e):
            out.append(v)
            continue
        keep = v & (e >= np.percentile(e, 99) - opts.rel_level_db)
        others = [frames.energy_db[j] for j in range(frames.channels) if j != ch]
        if others:
            keep &= e >= np.max(np.stack(others), axis=0) - opts.crosstalk_db
        out.append(keep)
    return out


def regions_from_frames(flags: np.ndarray, frame_s: Seconds, duration: Seconds, opts: VadOptions) -> list[Region]:
    """Runs of speech frames → regions: close short pauses, drop short bursts, pad the edges."""
    if not flags.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    runs = [(s * frame_s, e * frame_s) for s, e in zip(edges[::2], edges[1::2])]
    merged: list[list[float]] = []
    for s, e in runs:
        if merged and s - merged[-1][1] < opts.min_pause_s:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    out: list[Region] = []
    for s, e in merged:
        if e - s < opts.min_speech_s:
            continue
        s, e = max(0.0, s - opts.pad_s), min(duration, e + opts.pad_s)
        if out and s < out[-1][1]:  # padding met the previous region: split the pause evenly
            mid = (out[-1][1] + s) / 2
            out[-1] = (out[-1][0], round(mid, 3))
            s = mid
        out.append((round(float(s), 3), round(float(e), 3)))
    return out


def regions(frames: Frames, opts: VadOptions) -> list[list[Region]]:
    return [regions_from_frames(f, frames.frame_s, frames.duration, opts) for f in speech_flags(frames, opts)]


def detect(channels: list[np.ndarray], sample_rate: int, opts: VadOptions) -> list[list[Region]]:
    """Speech regions (start, end) in seconds, per channel, for audio already in memory."""
    return regions(scan([np.stack(channels)], sample_rate, opts), opts)


def level_db(frames: Frames, channel: int, start: Seconds, end: Seconds) -> float:
    """Loudness of a turn in dBFS: mean power of its voiced frames (within 20 dB of its loudest).

    Pauses inside the turn are left out, so a turn with long pauses is not "quieter".
    """
    e = frames.energy_db[channel][int(start / frames.frame_s) : max(int(end / frames.frame_s), 1)]
    if not len(e):
        return -120.0
    voiced = e[e >= e.max() - 20]
    return round(float(10 * np.log10(np.mean(10 ** (voiced / 10)))), 1)
