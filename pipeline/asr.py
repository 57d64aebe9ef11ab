"""Transcription with faster-whisper, packed so Whisper hears speech and only speech.

Whisper pays for a full 30 s window per call, so transcribing each VAD turn on its own wastes most
of the encoder, and transcribing whole channels feeds it silence, where it drops sentences and
invents text ("字幕by…", "请不吝点赞订阅": PERF.md, DOMAIN.md §4.3). Instead each channel's turns are
packed, with a short gap between them, into windows of up to `chunk_s` (`plan`); windows fill as the
audio streams past and go through `BatchedInferencePipeline` a batch at a time, and every word is
mapped back to the turn it was spoken in. A word that lands in an inserted gap, where the VAD heard
nothing, is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from pipeline.config import AsrOptions
from pipeline.model import Seconds, Word
from pipeline.text import normalize
from pipeline.turns import Frames, Region

# Known Whisper inventions on silence/music in Chinese (DOMAIN.md §4.3), and the initial prompt
# echoed back on a short unclear turn ("以下是普通话的句子。" for a bare 喂): never call speech.
HALLUCINATIONS = re.compile(
    r"字幕|订阅|點贊|点赞|打赏|转发|amara|明镜|点点栏目|谢谢观看|感谢观看|感谢收看|谢谢收看|下期再见|请不吝"
    r"|普通话的句子|普通話的句子",
    re.I,
)
_SNAP_S = 0.2  # a word this close to a packed turn is that turn's (Whisper's word times wobble)
_RETRY_MIN_S = 1.0  # pieces shorter than this are not re-decoded when Whisper skipped them
_MAX_REPEAT = 3  # "好的好的好的好的…" loops beyond this many repeats are decoding loops, not speech

Key = tuple[int, int]  # (channel, region index)


@dataclass(frozen=True, slots=True)
class Heard:
    """What the ASR heard in one turn: its words and, with language ID on, the window's language."""

    words: tuple[Word, ...] = ()
    language: str = ""  # "zh" or "yue"; "" when language ID did not run
    language_prob: float = 0.0

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words)


def has_cantonese_token(model) -> bool:
    """Whether a loaded WhisperModel can tell Cantonese from Mandarin: only models whose vocabulary
    has a `<|yue|>` token (large-v3 and later). faster-whisper's `supported_languages` lists `yue`
    for every multilingual model, Whisper base included, so it cannot decide this."""
    tokenizer = getattr(model, "hf_tokenizer", None)
    return tokenizer is not None and tokenizer.token_to_id("<|yue|>") is not None


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
    """Up to `chunk_s` of one channel's speech, turns laid end to end `gap_s` apart."""

    channel: int
    pieces: tuple[Piece, ...]

    @property
    def length(self) -> Seconds:
        last = self.pieces[-1]
        return last.packed + last.audio_end - last.audio_start

    @property
    def ready_at(self) -> Seconds:
        """Call time by which all its audio has been decoded."""
        return self.pieces[-1].audio_end


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
    return sorted(windows, key=lambda w: (w.ready_at, w.channel))


