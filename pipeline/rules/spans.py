"""Shared helpers for rules: where in time a text hit is, and how sure we are of it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.lexicon import Hit, Lexicon
from pipeline.model import Call, Evidence, Role, Seconds, Turn
from pipeline.rules.words import word_bounds
from pipeline.text import Keyed, key_of, pinyin


def text_span(turn: Turn, a: int, b: int) -> tuple[Seconds, Seconds, float]:
    """Time span and mean ASR word probability of turn.text[a:b].

    Falls back to a proportional position in the turn when the words don't spell the text.
    """
    offsets, pos = [], 0
    for w in turn.words:
        offsets.append((pos, pos + len(w.text), w))
        pos += len(w.text)
    if turn.words and pos == len(turn.text):
        covered = [w for s, e, w in offsets if s < b and e > a]
        if covered:
            prob = sum(w.probability for w in covered) / len(covered)
            return covered[0].start, covered[-1].end, prob
    n = max(len(turn.text), 1)
    return turn.start + turn.duration * a / n, turn.start + turn.duration * b / n, 1.0


def hit_evidence(turn: Turn, hit: Hit, message: str) -> Evidence:
    k = key_of(turn.text)
    a, b = k.source_span(hit.start, hit.end)
    start, end, prob = text_span(turn, a, b)
    return Evidence(
        start,
        end,
        message,
        quote=turn.text,
        confidence=round(hit.confidence * prob, 3),
        role=turn.role,
        severity=hit.entry.severity,
        entry=hit.entry.phrase,
    )


def find(lexicon: Lexicon, turn: Turn) -> list[Hit]:
    return lexicon.find(key_of(turn.text))


def hits(lexicon: Lexicon, turns: tuple[Turn, ...]) -> Iterator[tuple[Turn, Hit]]:
    for t in turns:
        for h in find(lexicon, t):
            yield t, h


def is_empty(turn: Turn) -> bool:
    """The VAD heard speech, the ASR wrote nothing (or only punctuation)."""
    return not key_of(turn.text).key


def lost(turn: Turn, min_s: Seconds = 0.6) -> bool:
    """An empty turn long enough to have held words: what was said there is unknown, so a rule
    must not conclude that something (a greeting, a closing, an apology) was *not* said."""
    return is_empty(turn) and turn.duration >= min_s


def heard(turns: tuple[Turn, ...]) -> tuple[Turn, ...]:
    """The turns the ASR wrote something for."""
    return tuple(t for t in turns if not is_empty(t))


def turn_confidence(turn: Turn) -> float:
    if not turn.words:
        return 1.0
    return sum(w.probability for w in turn.words) / len(turn.words)


def speech_gaps(turns: tuple[Turn, ...]) -> Iterator[tuple[Turn, Turn | None, Seconds, Seconds]]:
    """Stretches where nobody speaks: (turn that ended last, next turn, silence start, silence end).

    Overlapping turns are merged, so a gap is mutual silence, whoever spoke around it.
    """
    last: Turn | None = None
    for t in turns:
        if last is not None and t.start > last.end:
            yield last, t, last.end, t.start
        if last is None or t.end > last.end:
            last = t


def last_agent_turn_before(turns: tuple[Turn, ...], time: Seconds) -> Turn | None:
    before = [t for t in turns if t.role is Role.AGENT and t.start < time]
    return before[-1] if before else None


def speech_minutes(turns: tuple[Turn, ...]) -> float:
    """Minutes of speech in `turns` (VAD turn durations: holds and silences are not counted)."""
    return sum(t.duration for t in turns) / 60.0


def extent(turns: tuple[Turn, ...]) -> tuple[Seconds, Seconds]:
    """[first start, last end] of non-empty `turns`: the span of a whole-call finding."""
    return min(t.start for t in turns), max(t.end for t in turns)


def placed(k: Keyed, start: int, end: int, at: str) -> bool:
    """Whether key[start:end] stands where `at` (any, start, end, alone) says, within a clause."""
    starts, ends = start in k.clause_starts, end in k.clause_ends
    return at == "any" or (at == "start" and starts) or (at == "end" and ends) or (
        at == "alone" and starts and ends
    )


def standalone(k: Keyed, start: int, end: int) -> bool:
    """Whether key[start:end] is one or more whole words of `k.text` (see `word_bounds`)."""
    a, b = k.source_span(start, end)
    bounds = word_bounds(k.text)
    return a in bounds and b in bounds


_QUESTION_WORDS = ("什么", "怎么", "为什么", "哪", "谁", "多少", "几", "是不是", "能不能", "可不可以",
                   "会不会", "要不要", "有没有")


def is_question(text: str) -> bool:
    """Whether a turn ends asking something: a final ？, 吗 or 么, or a final 呢 with a question
    word (什么时候上门呢, but not 还没有呢). A final ，is no sign: Whisper ends segments with one."""
    t = text.rstrip(" 。.！!，,")
    if not t:
        return False
    if t[-1] in "？?吗么":
        return True
    return t[-1] == "呢" and any(w in t for w in _QUESTION_WORDS)


_OPEN_WORDS = ("什么时候", "什么时间", "怎么", "多少", "多久", "多长时间", "哪里", "哪儿", "哪个",
               "哪天", "几点", "几天", "几号", "为什么", "能不能", "可不可以", "是不是", "有没有",
               "会不会", "要不要", "行不行", "好不好", "对不对")
_REQUESTS = ("帮我", "麻烦你", "请你", "我想问", "我还想", "能否", "能帮", "可以帮", "给我查",
             "你再说", "再说一遍", "你把", "你给我")  # 你把详单发到我邮箱里吧: an imperative


def last_clause(text: str) -> str:
    """The text after the last sentence or clause mark (Whisper often writes none at all)."""
    parts = [x for x in re.split(r"[。！？!?，,；;]+", text) if x.strip()]
    return parts[-1] if parts else ""


def asks(text: str) -> bool:
    """Whether a turn ends on an open question or a request, punctuated or not: `is_question`,
    or its last clause has a question word (什么时候, 多少, 能不能 …) or asks for something
    (帮我…, 麻烦你…). Without the ？ Whisper often leaves out, the words are what is left."""
    if is_question(text):
        return True
    clause = last_clause(text).replace("您", "你")
    if _INDEFINITE.search(clause):  # 几点都行, 什么时候都可以: no question
        return False
    return any(w in clause for w in _REQUESTS) or says(clause, _OPEN_WORDS)


def says(text: str, words: tuple[str, ...]) -> bool:
    """Whether `text` has one of `words`, as written or by toneless pinyin (什么是候 for 什么时候):
    Whisper swaps homophones inside question words too. Words with 哪 or 几 match as written
    only (哪里 na li = 那里, 几号 ji hao = 记号)."""
    if any(w in text for w in words):
        return True
    heard = f" {' '.join(pinyin(key_of(text).key))} "
    return any(f" {' '.join(pinyin(w))} " in heard for w in words
               if len(w) >= 2 and not set(w) & set("哪几"))


_INDEFINITE = re.compile(r"(什么|哪|几|多少|怎么)[^，。？！]{0,4}(都|也)(行|可以|好|没问题|一样|无所谓)")


def only(lexicon: Lexicon, turn: Turn) -> bool:
    """Whether the turn's text is nothing but `lexicon` phrases (嗯嗯，好的 in `backchannels`)."""
    k = key_of(turn.text)
    return bool(k.key) and sum(h.end - h.start for h in lexicon.find(k)) == len(k.key)


