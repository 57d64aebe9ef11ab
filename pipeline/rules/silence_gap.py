"""T002 silence_gap."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find, is_question, last_agent_turn_before, lost, speech_gaps
from pipeline.rules.waits import told_and_thanked
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    max_gap_s: Seconds = 3.0  # seed 004 §2.3: "我们需要及时回复,3秒钟是极限"
    hold_phrases: Lexicon = lexicon_file("hold")  # 请稍等 … : the silence is a hold, judged by T003
    # Issue #15 (turns the ASR lost): an empty agent turn this long before a customer's short
    # 好的/嗯 may have been 请稍等, so the silence after it is not called dead air.
    lost_turn_s: Seconds = 0.6
    ack_chars: int = 4  # a customer turn this short (好的, 嗯嗯, 行) only acknowledges the agent
    hold_return: Lexicon = lexicon_file("hold_return")  # 让您久等了: the agent owns the wait
    return_window_s: Seconds = 6.0  # the agent's return: its turns this soon after the silence


# The customer agreeing to wait (好的我等一下, 行我等着): whatever the agent said, this is a hold.
_WAITS = re.compile(r"我?等(一下|一会|会儿|着|等)|我等")


@rule("T002", "silence_gap", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """After the customer stops, nobody speaks for more than 3 s: dead air.

    What it flags: a mutual silence longer than `max_gap_s` that starts when a customer turn ends
    and is followed by more speech (the end of the recording is not dead air).
    Why: seed 004 (沉默和候线): "如果客户咨询问题或陈述事件,我们需要及时回复,3秒钟是极限。"
    Not flagged: a silence after the agent announced a hold (请稍等 / 麻烦您稍等 …, lexicon
    `hold`) — holds are judged by hold etiquette instead; a silence after the customer only
    acknowledged (≤ `ack_chars` 字: 好的) an agent turn the ASR returned empty (≥ `lost_turn_s`),
    which may have announced the hold; a silence after the customer agreed to wait (好的，我等
    一下: ≤ 2 × `ack_chars` 字, no question), whatever the agent's words were; a wait told in
    other words (您先别挂，我到系统里看看: 等, 查, 看看, 别挂 …) that the agent apologises or thanks
    for on return (不好意思，让您等了这么久: `hold_return` or an apology with 等, see
    `rules.waits`); the wait before the agent's first words (T001 no_answer judges the pickup).

    Bad:
        A 8.0 9.5 您好，请问有什么可以帮您
        C 10.0 12.0 我的快递到哪了
        A 16.5 18.0 您好我帮您查一下
    Good:
        A 8.0 9.5 您好，请问有什么可以帮您
        C 10.0 12.0 我的快递到哪了
        A 13.0 14.5 您好我帮您查一下
    """
    agent = call.by(Role.AGENT)
    for ended, _next, start, end in speech_gaps(call.turns):
        gap = end - start
        if ended.role is not Role.CUSTOMER or gap <= p.max_gap_s:
            continue
        announced = last_agent_turn_before(call.turns, start)
        if announced is None:
            continue  # the agent has not picked up yet: no_answer's silence
        if find(p.hold_phrases, announced):
            continue
        returned = [t for t in agent if end <= t.start <= end + p.return_window_s]
        if told_and_thanked(announced, returned, p.hold_return):
            continue
        if lost(announced, p.lost_turn_s) and \
                han_count(ended.text) <= p.ack_chars:
            continue
        if _WAITS.search(ended.text) and not is_question(ended.text) and \
                han_count(ended.text) <= 2 * p.ack_chars:
            continue  # 好的，我等一下: the customer agreed to a hold the ASR didn't catch
        yield Evidence(
            start,
            end,
            f"客户说完后无人应答，静默 {gap:.1f} 秒（上限 {p.max_gap_s:g} 秒）",
            quote=ended.text,
            role=Role.AGENT,
        )
