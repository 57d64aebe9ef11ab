"""W002 filler_rate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

from pipeline.memo import by_identity
from pipeline.lexicon import Hit, Lexicon
from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import (
    extent,
    heard,
    key_of,
    placed,
    speech_minutes,
    standalone,
)
from pipeline.rules.words import pos_words
from pipeline.text import Keyed


@dataclass(frozen=True)
class Params:
    fillers: Lexicon = lexicon_file("fillers")  # 000 "语气助词(如:喽、嘛等)"; 002 "(如:呀,哦,嗯)"
    min_count: int = 4  # seeds give no number (DOMAIN.md §3.2); counts are a lower bound (§4.2)
    max_per_min: float = 4.0  # no seed number either: a habit, not a slip (~1 per 15 s of speech)
    count_backchannels: bool = True  # 002 item 32 "没有出现语气助词(如:呀,哦,嗯)": 嗯 alone too


@by_identity(maxsize=16)
def _anywhere(lex: Lexicon) -> Lexicon:
    # `at` lifted: position is judged in `fillers`, after repetitions are seen.
    return Lexicon(lex.name, tuple(replace(e, at="any") for e in lex.entries))


# jieba part-of-speech flags (ICTCLAS) of a word a demonstrative can stand before as its
# determiner: nouns (n…), verbal/adjectival nouns, measure words, numbers, time, place,
# direction, distinguishing words, adjectives (那个新的套餐), abbreviations, Latin letters (那个G).
_HEAD = ("n", "vn", "an", "q", "m", "t", "s", "f", "b", "a", "j", "eng")
_COPULA = ("是", "就是", "也是", "都是", "不是", "还是")  # 那个是… : a pronoun subject


_MODAL = ("需要", "可以", "能", "会", "要", "有", "得", "应该", "必须", "已经")
_ANSWERS = ("好", "是", "对")  # 好的/是的/对的 + 那个: a fresh clause, not "说的那个" (the one said)


def _determines_nothing(k: Keyed, h: Hit, candidates: set[str]) -> bool:
    """Whether a demonstrative (那个) stands before no head it could determine: the next word is
    a pronoun, verb, particle, conjunction or another filler (那个您稍等, 已经那个报修了, 那个就是),
    not a noun, number or measure word (那个套餐, 那个五十八的), nor 是 (那个是…). After 的 it is
    a pronoun head (您刚才说的那个); opening a clause before an adverb or modal it is a pronoun
    subject (那个不行的话, 那个需要本人办理). At a clause end it is a filler unless a verb or 的
    before it takes it as object (我要那个)."""
    a, b = k.source_span(h.start, h.end)
    words = [w for w in pos_words(k.text) if w[2].strip()]
    after = [w for w in words if w[0] >= b]
    before = [w for w in words if w[1] <= a]
    nxt, prev = (after[0] if after else None), (before[-1] if before else None)
    if prev is not None and prev[3] == "uj" and not (len(before) > 1 and before[-2][2] in _ANSWERS):
        return False
    opens = prev is None or not any(c.isalnum() for c in prev[2]) or prev[3] in ("c", "e", "y") \
        or key_of(prev[2]).key in candidates or prev[3] == "uj"
    if nxt is None or not any(c.isalnum() for c in nxt[2]):  # clause end
        return prev is None or not prev[3].startswith("v")
    if nxt[2] in _COPULA or key_of(nxt[2]).key in candidates:
        return nxt[2] not in _COPULA
    if opens and (nxt[3] == "d" or nxt[2] in _MODAL or nxt[2][0] in "不没"):
        return False
    return not nxt[3].startswith(_HEAD)


def _splits_clause(k: Keyed, h: Hit) -> bool:
    """Whether a connective (然后) stands where no clause starts: between a pronoun subject and
    its verb (我们这边然后会…, 您然后把…), before a bare particle (然后呢), or trailing at the
    end (…一下然后). At a clause start it is a plain connective (…查一下然后给您回电)."""
    a, b = k.source_span(h.start, h.end)
    words = [w for w in pos_words(k.text) if w[2].strip()]
    after = [w for w in words if w[0] >= b]
    before = [w for w in words if w[1] <= a]
    nxt, prev = (after[0] if after else None), (before[-1] if before else None)
    if prev is None or not any(c.isalnum() for c in prev[2]):
        return False
    if nxt is None or not any(c.isalnum() for c in nxt[2]):
        return True
    return prev[3] in ("r", "zg") or nxt[3] == "y"


def fillers(k: Keyed, lex: Lexicon) -> list[Hit]:
    """Hits that are fillers, judged by structure rather than Whisper's punctuation: whole words;
    placed per `at` (那个 alone as a clause); a demonstrative (kind=demonstrative) that
    determines nothing (see `_determines_nothing`); a connective (kind=connective) where no
    clause starts (see `_splits_clause`); repeated (那个那个); or followed at once by
    another filler (然后那个…, 这个嘛)."""
    at = {e.key: e.at for e in lex.entries}
    kinds = {e.key: e.kind for e in lex.entries}
    found = [h for h in _anywhere(lex).find(k) if standalone(k, h.start, h.end)]
    candidates = set(at)
    ok = [placed(k, h.start, h.end, at[h.entry.key])
          or (kinds[h.entry.key] == "demonstrative" and _determines_nothing(k, h, candidates))
          or (kinds[h.entry.key] == "connective" and _splits_clause(k, h))
          for h in found]
    for i in range(len(found) - 1, 0, -1):
        prev, nxt = found[i - 1], found[i]
        if prev.end == nxt.start and (ok[i] or prev.entry.key == nxt.entry.key):
            ok[i - 1] = ok[i] = True
    return [h for h, counted in zip(found, ok) if counted]


def _all_filler(k: Keyed, found: list[Hit]) -> bool:
    return sum(h.end - h.start for h in found) == len(k.key)


@rule("W002", "filler_rate", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent's speech is full of fillers: 语气助词 (嗯 啊 呀 嘛 喽) and 口头禅 (那个那个).

    What it flags: once per call, over the agent's speech, when the agent says at least
    `min_count` fillers and at least `max_per_min` per minute of agent speech. A filler is a
    filler whatever punctuation Whisper chose (it writes most of them without commas): a
    particle (kind=particle) counts where it is a word of its own (嘛 in 干嘛 is not); a 口头禅
    (kind=phrase) where its `at` allows (就是说 anywhere but in 也就是说, 就是 at a clause start,
    对吧 as a word of its own), when repeated (那个那个), or when another filler follows it at
    once; a demonstrative (kind=demonstrative: 那个) also where the next word is nothing it
    could determine — a pronoun, verb, adverb or another filler (那个您稍等, 那个感谢您的来电),
    by jieba's part-of-speech tags, not a noun or number (那个套餐, 那个五十八的); a connective
    (kind=connective: 然后) where no clause starts (我们这边然后会…, 然后呢, a trailing 然后).
    The rate is over heard speech: agent turns the ASR returned empty (issue #15) hold fillers
    nobody can count, so their minutes are left out too.
    Why: seed 000: "使用礼貌用语,不使用服务忌语、口头禅、语气助词(如:喽、嘛等)"; seed 002: "没有出现
    语气助词(如:呀,哦,嗯)", "口语(-2分)——出现啊呀等口语". The seeds give no count: the defaults
    are a guess to tune. Whisper drops many particles, so the count is a lower bound.
    Not flagged: "那个订单" (a demonstrative), "然后我帮您…" (a connective), 这个 before a
    noun or as a topic (这个您放心), 吗/呢/吧 in questions, particles inside words (干嘛, 额度).

    Bad:
        A 1.0 6.0 那个那个，您的订单啊，就是说还没发货
        C 6.5 7.0 嗯
        A 7.5 12.0 然后，那个嗯，我帮您催一下哦
    Good:
        A 1.0 6.0 那个订单已经发货了，然后我帮您查一下物流
        C 6.5 7.0 好的
        A 7.5 12.0 请问还有其他问题吗
    """
    agent = heard(call.by(Role.AGENT))
    per_turn = {t: fillers(key_of(t.text), p.fillers) for t in agent}
    if not p.count_backchannels:  # drop turns that are nothing but 嗯 / 哦
        per_turn = {t: f for t, f in per_turn.items() if not _all_filler(key_of(t.text), f)}
    counts = Counter(h.entry.phrase for found in per_turn.values() for h in found)
    total, minutes = sum(counts.values()), speech_minutes(agent)
    if minutes <= 0 or total < p.min_count or total / minutes < p.max_per_min:
        return
    listed = "、".join(f"{w}×{n}" for w, n in counts.most_common())
    worst = max(per_turn, key=lambda t: len(per_turn[t]))
    message = f"口头禅/语气助词过多：{listed}（共 {total} 次，每分钟 {total / minutes:.1f} 次）"
    yield Evidence(*extent(agent), message, quote=worst.text,
                   entry="|".join(w for w, _ in counts.most_common()))
