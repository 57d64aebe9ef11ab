"""Text normalisation and the indexes lexicon matching runs on.

Whisper writes Chinese in Traditional, Simplified or a mix (DOMAIN.md §4.1), so every transcript and
every lexicon line goes through the same `normalize` before anything is compared. Matching runs on a
*key*: the text with punctuation and spaces removed, each key character remembering where it came
from, so a hit can be quoted and timed against the ASR words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Half-width punctuation Whisper emits between Han characters, shown to inspectors full-width.
_TO_FULL = str.maketrans({",": "，", "?": "？", "!": "！", ":": "：", ";": "；"})


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # opencc-python-reimplemented: pure Python, no native build

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def normalize(text: str) -> str:
    """NFKC, Traditional → Simplified, Chinese punctuation, no spaces between Han characters."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = to_simplified(text).translate(_TO_FULL)
    text = re.sub(r"(?<=[\u3400-\u9fff，。？！：；])\s+|\s+(?=[\u3400-\u9fff，。？！：；])", "", text)
    return re.sub(r"(?<=[\u3400-\u9fff])\.(?!\d)", "。", text)


def han_count(text: str) -> int:
    """Spoken Chinese characters: the unit of speech rate (字/分钟)."""
    return len(_HAN.findall(text))


def is_han(ch: str) -> bool:
    return bool(_HAN.match(ch))


# Characters Whisper confuses so often that matching treats them as one (DOMAIN.md §4.4: the
# language model prefers 你 to 您, so "麻烦您稍等" comes back as "麻烦你稍等"). Keys only: quotes
# and the politeness checks still see the text as transcribed.
_FOLD = str.maketrans({"您": "你"})


def _is_key_char(ch: str) -> bool:
    return ch.isalnum()


@dataclass(frozen=True, slots=True)
class Keyed:
    """A text reduced to its matchable characters, with a map back to the text."""

    text: str
    key: str  # letters, digits and Han characters only, lower case, confusable characters folded
    pos: tuple[int, ...]  # pos[i] = index in `text` of key[i]
    clause_starts: frozenset[int]  # key indices that begin a clause (after punctuation)
    clause_ends: frozenset[int]  # key indices (exclusive ends) where a clause ends

    def source_span(self, i: int, j: int) -> tuple[int, int]:
        """Text indices [a, b) covering key[i:j]."""
        return self.pos[i], self.pos[j - 1] + 1


def keyed(text: str) -> Keyed:
    key, pos, starts, ends = [], [], set(), set()
    boundary = True
    for idx, ch in enumerate(text):
        if _is_key_char(ch):
            if boundary:
                starts.add(len(key))
                if key:
                    ends.add(len(key))
            key.append(ch.lower().translate(_FOLD))
            pos.append(idx)
            boundary = False
        elif not ch.isspace() or not key:
            boundary = True
    ends.add(len(key))
    return Keyed(text, "".join(key), tuple(pos), frozenset(starts), frozenset(ends))


@lru_cache(maxsize=8192)
def key_of(text: str) -> Keyed:
    """`keyed(text)`, memoised: the rules key every turn's text several times over."""
    return keyed(text)


@lru_cache(maxsize=4096)
def pinyin(key: str, tones: bool = False) -> tuple[str, ...]:
    """One syllable per key character (non-Han characters stand for themselves).

    Phrase-aware (`lazy_pinyin`), so heteronyms are read in context.
    """
    from pypinyin import Style

    style = Style.TONE3 if tones else Style.NORMAL
    out = _engine().lazy_pinyin(key, style=style, errors=_as_is)
    return tuple(out) if len(out) == len(key) else tuple(_engine().lazy_pinyin(c, style=style)[0] for c in key)


def _as_is(s: str) -> list[str]:
    return list(s)  # a character without pinyin stands for itself


@lru_cache(maxsize=1)
def _engine():
    """What `pypinyin.lazy_pinyin` runs (default options), with each word's conversion memoised:
    transcripts repeat the same words (您好, 请问, 稍等) all day, and converting a word is most of
    the cost of a rescore (bench/rescore.py). Segmentation still runs on every text."""
    from pypinyin.converter import UltimateConverter
    from pypinyin.core import Pinyin

    class Memo(UltimateConverter):
        def __init__(self) -> None:
            super().__init__()
            self.memo: dict[tuple, tuple[tuple[str, ...], ...]] = {}

        def convert(self, words, style, heteronym, errors, strict, **kwargs):
            key = (words, style, heteronym, strict, errors)
            got = self.memo.get(key)
            if got is None:
                if len(self.memo) > 200_000:
                    self.memo.clear()
                got = tuple(tuple(p) for p in super().convert(words, style, heteronym, errors, strict, **kwargs))
                self.memo[key] = got
            return [list(p) for p in got]  # callers may change the lists they get

    return Pinyin(Memo())
