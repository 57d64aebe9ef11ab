"""V003 language_switch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Turn
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find
from pipeline.text import han_count

_NAMES = {"cantonese": "粤语", "mandarin": "普通话"}


@dataclass(frozen=True)
class Params:
    min_markers: int = 2  # DOMAIN §3.9: a medium marker alone is not enough; a strong one counts 2
    min_chars: int = 4  # shorter turns (好的, 喂) are neutral: they sound the same in both
    min_lang_prob: float = 0.5  # Whisper's language probability for "yue" to believe it
    follow_turns: int = 2  # DOMAIN §3.9: the agent's next 2 substantive turns stay unswitched
    cantonese: Lexicon = lexicon_file("cantonese")  # 嘅 咗 冇 唔该 … (`kind=strong` counts 2)
    requests: Lexicon = lexicon_file("language_requests")  # 可以讲粤语吗, 说普通话 … (consent)
    confidence: float = 0.6  # Whisper forced to zh writes Cantonese as standard Chinese (§3.9)


def label(t: Turn, p: Params) -> str:
    """cantonese, mandarin, or "" (neutral: too short or unsure; inherits the previous label)."""
    markers = sum(2 if h.entry.kind == "strong" else 1 for h in find(p.cantonese, t))
    if (t.language == "yue" and t.language_prob >= p.min_lang_prob) or markers >= p.min_markers:
        return "cantonese"
    if t.language in ("zh", "") and not markers and han_count(t.text) >= p.min_chars:
        return "mandarin"
    return ""


@rule("V003", "language_switch", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent switches between 普通话 and 粤语 unasked, or doesn't follow the customer's switch.

    What it flags, from a per-turn label — cantonese when Whisper's language is yue (probability
    ≥ `min_lang_prob`) or the text has ≥ `min_markers` Cantonese markers (`cantonese` lexicon,
    `kind=strong` counting 2); mandarin when the language is zh or unknown, there are no markers
    and ≥ `min_chars` 字; otherwise neutral: (a) the agent's label changes away from the customer's
    current one and no `requests` phrase (可以讲粤语吗, 说普通话) was said since the agent's previous
    labelled turn — span: the agent's first switched turn; (b) the customer's label differs from
    the agent's and the agent's next `follow_turns` labelled turns stay in the old language —
    span: the customer's first turn in the new language → the end of the last of those turns.
    Why: seed 000 (服务语种选择): "客服代表在外呼过程中未经客户同意随意转换语种", "客服代表在外呼过程
    中未能进行同步转换", "客户使用另一种语种咨询,客服代表未能适时正确使用相应的语种".
    Not flagged: switches the customer asked for or made first; short or mixed turns (neutral);
    calls where either side never has a label. Cantonese that the ASR wrote as standard Chinese
    looks like Mandarin, hence the modest `confidence`.

    Bad:
        A 1.0 4.0 您好，请问有什么可以帮您
        C 4.5 7.0 我想查一下我的话费
        A 7.5 10.0 好啊，我而家同你睇下，唔该等等
    Good:
        A 1.0 4.0 您好，请问有什么可以帮您
        C 4.5 7.0 我想查下我嘅话费，唔该
        A 7.5 10.0 好啊，我而家同你睇下，唔该等等
    """
    agent_lang = customer_lang = ""
    since: list[Turn] = []  # turns since the agent's previous labelled turn: (a)'s consent window
    began: Turn | None = None  # the customer's first turn in their current language
    stayed: list[Turn] = []  # agent turns since then in another language
    settled = False  # the agent followed, was flagged, or the language was discussed
    for t in call.turns:
        lang = label(t, p)
        since.append(t)
        if find(p.requests, t):
            settled = True
        if t.role is Role.CUSTOMER:
            if lang and lang != customer_lang:
                customer_lang, began, stayed, settled = lang, t, [], bool(find(p.requests, t))
            continue
        if not lang:
            continue
        if (agent_lang and lang != agent_lang and customer_lang and lang != customer_lang
                and not any(find(p.requests, s) for s in since)):
            yield Evidence(t.start, t.end, f"坐席未经客户同意由{_NAMES[agent_lang]}转为"
                           f"{_NAMES[lang]}", quote=t.text, confidence=p.confidence)
        agent_lang, since = lang, [t]
        if began is None or settled:
            continue
        if lang == customer_lang:
            settled = True
        else:
            stayed.append(t)
            if len(stayed) >= p.follow_turns:
                yield Evidence(began.start, t.end, f"客户使用{_NAMES[customer_lang]}，坐席未同步"
                               f"转换（仍用{_NAMES[lang]}）", quote=began.text, confidence=p.confidence)
                settled = True