class _Filling:
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
                self.audio[dst : dst + n] = block[self.window.channel, lo - b0 : lo - b0 + n]


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
        # Language ID costs an encoder pass per window, so it runs only where it can tell Cantonese
        # from Mandarin (base/small/medium call Cantonese "zh"; issue 12).
        self.identify = opts.detect_language == "on" or (
            opts.detect_language == "auto" and has_cantonese_token(self.model))

    def transcribe(self, blocks: Iterable[np.ndarray], windows: list[Window], sr: int) -> dict[Key, Heard]:
        """What was heard per (channel, region), reading the audio once, block by block.

        With language ID on, each turn carries the language of the window it was decoded in.
        """
        words: dict[Key, list[Word]] = {}
        languages: dict[Key, tuple[str, float]] = {}
        todo = list(windows)
        filling: list[_Filling] = []
        ready: list[_Filling] = []
        retry: list[tuple[_Filling, Piece]] = []
        pos = 0
        for block in blocks:
            end = pos + block.shape[1]
            filling += [_Filling(w, sr) for w in todo if w.pieces[0].audio_start * sr < end]
            todo = [w for w in todo if w.pieces[0].audio_start * sr >= end]
            for f in filling:
                f.take(block, pos, sr)
            pos += block.shape[1]
            ready += [f for f in filling if f.window.ready_at * sr <= pos]
            filling = [f for f in filling if f.window.ready_at * sr > pos]
            while len(ready) >= self.opts.batch_size:
                retry += self._decode(ready[: self.opts.batch_size], sr, words, languages)
                ready = ready[self.opts.batch_size :]
        ready += filling  # a truncated file: what decoded is all there is
        for i in range(0, len(ready), max(self.opts.batch_size, 1)):
            retry += self._decode(ready[i : i + self.opts.batch_size], sr, words, languages)
        # Turns Whisper skipped get one more pass, packed anew (see `_unheard`).
        again = _repack(retry, self.opts, sr)
        for i in range(0, len(again), max(self.opts.batch_size, 1)):
            self._decode(again[i : i + self.opts.batch_size], sr, words, languages)
        keys = set(words) | set(languages)
        return {k: Heard(clean(sorted(words.get(k, ()), key=lambda w: w.start)), *languages.get(k, ("", 0.0)))
                for k in keys}

    def _identify(self, f: _Filling, languages: dict[Key, tuple[str, float]]) -> None:
        _lang, _prob, all_probs = self.model.detect_language(audio=f.audio)
        label = _zh_or_yue(all_probs)
        for p in f.window.pieces:
            languages.setdefault(p.key, label)

    def _decode(self, batch: list[_Filling], sr: int, words: dict[Key, list[Word]],
                languages: dict[Key, tuple[str, float]]) -> list[tuple[_Filling, Piece]]:
        """Decode a batch of windows into `words`; return the pieces worth a second pass."""
        o = self.opts
        if self.identify:
            for f in batch:
                self._identify(f, languages)
        gap = np.zeros(int(o.gap_s * sr), dtype=np.float32)
        parts, clips, offsets, cursor = [], [], [], 0.0
        for f in batch:
            parts += [f.audio, gap]
            clips.append({"start": cursor, "end": cursor + len(f.audio) / sr})
            offsets.append(cursor)
            cursor += (len(f.audio) + len(gap)) / sr
        segments, _info = self.pipeline.transcribe(
            np.concatenate(parts),
            language=o.language or None,
            beam_size=o.beam_size,
            batch_size=len(batch),
            word_timestamps=True,
            initial_prompt=o.initial_prompt or None,
            clip_timestamps=clips,
        )
        heard: set[tuple[int, Seconds]] = set()
        for seg in segments:
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue  # Whisper's own "this was not speech" test
            i = max((j for j, off in enumerate(offsets) if off <= seg.start + 0.05), default=0)
            window, base = batch[i].window, offsets[i]
            for w in seg.words or ():
                text = normalize(w.word)
                piece = _place((w.start + w.end) / 2 - base, window)
                if not text or piece is None:
                    continue
                heard.add((i, piece.packed))
                shift = piece.audio_start - piece.packed - base
                s = min(max(w.start + shift, piece.start), piece.end)
                e = min(max(w.end + shift, s), piece.end)
                words.setdefault(piece.key, []).append(Word(text, round(s, 3), round(e, 3), round(w.probability, 3)))
        return [(f, p) for i, f in enumerate(batch) for p in _unheard(f.window, {q for j, q in heard if j == i})]


def _zh_or_yue(all_probs: list[tuple[str, float]]) -> tuple[str, float]:
    """Mandarin or Cantonese, and how sure, from Whisper's language probabilities."""
    p = dict(all_probs)
    zh, yue = p.get("zh", 0.0), p.get("yue", 0.0)
    if zh + yue <= 0:
        return "", 0.0
    return ("yue", round(yue / (zh + yue), 3)) if yue > zh else ("zh", round(zh / (zh + yue), 3))


def _unheard(window: Window, heard: set[Seconds]) -> list[Piece]:
    """Turns after the last one Whisper transcribed in a window, when it stopped early.

    Whisper sometimes ends its output after the first turns of a packed window and returns
    nothing for the rest (seen on quiet channels); those turns are decoded once more, on their own
    window. Short pieces (a cough, a click) are not worth it.
    """
    last = max((k for k, p in enumerate(window.pieces) if p.packed in heard), default=-1)
    return [p for p in window.pieces[last + 1 :] if p.audio_end - p.audio_start >= _RETRY_MIN_S]


def _repack(pieces: list[tuple[_Filling, Piece]], opts: AsrOptions, sr: int) -> list[_Filling]:
    """New windows from pieces whose audio is already in their old windows' buffers."""
    out: list[_Filling] = []
    group: list[tuple[_Filling, Piece]] = []

    def flush() -> None:
        placed, cursor = [], 0.0
        for _, p in group:
            placed.append(replace(p, packed=cursor))
            cursor += p.audio_end - p.audio_start + opts.gap_s
        f = _Filling(Window(group[0][1].key[0], tuple(placed)), sr)
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


def _place(t: Seconds, window: Window) -> Piece | None:
    best, dist = None, _SNAP_S
    for p in window.pieces:
        d = max(p.packed - t, t - (p.packed + p.audio_end - p.audio_start), 0.0)
        if d <= dist:
            best, dist = p, d
    return best


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
