"""Phrase matching that survives ASR errors: exact text, toneless pinyin, near-homophones.

A lexicon entry (`Entry`, parsed by pipeline/lexicon.py) hits a normalised, keyed transcript
(`pipeline.text.keyed`) at the same characters, at the same toneless pinyin (Whisper swaps
homophones: 稍等 → 少等), or — for phrases of three or more syllables — at near-homophones
(`similar`: z/zh, n/l, en/eng, ao/ou …), where the entry's position (`at=`) and exceptions
(`except=`) allow. `Lexicon.find` keeps the best non-overlapping hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pipeline.text import Keyed, pinyin

# How much a hit is worth before the ASR's own word probabilities are taken into account.
# Tiers, best first: the text itself, the same toneless pinyin, near-homophones (`similar`).
CONFIDENCE = {"exact": 0.95, "pinyin": 0.75, "fuzzy": 0.55}
TIERS = tuple(CONFIDENCE)


@dataclass(frozen=True, slots=True)
class Entry:
    phrase: str
    key: str
    severity: str = "medium"
    exceptions: tuple[str, ...] = ()  # keys
    at: str = "any"
    pinyin: bool = True
    kind: str = ""
    where: str = ""  # "file:line", for messages
    fuzzy: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    start: int  # key indices [start, end)
    end: int
    via: str  # "exact" | "pinyin" | "fuzzy"

    @property
    def confidence(self) -> float:
        return CONFIDENCE[self.via]


# Rescoring 1,000 calls runs `find` ~90,000 times over ~40 entries each (bench/rescore.py), so the
# scan below is C-speed (str.find, tuple.index) and entries that cannot hit are skipped first.
_INDEXES: dict[int, tuple[tuple[Entry, ...], dict[str, list[int]], dict[str, list[int]],
                          list[tuple[str, str, str]]]] = {}


def could_hit(entries: tuple[Entry, ...], k: Keyed) -> list[Entry]:
    """The entries that may hit `k`, in lexicon order: an exact hit needs the phrase's first
    character in the text, a pinyin or fuzzy hit its first syllable (both tiers demand it)."""
    got = _INDEXES.get(id(entries))
    if got is None or got[0] is not entries:
        if len(_INDEXES) > 256:
            _INDEXES.clear()
        by_char: dict[str, list[int]] = {}
        by_syllable: dict[str, list[int]] = {}
        sounds = []  # per entry: its spaced pinyin, first and last syllables
        for i, e in enumerate(entries):
            by_char.setdefault(e.key[0], []).append(i)
            syllables = pinyin(e.key)
            if e.pinyin or e.fuzzy:
                by_syllable.setdefault(syllables[0], []).append(i)
            sounds.append((_spaced(e.key), syllables[0], syllables[-1]))
        got = _INDEXES[id(entries)] = (entries, by_char, by_syllable, sounds)
    _, by_char, by_syllable, sounds = got
    chars, syllables, heard = _heard(k.key)
    # set intersections in C: a text has ~30 distinct characters, a lexicon a few dozen first ones
    picked = {i for ch in by_char.keys() & chars for i in by_char[ch]}
    if by_syllable:
        picked.update(i for s in by_syllable.keys() & syllables for i in by_syllable[s])
    if not picked:
        return []
    out = []
    for i in sorted(picked):
        e = entries[i]
        spaced, first, last = sounds[i]
        # a fuzzy hit keeps the phrase's first and last syllables (`_fuzzy`)
        if (e.key in k.key or (e.pinyin and spaced in heard)
                or (e.fuzzy and len(e.key) >= 3 and first in syllables and last in syllables)):
            out.append(e)
    return out


@lru_cache(maxsize=8192)
def _heard(key: str) -> tuple[frozenset[str], frozenset[str], str]:
    """A text key's characters, syllables and spaced pinyin, for every lexicon asked about it."""
    return frozenset(key), frozenset(pinyin(key)), _spaced(key)


@lru_cache(maxsize=8192)
def _spaced(key: str) -> str:
    """" bu zhi dao ": the key's syllables, so `in` finds a phrase's pinyin at syllable bounds."""
    return f" {' '.join(pinyin(key))} "


def _occurrences(hay: tuple[str, ...] | str, needle: tuple[str, ...] | str) -> list[int]:
    n, last, out = len(needle), len(hay) - len(needle), []
    if not n or last < 0:
        return list(range(last + 1))
    i = hay.find(needle) if isinstance(hay, str) else _index(hay, needle[0], 0, last)
    while 0 <= i <= last:
        if hay[i : i + n] == needle:
            out.append(i)
        i = hay.find(needle, i + 1) if isinstance(hay, str) else _index(hay, needle[0], i + 1, last)
    return out


