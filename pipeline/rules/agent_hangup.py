"""T005 agent_hangup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find, is_question, turn_confidence
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    max_tail_s: Seconds = 2.0  # no seed number: the line drops right after the agent's last words
    farewells: Lexicon = lexicon_file("farewells")  # customer 好的/再见/没有了 … (DOMAIN §3.4)
    min_answer_chars: int = 8  # agent speech after a question, farewells aside, that may answer it
    confidence: float = 0.6  # audio can't tell who hung up (see the doc)


@rule("T005", "agent_hangup", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent ends the call before the customer confirmed: 未经客户确认主动挂线.

    What it flags: the agent spoke last, the recording ends within `max_tail_s` of the agent's
    last words, and the customer's last turn is not a confirmation or farewell (no `farewells`
    hit, or a question); if that turn asks something (ends in ？/吗, or 呢 after a question word)
    and the agent said fewer than `min_answer_chars` 字 besides farewells after it, the message
    says the question went unanswered. Span: the agent's last turn start → the end of the recording.
    Why: seed 000 (问候语\\结束语): "通话结束前,在客户没有确认的情况下客服代表便主动挂线"; seed
    002: "没有强行收线现象", "业务介绍完成后急于挂机".
    What it can't tell: who actually hung up (the recording only shows the agent spoke last and
    the line went quiet), whether the switch cut the recording short, and on mono recordings who
    spoke last at all — so findings carry `confidence` and need a listen.
    Not flagged: calls where the customer said 好的/再见/没有了 last, calls the customer ends, calls
    with a long silence after the agent's last words, calls where the customer never spoke.

    Bad:
        A 20.0 24.0 您的宽带已经帮您报修了
        C 24.5 27.0 那师傅什么时候上门呢？
        A 27.5 29.0 好的，再见
    Good:
        A 20.0 24.0 您的宽带已经帮您报修了
        C 24.5 26.0 好的，谢谢，再见
        A 26.5 28.0 再见
    """
    if not call.turns:
        return
    last = max(call.turns, key=lambda t: t.end)
    customer = call.by(Role.CUSTOMER)
    if last.role is not Role.AGENT or not customer or call.duration - last.end > p.max_tail_s:
        return
    said = customer[-1]
    asked = is_question(said.text)
    if find(p.farewells, said) and not asked:
        return
    after = [t for t in call.by(Role.AGENT) if t.start >= said.start]
    answered = sum(han_count(t.text) - sum(h.end - h.start for h in find(p.farewells, t))
                   for t in after) >= p.min_answer_chars
    message = ("客户提问后坐席未作答即结束通话" if asked and not answered
               else "客户未确认/道别，坐席即结束通话")
    yield Evidence(last.start, call.duration, f"{message}（疑似坐席主动挂线，请听音确认）",
                   quote=said.text, confidence=round(p.confidence * turn_confidence(said), 3))
