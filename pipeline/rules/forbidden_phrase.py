"""W001 forbidden_phrase."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import hit_evidence, hits, key_of

SEVERITY_ZH = {"low": "低", "medium": "中", "high": "高", "critical": "严重"}


@dataclass(frozen=True)
class Params:
    # seed 002: "服务禁语(-2分)——出现直呼客户喂、不知道、不清楚、不明白等服务禁语"; 001 习惯用语;
    # 004 反问 "明白么?知道了么?"; [ind] entries per DOMAIN.md §3.1.
    phrases: Lexicon = lexicon_file("forbidden")


@rule("W001", "forbidden_phrase", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent uses a forbidden phrase (服务禁语/忌语): 喂, 不知道, 明白吗, 你错了 …

    What it flags: every hit of the `phrases` lexicon in an agent turn, spanning the words of the
    hit, with the entry's severity (low/medium/high/critical → points by severity). A hit found
    by pinyin (ASR homophone, e.g. 不知到) says so and gets a lower confidence.
    Why: seed 002: "服务禁语(-2分)——出现直呼客户喂、不知道、不清楚、不明白等服务禁语"; seed 000:
    "不使用服务忌语、口头禅、语气助词"; seed 004: "为了某个问题,反问客户。例如明白么?知道了么?".
    Not flagged: the customer's words; polite hedges the lexicon excludes with `except=`
    (不知道您…, 不知道是否…, 有不清楚的地方…); 喂 anywhere but at the start of a clause.

    Bad:
        C 1.0 3.0 我的套餐什么时候到期
        A 3.5 5.0 这个我不知道
    Good:
        C 1.0 3.0 我的套餐什么时候到期
        A 3.5 7.0 不知道您方不方便稍等，我帮您查一下
    """
    for turn, hit in hits(p.phrases, call.by(Role.AGENT)):
        phrase, severity = hit.entry.phrase, SEVERITY_ZH.get(hit.entry.severity, hit.entry.severity)
        heard = ""
        if hit.via != "exact":
            k = key_of(turn.text)
            a, b = k.source_span(hit.start, hit.end)
            heard = f"，转写为「{turn.text[a:b]}」，按读音匹配"
        yield hit_evidence(turn, hit, f"使用服务忌语「{phrase}」（严重程度：{severity}{heard}）")
