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

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pipeline import langid
from pipeline.config import AsrOptions
from pipeline.ct2 import OneByOne, Tap
from pipeline.hallucinations import HALLUCINATIONS, clean
from pipeline.model import Word
from pipeline.text import normalize
from pipeline.windows import (RETRY_PASSES, Filling, Key, Piece, Window, place, plan, repack, token_budget,
                              unheard)

__all__ = ["HALLUCINATIONS", "Heard", "Transcriber", "clean", "has_cantonese_token", "plan"]

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
        # Cantonese or Mandarin per turn: Whisper's own language ID where its vocabulary has <|yue|>
        # (an extra encoder pass per window); otherwise our probe on the encoder states the
        # transcription computes anyway (langid.py; base/small/medium call Cantonese "zh").
        wanted, whisper_lid = opts.detect_language != "off", has_cantonese_token(self.model)
        self.identify = wanted and whisper_lid
        self.probe = langid.Probe.load() if wanted and not whisper_lid else None
        self.pooled: dict[Key, tuple[np.ndarray, float]] = {}  # the last call's, per turn (tools/fit_langid.py)
        if opts.device == "cpu":  # batched encoding is slower on a CPU (ct2.py)
            self.model.model = OneByOne(self.model.model, keep_encoded=self.probe is not None)
        elif self.probe is not None:
            self.model.model = Tap(self.model.model)
        self.pipeline = BatchedInferencePipeline(self.model)

    def transcribe(self, blocks: Iterable[np.ndarray], windows: list[Window], sr: int) -> dict[Key, Heard]:
        """What was heard per (channel, region), reading the audio once, block by block.

        With language ID on, each turn carries the language of the window it was decoded in.
        numpy's BLAS runs single-threaded meanwhile: the log-mel features are a matrix product, and
        OpenBLAS's result (and so a few transcribed words) changed with its thread count, that is
        with the machine's cores. CTranslate2's own threads are not affected.
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._transcribe(blocks, windows, sr)

    def _transcribe(self, blocks: Iterable[np.ndarray], windows: list[Window], sr: int) -> dict[Key, Heard]:
        words: dict[Key, list[Word]] = {}
        languages: dict[Key, tuple[str, float]] = {}
        self._pool = langid.Pool()
        todo = list(windows)
        filling: list[Filling] = []
        ready: list[Filling] = []
        retry: list[tuple[Filling, Piece]] = []
        pos = 0
        for block in blocks:
            end = pos + block.shape[1]
            filling += [Filling(w, sr) for w in todo if w.pieces[0].audio_start * sr < end]
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
        # Turns Whisper skipped get more passes, packed anew (`windows.unheard`), while passes
        # recover some: in a packed window it may stop early again, but on fewer turns each time.
        for _ in range(RETRY_PASSES):
            if not retry:
                break
            for _f, p in retry:  # a skipped turn's stray words were a neighbour's
                words[p.key] = [w for w in words.get(p.key, ()) if not p.start <= w.start <= p.end]
            again, left = repack(retry, self.opts, sr), []
            for i in range(0, len(again), max(self.opts.batch_size, 1)):
                left += self._decode(again[i : i + self.opts.batch_size], sr, words, languages)
            if len(left) >= len(retry):
                break
            retry = left
        if self.probe is not None:
            self.pooled = self._pool.means()
            languages.update({k: self.probe.label(x, secs) for k, (x, secs) in self.pooled.items()})
        keys = set(words) | set(languages)
        return {k: Heard(clean(sorted(words.get(k, ()), key=lambda w: w.start)), *languages.get(k, ("", 0.0)))
                for k in keys}

    def _identify(self, f: Filling, languages: dict[Key, tuple[str, float]]) -> None:
        _lang, _prob, all_probs = self.model.detect_language(audio=f.audio)
        label = _zh_or_yue(all_probs)
        for p in f.window.pieces:
            languages.setdefault(p.key, label)

    def _decode(self, batch: list[Filling], sr: int, words: dict[Key, list[Word]],
                languages: dict[Key, tuple[str, float]]) -> list[tuple[Filling, Piece]]:
        """Decode a batch of windows into `words`; return the pieces worth a second pass.

        A window whose text looks like a decoding loop or that Whisper was unsure of is decoded
        once more with a beam (`_doubtful`), as plain faster-whisper's temperature fallback does
        per window; the beam is deterministic, so a call's transcript stays the same run to run.
        """
        if self.identify:
            for f in batch:
                self._identify(f, languages)
        got = self._words(batch, sr, self.opts.beam_size)
        doubtful = [i for i, (_, bad) in enumerate(got) if bad]
        if doubtful and self.opts.fallback_beam > self.opts.beam_size:
            again = self._words([batch[i] for i in doubtful], sr, self.opts.fallback_beam)
            for i, (found, _) in zip(doubtful, again):
                got[i] = (found, False)
        for found, _ in got:
            for piece, word in found:
                words.setdefault(piece.key, []).append(word)
        return [(f, p) for f, (found, _) in zip(batch, got) for p in unheard(f.window, _chars(found))]

    def _words(self, batch: list[Filling], sr: int, beam: int) -> list[tuple[list[tuple[Piece, Word]], bool]]:
        """Each window's words, placed in its turns, and whether its decoding looks doubtful."""
        o = self.opts
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
            beam_size=beam,
            batch_size=len(batch),
            word_timestamps=True,
            initial_prompt=o.initial_prompt or None,
            clip_timestamps=clips,
            max_new_tokens=token_budget(f.window for f in batch),
        )
        out: list[tuple[list[tuple[Piece, Word]], bool]] = [([], False) for _ in batch]
        for seg in segments:
            i = max((j for j, off in enumerate(offsets) if off <= seg.start + 0.05), default=0)
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue  # Whisper's own "this was not speech" test
            window, base = batch[i].window, offsets[i]
            found = out[i][0]
            for w in seg.words or ():
                text = normalize(w.word)
                piece = place(_anchor(w.start, w.end) - base, window)
                if not text or piece is None:
                    continue
                shift = piece.audio_start - piece.packed - base
                s = min(max(w.start + shift, piece.start), piece.end)
                e = min(max(w.end + shift, s), piece.end)
                found.append((piece, Word(text, round(s, 3), round(e, 3), round(w.probability, 3))))
            out[i] = (found, out[i][1] or _doubtful(seg.compression_ratio, seg.avg_logprob))
        encoded = getattr(self.model.model, "encoded", None)
        if self.probe is not None and encoded is not None and len(encoded) == len(batch):
            for f, states in zip(batch, encoded):
                for p in f.window.pieces:
                    self._pool.add(p, states)
        return out


