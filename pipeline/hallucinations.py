"""Whisper's inventions taken out of a transcript: known phrases said over silence, decoding loops.

Whisper fills silence and music with the subtitles it was trained on ("字幕by…", "请不吝点赞订阅")
and loops on noisy or digit-heavy audio; neither may reach a rule as something a party said.
"""

from __future__ import annotations

import re

from pipeline.model import Word

__all__ = ["HALLUCINATIONS", "clean"]

# Known Whisper inventions on silence/music in Chinese (DOMAIN.md §4.3), and the initial prompt
# echoed back on a short unclear turn ("以下是普通话的句子。" for a bare 喂): never call speech.
HALLUCINATIONS = re.compile(
    r"字幕|订阅|點贊|点赞|打赏|转发|amara|明镜|点点栏目|谢谢观看|感谢观看|感谢收看|谢谢收看|下期再见|请不吝"
    r"|普通话的句子|普通話的句子",
    re.I,
)
_MAX_REPEAT = 3  # "好的好的好的好的…" loops beyond this many repeats are decoding loops, not speech


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
        if not any(a < e and b > s for s, e in bad):
            kept.append(w)
    return tuple(_unloop(kept))


def _unloop(words: list[Word], longest: int = 6) -> list[Word]:
    """Cut decoding loops: a run of 1–`longest` words said more than `_MAX_REPEAT` times in a row
    keeps its first `_MAX_REPEAT` repeats. Whisper loops on noisy or digit-heavy audio
    ("真认真认真认…", a card number read back as "-1-*-*-*…"), which reads as shouting, a 19-digit
    read-out or a turn that never ends its question."""
    out, i = list(words), 0
    while i < len(out):
        for n in range(1, longest + 1):
            unit = [w.text for w in out[i : i + n]]
            if len(unit) < n:
                break
            j, reps = i + n, 1
            while [w.text for w in out[j : j + n]] == unit:
                j, reps = j + n, reps + 1
            if reps > _MAX_REPEAT:
                del out[i + _MAX_REPEAT * n : j]
                break
        i += 1
    return out