def _index(hay: tuple[str, ...], first: str, start: int, last: int) -> int:
    try:
        return hay.index(first, start, last + 1)
    except ValueError:
        return -1


def hits(e: Entry, k: Keyed) -> list[Hit]:
    n = len(e.key)
    found = [Hit(e, i, i + n, "exact") for i in _occurrences(k.key, e.key)]
    if e.pinyin:
        exact = {h.start for h in found}
        found += [
            Hit(e, i, i + n, "pinyin")
            for i in _occurrences(pinyin(k.key), pinyin(e.key))
            if i not in exact
        ]
    if e.fuzzy:
        seen = {h.start for h in found}
        found += [Hit(e, i, i + n, "fuzzy") for i in _fuzzy(k.key, e.key) if i not in seen]
    return [h for h in found if _placed(h, k) and not _excepted(h, k)]


# Near-homophones Whisper (and southern Mandarin) produce: flat/retroflex (z/zh, c/ch, s/sh),
# n/l, f/h; front/back nasals (en/eng, in/ing, an/ang); ao/ou (稍 shao ↔ 收 shou), o/uo.
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
             "x", "r", "z", "c", "s", "y", "w")
_INITIAL_CLASS = {"zh": "z", "ch": "c", "sh": "s", "l": "n", "h": "f"}
_FINAL_CLASS = {"ou": "ao", "uo": "o", "iou": "iu"}


@lru_cache(maxsize=4096)
def _sound(syllable: str) -> str:
    """A syllable's near-homophone class: similar syllables share it (shao, shou, sao → s|ao)."""
    if not syllable.isascii() or not syllable.isalpha():
        return syllable
    ini = next((i for i in _INITIALS if syllable.startswith(i) and len(syllable) > len(i)), "")
    final = syllable[len(ini):]
    final = final[:-1] if final.endswith("ng") and final != "ong" else final
    return f"{_INITIAL_CLASS.get(ini, ini)}|{_FINAL_CLASS.get(final, final)}"


def similar(a: str, b: str) -> bool:
    """Whether two toneless pinyin syllables are near-homophones (see `_sound`)."""
    return _sound(a) == _sound(b)


@lru_cache(maxsize=4096)
def _sounds(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    syllables = pinyin(key)
    return syllables, tuple(_sound(s) for s in syllables)


def _fuzzy(text_key: str, entry_key: str) -> list[int]:
    """Starts where the phrase's inner syllables are near-homophones of the text's, except (in
    phrases of four or more syllables) one that may be anything; at most max(1, n // 3) may
    differ at all. The first and last syllables must be the same: a loose end would let a
    neighbouring word pass for the phrase (可以帮 for 可以办, 这个我不知 for 这个我不管)."""
    text, text_sounds = _sounds(text_key)
    want, want_sounds = _sounds(entry_key)
    n = len(want)
    if n < 3:
        return []
    bad_ok, diff_ok = (1 if n >= 4 else 0), max(1, n // 3)
    out = []
    last = len(text) - n
    i = _index(text, want[0], 0, last) if last >= 0 else -1
    while i >= 0:
        nxt = _index(text, want[0], i + 1, last) if i < last else -1
        if text[i + n - 1] != want[-1]:
            i = nxt
            continue
        bad = diff = 0
        for a, b, sa, sb in zip(text[i : i + n], want, text_sounds[i : i + n], want_sounds):
            if a != b:
                diff += 1
                bad += sa != sb
                if diff > diff_ok or bad > bad_ok:
                    break
        else:
            out.append(i)  # with no difference at all it is the exact or pinyin tier's hit
        i = nxt
    return out


def _placed(h: Hit, k: Keyed) -> bool:
    at = h.entry.at
    starts = h.start in k.clause_starts
    ends = h.end in k.clause_ends
    return (
        at == "any"
        or (at == "start" and starts)
        or (at == "end" and ends)
        or (at == "alone" and starts and ends)
    )


def _excepted(h: Hit, k: Keyed) -> bool:
    """An exception covers the hit. A hit found by sound is excused by sound too: the homophone
    error that turned 不知道您 into 不致倒您 must not turn a polite hedge into a 忌语."""
    by_sound = h.via != "exact"
    hay = pinyin(k.key) if by_sound else k.key
    for ex in h.entry.exceptions:
        for i in _occurrences(hay, pinyin(ex) if by_sound else ex):
            if i <= h.start and i + len(ex) >= h.end:
                return True
    return False
