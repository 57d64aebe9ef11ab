"""Transcription with faster-whisper, packed so Whisper hears speech and only speech.

Whisper pays for a full 30 s window per call, so transcribing each VAD turn on its own wastes most
of the encoder, and transcribing whole channels feeds it silence, where it drops sentences and
invents text ("字幕by…", "请不吝点赞订阅": PERF.md, DOMAIN.md §4.3). Instead each channel's turns are
packed, with a short gap between them, into windows of up to `chunk_s`; all windows of a call go
through `BatchedInferencePipeline` together, and every word is mapped back to the turn it was
spoken in. A word that lands in an inserted gap, where the VAD heard nothing, is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pipeline.config import AsrOptions
from pipeline.model import Seconds, Word
from pipeline.text import normalize
from pipeline.turns import Region

# Known Whisper inventions on silence/music in Chinese (DOMAIN.md §4.3): never real call speech.
HALLUCINATIONS = re.compile(
    r"字幕|订阅|點贊|点赞|打赏|转发|amara|明镜|点点栏目|谢谢观看|感谢观看|感谢收看|谢谢收看|下期再见|请不吝",
    re.I,
)
_SNAP_S = 0.2  # a word this close to a packed turn is that turn's (Whisper's word times wobble)
_MAX_REPEAT = 3  # "好的好的好的好的…" loops beyond this many repeats are decoding loops, not speech


@dataclass(frozen=True, slots=True)
class Piece:
    """One turn (or part of a long one) placed in the packed audio."""

    index: int  # which region (in the caller's list) it belongs to
    packed: Seconds  # where it starts in the packed audio
    start: Seconds  # where it starts in the call
    end: Seconds


@dataclass(frozen=True, slots=True)
class Window:
    start: Seconds  # in the packed audio
    end: Seconds
    pieces: tuple[Piece, ...]


def split_long(region: Region, samples: np.ndarray, sr: int, max_s: Seconds) -> list[Region]:
    """Cut regions longer than one window at their quietest 100 ms in the window's last third."""
    start, end = region
    out = []
    while end - start > max_s:
        lo, hi = int((start + max_s * 2 / 3) * sr), int((start + max_s) * sr)
        hop = sr // 10
        seg = samples[lo:hi]
        n = len(seg) // hop
        cut = start + max_s
        if n:
            energy = (seg[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
            cut = (lo + int(np.argmin(energy)) * hop + hop // 2) / sr
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


def pack(regions: list[tuple[int, Region]], max_s: Seconds, gap_s: Seconds, offset: Seconds) -> list[Window]:
    """Lay (index, region) pairs end to end, `gap_s` apart, in windows of at most `max_s`."""
    windows: list[Window] = []
    pieces: list[Piece] = []
    cursor = w_start = offset
    for index, (s, e) in regions:
        if pieces and cursor + (e - s) - w_start > max_s:
            windows.append(Window(w_start, cursor - gap_s, tuple(pieces)))
            pieces, w_start = [], cursor
        pieces.append(Piece(index, cursor, s, e))
        cursor += (e - s) + gap_s
    if pieces:
        windows.append(Window(w_start, cursor - gap_s, tuple(pieces)))
    return windows


def _place(t: Seconds, window: Window) -> Piece | None:
    best, dist = None, _SNAP_S
    for p in window.pieces:
        d = max(p.packed - t, t - (p.packed + p.end - p.start), 0.0)
        if d <= dist:
            best, dist = p, d
    return best


class Transcriber:
    """Holds one loaded Whisper model; `transcribe` is called once per call."""

    def __init__(self, opts: AsrOptions):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        path = opts.model_path()
        if not (path / "model.bin").is_file():
            raise FileNotFoundError(
                f"no Whisper model at {path}: run `make model` (or set asr.model in configs/run.yaml)"
            )
        self.opts = opts
        self.model = WhisperModel(
            str(path), device=opts.device, compute_type=opts.compute_type, cpu_threads=opts.cpu_threads
        )
        self.pipeline = BatchedInferencePipeline(self.model)

    def transcribe(
        self, channels: list[np.ndarray], regions: list[list[Region]], sr: int
    ) -> list[list[tuple[Word, ...]]]:
        """Words for every region of every channel: result[channel][region]."""
        o = self.opts
        windows: list[Window] = []
        flat: list[tuple[int, int]] = []  # piece index → (channel, region)
        audio_parts: list[np.ndarray] = []
        cursor = 0.0
        gap = np.zeros(int(o.gap_s * sr), dtype=np.float32)
        for ch, (samples, regs) in enumerate(zip(channels, regions)):
            items = []
            for r_i, reg in enumerate(regs):
                for part in split_long(reg, samples, sr, o.chunk_s):
                    items.append((len(flat), part))
                    flat.append((ch, r_i))
            ch_windows = pack(items, o.chunk_s, o.gap_s, cursor)
            for w in ch_windows:
                for p in w.pieces:
                    audio_parts += [samples[int(p.start * sr) : int(p.end * sr)], gap]
                    cursor = p.packed + (p.end - p.start) + o.gap_s
            windows += ch_windows
        result: list[list[list[Word]]] = [[[] for _ in regs] for regs in regions]
        if not windows:
            return [[()] * len(regs) for regs in regions]
        packed = np.concatenate(audio_parts)
        segments, _info = self.pipeline.transcribe(
            packed,
            language=o.language or None,
            beam_size=o.beam_size,
            batch_size=o.batch_size,
            word_timestamps=True,
            initial_prompt=o.initial_prompt or None,
            clip_timestamps=[{"start": w.start, "end": w.end} for w in windows],
        )
        for seg in segments:
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue  # Whisper's own "this was not speech" test
            window = min(windows, key=lambda w: max(w.start - seg.start, seg.start - w.end, 0.0))
            for w in seg.words or ():
                text = normalize(w.word)
                piece = _place((w.start + w.end) / 2, window)
                if not text or piece is None:
                    continue
                ch, r_i = flat[piece.index]
                shift = piece.start - piece.packed
                s = min(max(w.start + shift, piece.start), piece.end)
                e = min(max(w.end + shift, s), piece.end)
                result[ch][r_i].append(Word(text, round(s, 3), round(e, 3), round(w.probability, 3)))
        return [[clean(words) for words in ch_words] for ch_words in result]


_CLAUSE_END = "，。？！；：,.?!;:"


def _clause(text: str, a: int, b: int) -> tuple[int, int]:
    """Widen [a, b) to the clause around it: a hallucination takes its whole sentence with it."""
    while a > 0 and text[a - 1] not in _CLAUSE_END:
        a -= 1
    while b < len(text) and text[b - 1] not in _CLAUSE_END:
        b += 1
    return a, b


def clean(words: list[Word]) -> tuple[Word, ...]:
    """Drop known hallucinated phrases and collapse decoding loops."""
    text = "".join(w.text for w in words)
    bad = [_clause(text, *m.span()) for m in HALLUCINATIONS.finditer(text)]
    kept, pos = [], 0
    for w in words:
        a, b = pos, pos + len(w.text)
        pos = b
        if any(a < e and b > s for s, e in bad):
            continue
        if len(kept) >= _MAX_REPEAT and all(k.text == w.text for k in kept[-_MAX_REPEAT:]):
            continue
        kept.append(w)
    return tuple(kept)