def holds(
    call: Call, hold_lexicon: Lexicon, min_hold_s: Seconds, carry_s: Seconds = 0.0
) -> list[tuple[Seconds, Seconds, Turn]]:
    """Announced holds: (start, end, the agent turn that announced it).

    A hold starts with a mutual silence longer than `min_hold_s` whose last agent turn before it
    has a `hold_lexicon` hit (麻烦您稍等), whatever the customer said in between (好的) — the
    silences T002 silence_gap leaves alone. It runs from the end of the speech before that
    silence until the agent speaks again (the return), or to the end of the recording: the
    customer is waiting for the agent, so their own words meanwhile (喂？还在吗) don't end it.
    An agent turn inside splits it: if that turn says 稍等 again, a new hold starts. An agent
    turn starting within `carry_s` of the announcing turn's end keeps the announcement (请您稍等
    | 我去问一下同事 — the VAD cut one sentence in two, or the agent added a word).
    """
    out: list[tuple[Seconds, Seconds, Turn]] = []
    pending: Turn | None = None  # the agent's latest turn, when it announced a hold
    start: Seconds | None = None  # the open hold's start
    spoken = 0.0  # end of all speech so far
    for t in call.turns:
        if start is None and pending is not None and t.start - spoken > min_hold_s:
            start = spoken
        if t.role is Role.AGENT:
            if start is not None and pending is not None:
                out.append((start, t.start, pending))
                start = None
            carried = pending is not None and t.start - pending.end <= carry_s
            pending = t if find(hold_lexicon, t) else (pending if carried else None)
        spoken = max(spoken, t.end)
    if start is None and pending is not None and call.duration - spoken > min_hold_s:
        start = spoken
    if start is not None and pending is not None:
        out.append((start, call.duration, pending))
    return out
