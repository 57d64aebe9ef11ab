"""Speech regions per channel with webrtcvad: the turns the ASR transcribes and the rules time.

Each channel of a stereo call carries one party, so a region of speech on a channel is that party's
turn. Frames webrtcvad calls speech are kept only if they are also loud relative to the channel's
own speech (`rel_level_db`): the other party's echo and line noise fool webrtcvad on real lines.
"""

from __future__ import annotations

import numpy as np

from pipeline.config import VadOptions
from pipeline.model import Seconds

Region = tuple[Seconds, Seconds]


def frame_energy_db(samples: np.ndarray, n: int) -> np.ndarray:
    count = len(samples) // n
    frames = samples[: count * n].reshape(count, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def speech_frames(samples: np.ndarray, sample_rate: int, opts: VadOptions,
                  others_db: np.ndarray | None = None) -> np.ndarray:
    """Boolean per frame of `opts.frame_ms`: is this channel's own party speaking?

    others_db: per-frame energy of the other channels; a frame much quieter than another channel
    at the same moment is that party's echo on this line (`crosstalk_db`), not speech.
    """
    import webrtcvad

    if sample_rate not in (8000, 16000, 32000, 48000):
        raise ValueError(f"webrtcvad needs 8, 16, 32 or 48 kHz, not {sample_rate}")
    n = sample_rate * opts.frame_ms // 1000
    count = len(samples) // n
    if count == 0:
        return np.zeros(0, dtype=bool)
    energy_db = frame_energy_db(samples, n)
    loud = energy_db >= np.percentile(energy_db, 99) - opts.rel_level_db
    if others_db is not None:
        loud &= energy_db >= others_db[:count] - opts.crosstalk_db
    pcm = (np.clip(samples[: count * n], -1.0, 1.0) * 32767).astype("<i2").reshape(count, n)
    vad = webrtcvad.Vad(opts.aggressiveness)
    # Every frame goes through webrtcvad: it adapts its noise model as it goes, so skipping frames
    # would change its decisions on the others.
    voiced = np.fromiter((vad.is_speech(f.tobytes(), sample_rate) for f in pcm), dtype=bool, count=count)
    return voiced & loud


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
            mid = (out[-1][1] - opts.pad_s + s + opts.pad_s) / 2
            out[-1] = (out[-1][0], mid)
            s = mid
        out.append((round(float(s), 3), round(float(e), 3)))
    return out


def detect(channels: list[np.ndarray], sample_rate: int, opts: VadOptions) -> list[list[Region]]:
    """Speech regions (start, end) in seconds, per channel, each channel's echo of the others removed."""
    n = sample_rate * opts.frame_ms // 1000
    energies = [frame_energy_db(c, n) for c in channels]
    out = []
    for i, samples in enumerate(channels):
        others = [e for j, e in enumerate(energies) if j != i]
        loudest = np.max(np.stack(others), axis=0) if others else None
        flags = speech_frames(samples, sample_rate, opts, loudest)
        out.append(regions_from_frames(flags, opts.frame_ms / 1000, len(samples) / sample_rate, opts))
    return out
