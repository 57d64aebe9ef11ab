"""W003 politeness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from pipeline.memo import by_identity
from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Turn
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import extent, find, key_of, lost, turn_confidence
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    politeness: Lexicon = lexicon_file("politeness")  # 请/谢谢/抱歉/不好意思 … (`kind=thanks` …)
    thanks_reply: Lexicon = lexicon_file("thanks_reply")  # seed 004 "不用谢""这是我应该做的"
    refusals: Lexicon = lexicon_file("refusals")  # "不需要，谢谢" turns an offer down: no 不客气 due
    closings: Lexicon = lexicon_file("closings")  # thanks answered by 还有其他问题吗/再见: a farewell
    min_agent_chars: int = 80  # no seed number: enough agent speech (~20 s) to expect a 请/谢谢
    min_ni: int = 5  # no seed number: 你 this often and never 您 is a habit, not one ASR slip
    ni_confidence: float = 0.4  # DOMAIN §4.4: Whisper writes 你 for 您: listen before deducting


@by_identity(maxsize=16)
def _anywhere(lex: Lexicon) -> Lexicon:
    # `at` lifted: "真的不要谢谢" declines, though 不要 isn't a clause of its own there.
    return Lexicon(lex.name, tuple(replace(e, at="any") for e in lex.entries))


def _thanks(turn: Turn, p: Params) -> bool:
    """The customer thanks the agent at the end of the turn (not "谢谢，那我什么时候…"), and
    isn't declining something ("不用了，谢谢")."""
    k = key_of(turn.text)
    return not _anywhere(p.refusals).find(k) and any(
        h.entry.kind == "thanks" and h.end >= len(k.key) - 2 for h in find(p.politeness, turn)
    )


def _reply_run(call: Call, first: Turn) -> list[Turn]:
    """The agent's whole reply: `first` and the agent turns after it until the customer speaks."""
    run = []
    for t in call.turns[call.turns.index(first):]:
        if t.role is Role.CUSTOMER and t.text:
            break
        if t.role is Role.AGENT:
            run.append(t)
    return run


@rule("W003", "politeness", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent doesn't answer thanks, never uses polite words, or addresses the customer as 你.

    What it flags (each its own message): (a) the customer ends a turn with thanks (`politeness`
    lexicon, `kind=thanks`: 谢谢/感谢) and the agent's reply has no `thanks_reply` phrase
    (不客气/不用谢/应该的), no thanks of its own and no `closings` phrase — span: the agent's
    reply; (b) the agent says at least `min_agent_chars` 字, never 您 and not one `politeness`
    phrase (请/请问/谢谢/抱歉/不好意思/麻烦您 …) — span: the agent's speech; (c) the agent says 你 at
    least `min_ni` times and 您 never — span: the agent's speech, confidence `ni_confidence`.
    Why: seed 002 (服务用语): "礼貌用语恰当(2分)——合理使用“您、请”等用语", "致谢语(1分)——及时
    合理回应", "致歉语(1分)——客户出现问题及不满及时合理回应"; seed 004: "Not meet 5 客户致谢时,
    客服没有适当回应,表示“不用谢”“这是我应该做的”", "Not meet 7 没有使用服务敬语".
    The reply is every agent turn until the customer speaks again (the VAD splits one reply at its
    pauses). Not flagged: thanks at the close — answered by the agent's last turn, or by 还有其他问题吗/
    再见 (S002 judges the closing); thanks while declining (不用了谢谢, 真的不要谢谢) or followed by
    more talk (谢谢，那师傅几点来); a reply the ASR returned empty; a single 你 (ASR writes 你 for 您); 反问 like 明白吗 (W001).

    Bad:
        C 10.0 13.0 好的，我明白了，谢谢
        A 13.5 16.0 嗯，另外您的流量包下个月到期
        C 16.5 17.0 好的
        A 17.5 19.0 感谢来电，再见
    Good:
        C 10.0 13.0 好的，我明白了，谢谢
        A 13.5 16.0 不客气，另外您的流量包下个月到期
        C 16.5 17.0 好的
        A 17.5 19.0 感谢来电，再见
    """
    agent = call.by(Role.AGENT)
    if not agent:
        return
    for said, reply in call.replies():
        run = _reply_run(call, reply)  # the VAD cuts one reply at its pauses (不客气 | 祝您… | 再见)
        if agent[-1] in run or not _thanks(said, p) or lost(reply):
            continue  # a reply the ASR returned empty may hold the 不客气 (issue #15)
        thanked = any(h.entry.kind == "thanks" for t in run for h in find(p.politeness, t))
        if not thanked and not any(find(p.thanks_reply, t) or find(p.closings, t) for t in run):
            yield Evidence(reply.start, reply.end, "客户致谢后坐席未回应（如“不客气”“这是我应该做的”）",
                           quote=reply.text, confidence=turn_confidence(reply))
    chars = sum(han_count(t.text) for t in agent)
    text = "".join(t.text for t in agent)
    polite = "您" in text or any(find(p.politeness, t) for t in agent)
    if chars >= p.min_agent_chars and not polite:
        yield Evidence(*extent(agent), f"整通通话坐席未使用礼貌用语（请、谢谢、抱歉、不好意思等，"
                       f"共 {chars} 字）", confidence=0.8)
    ni = text.count("你") - text.count("你们")
    if ni >= p.min_ni and "您" not in text:
        yield Evidence(*extent(agent), f"坐席全程称呼客户“你”（{ni} 次），未用“您”（语音识别常把"
                       "“您”写成“你”，请听音确认）", confidence=p.ni_confidence)
