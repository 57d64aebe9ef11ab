"""T005 agent_hangup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds, Turn
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import (
    asks,
    find,
    heard,
    is_question,
    key_of,
    last_clause,
    lost,
    says,
    turn_confidence,
)
from pipeline.text import is_han


@dataclass(frozen=True)
class Params:
    max_tail_s: Seconds = 2.0  # no seed number: the line drops right after the agent's last words
    farewells: Lexicon = lexicon_file("farewells")  # customer 好的/再见/没有了 … (DOMAIN §3.4)
    closings: Lexicon = lexicon_file("closings")  # agent 感谢来电/祝您生活愉快: no answer either
    min_answer_chars: int = 8  # agent speech after a question, farewells aside, that may answer it
    lost_turn_s: Seconds = 0.6  # a customer turn this long with no ASR text: unknown last words
    confidence: float = 0.6  # audio can't tell who hung up (see the doc)


def _without(t: Turn, *lexicons: Lexicon) -> str:
    """An agent turn's key without the phrases of `lexicons`: what is left to answer with."""
    k = key_of(t.text)
    gone = {i for lex in lexicons for h in lex.find(k) for i in range(h.start, h.end)}
    return "".join(c for i, c in enumerate(k.key) if i not in gone)


# What an answer to a kind of question has to contain (the question's last clause decides):
# when → a time, how many → a number, yes/no → a yes or a no. Other questions and requests
# (为什么, 怎么办, 帮我查一下) need `min_answer_chars` of content.
# How long (几天, 多少天, 几个工作日) asks for a time too: a bare number (三线, Whisper's 再见) is
# no answer to it.
_WHEN = ("什么时候", "什么时间", "几点", "几号", "哪天", "多久", "多长时间", "几天", "多少天",
         "几个工作日", "几个小时", "几个月", "多少个工作日")  # by sound (`says`)
_TIME = re.compile(r"[今明后]天|上午|下午|晚上|早上|中午|[0-9一二三四五六七八九十两半几]+(点|号|天|分钟|"
                   r"小时|个月|周)|周[一二三四五六日末]|星期|礼拜|工作日|马上|立刻|尽快|稍后|之内|以内|"
                   r"之前|以后")
_HOW_MANY = ("多少", "几")
_NUMBER = re.compile(r"[0-9零一二三四五六七八九十百千万两半]")
_YES_NO = ("能不能", "可不可以", "是不是", "有没有", "会不会", "要不要", "行不行", "对不对")
_REPLY = re.compile(r"^(能|是|有|会|要|行|对)|可以|不能|能的|是的|不是|有的|没有|会的|不会|不用|不行|"
                    r"对的|没问题|当然")


_DONE = re.compile(r"(已经|马上|这就|现在就)(帮|给|为)?(您|你)?.{0,2}(办|查|处理|改|开|退|取消|登记|提交|安排|发)")


def answered(question: str, reply: str, content: str, min_chars: int) -> bool:
    """Whether the agent's `reply` (closing phrases removed) can answer `question`; `content` is
    the reply without farewells too (好的 alone answers nothing)."""
    q = last_clause(question).rstrip("？?")
    if says(q, _WHEN):
        return bool(_TIME.search(reply))
    if says(q, _HOW_MANY):
        return bool(_NUMBER.search(reply))
    if (says(q, _YES_NO) or q.endswith(("吗", "么"))) and _REPLY.search(reply):
        return True
    if _DONE.search(content):  # a request met: 已经给您办好了, 马上帮您处理
        return True
    return sum(map(is_han, content)) >= min_chars


@rule("T005", "agent_hangup", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent ends the call on the customer's open question: 未经客户确认主动挂线.

    What it flags: the agent spoke last, the recording ends within `max_tail_s` of the agent's
    last words, the customer's last turn ends on an open question or request (？/吗, a question
    word such as 什么时候/多少/能不能 in its last clause, or 帮我…/麻烦你… — punctuation or not,
    see `spans.asks`), and what the agent said after it, farewell and closing phrases aside
    (好的，再见 answers nothing), cannot answer it: no time for 什么时候 or for how long (几天,
    几个工作日: 三个工作日, 明天), no number for 多少, no
    yes or no (可以/不行/有/没有…) for 能不能…吗, no 已经/马上…办/查/处理 for a request, and
    otherwise fewer than `min_answer_chars` 字.
    Span: the agent's last turn start → the end of the recording.
    Why: seed 000 (问候语\\结束语): "通话结束前,在客户没有确认的情况下客服代表便主动挂线"; seed
    002: "没有强行收线现象", "业务介绍完成后急于挂机". A hang-up is the agent ending on the
    customer's open question, not on a farewell (issue #15): after a customer declines (不用了),
    thanks or says goodbye, the agent's proper closing (感谢…再见) is how a call should end.
    What it can't tell: who actually hung up (the recording only shows the agent spoke last and
    the line went quiet), whether the switch cut the recording short, and on mono recordings who
    spoke last at all — so findings carry `confidence` and need a listen.
    Not flagged: the customer's last turn a decline, thanks, farewell or plain statement; a
    question the agent answered before closing; calls the customer ends; a long silence after
    the agent's last words; calls where the customer never spoke or whose last customer turn the
    ASR lost (empty, ≥ `lost_turn_s`: what was asked is unknown).

    Bad:
        A 20.0 24.0 您的宽带已经帮您报修了
        C 24.5 27.0 那师傅什么时候上门呢？
        A 27.5 29.0 好的，再见
    Good:
        A 20.0 24.0 您的宽带已经帮您报修了
        C 24.5 27.0 那师傅什么时候上门呢？
        A 27.5 31.0 师傅明天上午十点前上门，感谢您的来电，再见
    """
    if not call.turns:
        return
    last = max(call.turns, key=lambda t: t.end)
    customer = call.by(Role.CUSTOMER)
    spoken = heard(customer)
    if last.role is not Role.AGENT or not spoken or call.duration - last.end > p.max_tail_s:
        return
    said = spoken[-1]
    if any(lost(t, p.lost_turn_s) for t in customer if t.start > said.start):
        return  # the customer's last words came back empty: nothing to judge them by
    k = key_of(said.text)
    bye = any(h.end == len(k.key) for h in find(p.farewells, said))  # ends on 好的/谢谢/再见
    if not asks(said.text) or (bye and not is_question(said.text)):
        return
    after = [t for t in call.by(Role.AGENT) if t.start >= said.start]
    reply = "".join(_without(t, p.closings) for t in after)
    content = "".join(_without(t, p.farewells, p.closings) for t in after)
    if answered(said.text, reply, content, p.min_answer_chars):
        return
    yield Evidence(last.start, call.duration, "客户提问后坐席未作答即结束通话（疑似坐席主动挂线，"
                   "请听音确认）", quote=said.text,
                   confidence=round(p.confidence * turn_confidence(said), 3))
