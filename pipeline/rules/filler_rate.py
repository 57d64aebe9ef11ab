"""W002 filler_rate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

from pipeline.lexicon import Hit, Lexicon
from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import extent, key_of, placed, speech_minutes, standalone
from pipeline.text import Keyed


@dataclass(frozen=True)
class Params:
    fillers: Lexicon = lexicon_file("fillers")  # 000 "语气助词(如:喽、嘛等)"; 002 "(如:呀,哦,嗯)"
    min_count: int = 4  # seeds give no number (DOMAIN.md §3.2); counts are a lower bound (§4.2)
    max_per_min: float = 4.0  # no seed number either: a habit, not a slip (~1 per 15 s of speech)
    count_backchannels: bool = True  # 002 item 32 "没有出现语气助词(如:呀,哦,嗯)": 嗯 alone too


@lru_cache(maxsize=16)
def _anywhere(lex: Lexicon) -> Lexicon:
    # `at` lifted: position is judged in `fillers`, after repetitions are seen.
    return Lexicon(lex.name, tuple(replace(e, at="any") for e in lex.entries))


def fillers(k: Keyed, lex: Lexicon) -> list[Hit]:
    """Hits that are fillers: whole words, and placed per `at`, repeated (那个那个), or
    followed at once by another filler (然后那个，… / 这个嘛)."""
    at = {e.key: e.at for e in lex.entries}
    found = [h for h in _anywhere(lex).find(k) if standalone(k, h.start, h.end)]
    ok = [placed(k, h.start, h.end, at[h.entry.key]) for h in found]
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
    `min_count` fillers and at least `max_per_min` per minute of agent speech. A particle
    (kind=particle) counts where it is a word of its own (嘛 in 干嘛 is not); a 口头禅
    (kind=phrase) counts where its `at` allows (那个 alone as a clause, 就是说 at a clause start,
    对吧 at a clause end), when repeated (那个那个), or when another filler follows it at once.
    Why: seed 000: "使用礼貌用语,不使用服务忌语、口头禅、语气助词(如:喽、嘛等)"; seed 002: "没有出现
    语气助词(如:呀,哦,嗯)", "口语(-2分)——出现啊呀等口语". The seeds give no count: the defaults
    are a guess to tune. Whisper drops many particles, so the count is a lower bound.
    Not flagged: "那个订单" (a demonstrative), "然后我帮您…" (a connective), 吗/呢/吧 in
    questions, particles inside words (干嘛, 额度).

    Bad:
        A 1.0 6.0 那个那个，您的订单啊，就是说还没发货
        C 6.5 7.0 嗯
        A 7.5 12.0 然后，那个嗯，我帮您催一下哦
    Good:
        A 1.0 6.0 那个订单已经发货了，然后我帮您查一下物流
        C 6.5 7.0 好的
        A 7.5 12.0 请问还有其他问题吗
    """
    agent = call.by(Role.AGENT)
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
    yield Evidence(*extent(agent), message, quote=worst.text)