def _chars(found: list[tuple[Piece, Word]]) -> dict[float, int]:
    """Characters placed in each piece of a window, by the piece's offset in it."""
    out: dict[float, int] = {}
    for piece, word in found:
        out[piece.packed] = out.get(piece.packed, 0) + len(word.text)
    return out


def _anchor(start: float, end: float) -> float:
    """The time that decides a word's turn. Whisper's alignment pulls the start of the first word
    after a pause back into the pause (c08: 不用 aligned 5.08–6.48 s over a 0.4 s gap between two
    turns, while it was said from 6.2 s), so a long word is placed by its end, not its middle."""
    return max((start + end) / 2, end - 0.15)


def _doubtful(compression_ratio: float, avg_logprob: float) -> bool:
    """faster-whisper's own fallback thresholds (`compression_ratio_threshold`, `log_prob_threshold`):
    text that compresses this well is a loop; this low a log-probability, a guess."""
    return compression_ratio > 2.4 or avg_logprob < -1.0


def _zh_or_yue(all_probs: list[tuple[str, float]]) -> tuple[str, float]:
    """Mandarin or Cantonese, and how sure, from Whisper's language probabilities."""
    p = dict(all_probs)
    zh, yue = p.get("zh", 0.0), p.get("yue", 0.0)
    if zh + yue <= 0:
        return "", 0.0
    return ("yue", round(yue / (zh + yue), 3)) if yue > zh else ("zh", round(zh / (zh + yue), 3))
