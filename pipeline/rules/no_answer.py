"""T001 no_answer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import rule


@dataclass(frozen=True)
class Params:
    max_wait_s: Seconds = 5.0  # seed 000 (精神状态): "电话接通后5秒以上都无应答"
    connect_s: Seconds = 0.0  # where the call connects in the recording; 0 = recording start


@rule("T001", "no_answer", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent does not speak within 5 s of the call connecting.

    What it flags: the agent's first turn starts more than `max_wait_s` after `connect_s`, or the
    agent never speaks in a call longer than that. The span runs from the connect to the agent's
    first word (or the end of the recording), and the quote is what the customer said meanwhile.
    Why: seed 000 (服务态度 · 精神状态) marks down "电话接通后5秒以上都无应答".
    Not flagged: later silences (T002 silence_gap) or a slow first reply that is still within
    the limit; a short recording the agent never spoke in (nothing to judge).

    Bad:
        C 0.5 1.5 喂，你好
        C 4.0 4.5 喂？
        A 7.0 9.0 您好，很高兴为您服务
    Good:
        A 1.5 3.5 您好，很高兴为您服务
        C 4.0 5.0 我想查一下话费
    """
    first = next((t for t in call.turns if t.role is Role.AGENT and t.end > p.connect_s), None)
    end = first.start if first is not None else call.duration
    wait = end - p.connect_s
    if wait <= p.max_wait_s:
        return
    heard = "".join(t.text for t in call.turns if t.role is Role.CUSTOMER and t.start < end)
    if first is None:
        message = f"电话接通后坐席始终未应答（{wait:.1f} 秒，上限 {p.max_wait_s:g} 秒）"
    else:
        message = f"电话接通后 {wait:.1f} 秒坐席才应答（上限 {p.max_wait_s:g} 秒）"
    yield Evidence(p.connect_s, end, message, quote=heard, role=Role.AGENT)
