"""Packing: each channel's turns laid end to end into windows of up to `chunk_s` for Whisper.

Whisper pays for a full 30 s encoder window whatever it holds, so turns are packed (`plan`) a
short gap apart; a window's audio is filled as the recording streams past (`Filling`), and each
word Whisper returns is mapped back to the turn it was spoken in (`place`). Pure geometry: no model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from pipeline.config import AsrOptions
from pipeline.model import Seconds
from pipeline.turns import Frames, Region

Key = tuple[int, int]  # (channel, region index)
SNAP_S = 0.2  # a word this close to a packed turn is that turn's (Whisper's word times wobble)
RETRY_MIN_S = 1.0  # pieces shorter than this are not re-decoded when Whisper skipped them
# A turn this long with fewer characters a second than this was not heard (`unheard`): Mandarin
# runs 3–5 字/s, the slowest agent of the sample calls 2.4.
THIN_MIN_S, THIN_CHARS_PER_S = 3.0, 0.5
RETRY_PASSES = 3  # Whisper can stop early in a retry window too; each pass retries what is left
SHARE_HORIZON_S = 300.0  # windows shared only when complete this close together (`share`)

# Token budget per window: fast Mandarin runs ~5 characters a second, about as many tokens; a
# decoding loop ("好的好的…") would otherwise run on to Whisper's 448-token limit and hold up its batch.
_TOKENS_PER_S = 12.0
_TOKENS_MIN = 24
_TOKENS_MAX = 400  # Whisper's 448 less the prompt


@dataclass(frozen=True, slots=True)
class Piece:
    """One turn (or part of a long one) placed in a window."""

    key: Key
    packed: Seconds  # where its audio starts inside its window
    start: Seconds  # the turn (part) in the call: words are kept inside it
    end: Seconds
    audio_start: Seconds  # the audio sent: the turn plus a little context either side
    audio_end: Seconds


@dataclass(frozen=True, slots=True)
class Window:
    """Up to `chunk_s` of speech, turns laid end to end `gap_s` apart: one channel's, or the
    leftovers of both parties laid one block after the other (`share`)."""

    channel: int  # the first piece's; `Piece.key[0]` is each piece's own
    pieces: tuple[Piece, ...]

    @property
    def length(self) -> Seconds:
        last = self.pieces[-1]
        return last.packed + last.audio_end - last.audio_start

    @property
    def ready_at(self) -> Seconds:
        """Call time by which all its audio has been decoded."""
        return max(p.audio_end for p in self.pieces)


def split_long(region: Region, energy_db: np.ndarray | None, frame_s: Seconds, max_s: Seconds) -> list[Region]:
    """Cut regions longer than one window at their quietest frame in the window's last third."""
    start, end = region
    out = []
    while end - start > max_s:
        cut = start + max_s
        if energy_db is not None and len(energy_db):
            lo, hi = int((start + max_s * 2 / 3) / frame_s), int((start + max_s) / frame_s)
            seg = energy_db[lo:hi]
            if len(seg):
                cut = (lo + int(np.argmin(seg)) + 0.5) * frame_s
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


def plan(regions: list[list[Region]], frames: Frames | None, opts: AsrOptions) -> list[Window]:
    """Pack every channel's regions into windows, ordered by when their audio is complete.

    Each turn's audio is sent with up to `context_s` of the pause around it (never reaching into a
    neighbouring turn), so Whisper hears whole first and last syllables; its words are still kept
    inside the turn.
    """
    windows: list[Window] = []
    for ch, regs in enumerate(regions):
        energy = frames.energy_db[ch] if frames is not None else None
        frame_s = frames.frame_s if frames is not None else 0.03
        pieces: list[Piece] = []
        cursor = 0.0
        for r_i, (rs, re_) in enumerate(regs):
            lo = max(rs - opts.context_s, regs[r_i - 1][1] if r_i else 0.0)
            hi = min(re_ + opts.context_s, regs[r_i + 1][0] if r_i + 1 < len(regs) else re_ + opts.context_s)
            parts = split_long((rs, re_), energy, frame_s, opts.chunk_s - 2 * opts.context_s)
            for j, (s, e) in enumerate(parts):
                a0 = lo if j == 0 else s
                a1 = hi if j == len(parts) - 1 else e
                if pieces and cursor + (a1 - a0) > opts.chunk_s:
                    windows.append(Window(ch, tuple(pieces)))
                    pieces, cursor = [], 0.0
                pieces.append(Piece((ch, r_i), cursor, s, e, a0, a1))
                cursor += (a1 - a0) + opts.gap_s
        if pieces:
            windows.append(Window(ch, tuple(pieces)))
    if opts.share_windows:
        windows = share(windows, opts)
    return sorted(windows, key=lambda w: (w.ready_at, w.channel))


