"""What the recording itself is like, for every call: the `calls` table's audio-quality columns.

Measured on the same streamed pass as the VAD (a few sums per block, bounded memory):
- clipping: share of samples at full scale (a limiter or an overdriven line distorts speech,
  and the ASR mishears it);
- speech level: how loud each party's speech is (dBFS over its voiced frames; telephone speech
  sits around −20 to −30 dBFS, under −40 the ASR starts dropping words);
- a silent channel: a party with no speech at all (a broken channel, or a call nobody answered);
- the same signal on both channels: a mono recording saved as stereo, which must be treated as
  one mixed channel (otherwise every turn is heard twice, once per party).

`reliability` turns this into a factor on every finding's confidence: findings from audio the
ASR is likely to mishear, or whose parties had to be told apart by voice, deserve less trust.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.turns import Frames

CLIP_LEVEL = 0.99  # |sample| at or above this is clipped (float samples in [-1, 1])
CLIP_SHARE = 0.001  # more than 0.1 % clipped samples is audible distortion
QUIET_DB = -40.0  # speech quieter than this is "very low level"
SILENT_DB = -55.0  # a channel whose loudest frames stay under this carries no speech
SAME_CORR = 0.98  # channels this correlated carry the same signal
# Confidence factors (heuristic, documented in README): each issue multiplies the trust in a
# finding; a mono call multiplies by its role confidence as well (pipeline/roles.py).
FACTORS = {"clipping": 0.85, "quiet": 0.85, "mixed": 0.9}


class Meter:
    """Accumulates per-block sums over the decoded (n_channels, n) blocks."""

    def __init__(self) -> None:
        self.n = 0
        self.clipped = 0
        self.xy = self.xx = self.yy = 0.0

    def add(self, block: np.ndarray) -> np.ndarray:
        self.n += block.size
        self.clipped += int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL))
        if block.shape[0] >= 2:
            x, y = block[0].astype(np.float64), block[1].astype(np.float64)
            self.xy += float(x @ y)
            self.xx += float(x @ x)
            self.yy += float(y @ y)
        return block

    def correlation(self) -> float:
        if self.xx <= 0 or self.yy <= 0:
            return 0.0
        return self.xy / np.sqrt(self.xx * self.yy)

    def same_signal(self) -> bool:
        """Both channels carry one signal (at most a gain apart): a mono call saved as stereo."""
        return self.correlation() >= SAME_CORR


@dataclass(frozen=True, slots=True)
class Quality:
    """Columns of the `calls` row (names as stored)."""

    clipping_share: float = 0.0
    speech_level_db: float | None = None  # the quieter party's speech level
    silent_channel: str = ""  # role of a channel without speech ("" if none)
    mixed: bool = False  # one mixed channel: a mono file, or stereo with the same signal twice
    audio_issues: str = ""  # comma-separated codes: clipping, quiet, silent, same_signal, mono


def speech_level(frames: Frames, channel: int) -> float | None:
    e, v = frames.energy_db[channel], frames.voiced[channel]
    e = e[v] if v.any() else e[:0]
    if not len(e):
        return None
    loud = e[e >= np.percentile(e, 50)]  # the louder half of voiced frames: speech, not breaths
    return round(float(10 * np.log10(np.mean(10 ** (loud / 10)))), 1)


def assess(meter: Meter, frames: Frames, roles: list[str], mono: bool, same: bool) -> Quality:
    """The quality record of one call from the meter and the VAD frames of its parties' channels."""
    clip = meter.clipped / meter.n if meter.n else 0.0
    levels = [speech_level(frames, ch) for ch in range(frames.channels)]
    silent = "" if (mono or same) else next(
        (roles[ch] for ch in range(frames.channels)
         if not len(frames.energy_db[ch]) or float(np.max(frames.energy_db[ch])) < SILENT_DB
         or levels[ch] is None), "")
    heard = [lv for lv in levels if lv is not None]
    level = min(heard) if heard else None
    issues = [code for code, bad in (
        ("mono", mono), ("same_signal", same), ("clipping", clip > CLIP_SHARE),
        ("quiet", level is not None and level < QUIET_DB), ("silent", bool(silent))) if bad]
    return Quality(round(clip, 5), level, silent, mono or same, ",".join(issues))


def reliability(q: Quality, role_confidence: float | None = None) -> float:
    """How far to trust a finding on this call, 0–1 (1 = clean stereo)."""
    issues = set(filter(None, q.audio_issues.split(",")))
    factor = 1.0
    for code, f in FACTORS.items():
        if code in issues or (code == "mixed" and q.mixed):
            factor *= f
    if role_confidence is not None:
        factor *= role_confidence
    return round(factor, 3)