def share(windows: list[Window], opts: AsrOptions) -> list[Window]:
    """Lay part-filled windows of different channels into one, each channel's turns kept together.

    Each channel's last window, and any closed early because the next turn did not fit, is part
    empty, yet costs a full encoder pass: on the sample calls windows were 68 % full. Two such
    windows of one call whose speech fits one window are decoded as one: one party's block, a gap,
    the other's (a single change of voice, so a word Whisper misplaces in time can cross parties only
    there). Only windows complete within `SHARE_HORIZON_S` of each other are joined, so a long
    recording still streams in bounded memory.
    """
    out: list[Window] = []
    for w in sorted(windows, key=lambda w: -w.length):
        fits = [i for i, o in enumerate(out)
                if o.length + opts.gap_s + w.length <= opts.chunk_s and abs(o.ready_at - w.ready_at) <= SHARE_HORIZON_S
                and w.channel not in {p.key[0] for p in o.pieces}]
        best = max(fits, key=lambda i: out[i].length, default=None)  # the fullest that fits
        if best is None:
            out.append(w)
            continue
        o = out[best]
        first, second = (o, w) if o.pieces[0].audio_start <= w.pieces[0].audio_start else (w, o)
        shift = first.length + opts.gap_s
        out[best] = Window(first.channel, first.pieces + tuple(replace(p, packed=p.packed + shift) for p in second.pieces))
    return out


class Filling:
    """A window's audio buffer, filled as blocks stream past."""

    def __init__(self, window: Window, sr: int):
        self.window = window
        self.audio = np.zeros(int(window.length * sr) + 1, dtype=np.float32)

    def take(self, block: np.ndarray, b0: int, sr: int) -> None:
        b1 = b0 + block.shape[1]
        for p in self.window.pieces:
            s, e = int(p.audio_start * sr), int(p.audio_end * sr)
            lo, hi = max(s, b0), min(e, b1)
            if lo < hi:
                dst = int(p.packed * sr) + (lo - s)
                n = min(hi - lo, len(self.audio) - dst)
                self.audio[dst : dst + n] = block[p.key[0], lo - b0 : lo - b0 + n]


def token_budget(windows: Iterable[Window]) -> int:
    """Most tokens any window of a batch may need: proportional to its speech, not its padding."""
    speech = max((sum(p.end - p.start for p in w.pieces) for w in windows), default=0.0)
    return int(min(_TOKENS_MAX, _TOKENS_MIN + _TOKENS_PER_S * speech))


def unheard(window: Window, chars: dict[Seconds, int]) -> list[Piece]:
    """Turns of a window Whisper did not hear, worth another pass on a window of their own.

    `chars`: the characters placed in each piece, by its `packed` offset. Whisper sometimes stops
    partway through a packed window, or skips a quiet turn between two it transcribed; on a
    held-out call that lost 5 of an agent's 15 turns, the greeting among them (issue 15). A long
    turn holding a word or two only is skipped too: the stray end of a neighbour's segment
    (real speech, bench/realspeech.py: a 7.8 s turn came back as "吗？", the end of the turn before,
    and was never retried). Short pieces (a cough, a click) are not worth the pass.
    """
    out = []
    for p in window.pieces:
        n, speech = chars.get(p.packed, 0), p.end - p.start
        if p.audio_end - p.audio_start >= RETRY_MIN_S and (
                n == 0 or (speech >= THIN_MIN_S and n < THIN_CHARS_PER_S * speech)):
            out.append(p)
    return out


def repack(pieces: list[tuple[Filling, Piece]], opts: AsrOptions, sr: int) -> list[Filling]:
    """New windows from pieces whose audio is already in their old windows' buffers."""
    out: list[Filling] = []
    group: list[tuple[Filling, Piece]] = []

    def flush() -> None:
        placed, cursor = [], 0.0
        for _, p in group:
            placed.append(replace(p, packed=cursor))
            cursor += p.audio_end - p.audio_start + opts.gap_s
        f = Filling(Window(group[0][1].key[0], tuple(placed)), sr)
        for (old, p), q in zip(group, placed):
            a, n = int(p.packed * sr), int((p.audio_end - p.audio_start) * sr)
            chunk = old.audio[a : a + n]
            f.audio[int(q.packed * sr) : int(q.packed * sr) + len(chunk)] = chunk
        out.append(f)

    length = 0.0
    for item in sorted(pieces, key=lambda fp: (fp[1].key[0], fp[1].audio_start)):
        d = item[1].audio_end - item[1].audio_start
        if group and (length + d > opts.chunk_s or item[1].key[0] != group[0][1].key[0]):
            flush()
            group, length = [], 0.0
        group.append(item)
        length += d + opts.gap_s
    if group:
        flush()
    return out


def place(t: Seconds, window: Window) -> Piece | None:
    best, dist = None, SNAP_S
    for p in window.pieces:
        d = max(p.packed - t, t - (p.packed + p.audio_end - p.audio_start), 0.0)
        if d <= dist:
            best, dist = p, d
    return best
