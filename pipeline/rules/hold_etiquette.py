"""T003 hold_etiquette."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds, Turn
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find, holds, is_empty, is_question, lost, speech_gaps
from pipeline.rules.waits import acknowledges, told_and_thanked


@dataclass(frozen=True)
class Params:
    min_hold_s: Seconds = 3.0  # seed 004 "3秒钟是极限": a longer silence after 稍等 is a hold (= T002)
    unannounced_min_s: Seconds = 10.0  # no seed number: a wait, not a pause to think (≈ 3× T002)
    ack_after_s: Seconds = 15.0  # seed 004 "候线15s:…抱歉让您久等了!/感谢您耐心等待!"
    max_hold_s: Seconds = 30.0  # seed 002 "[候]线等待时间累计超过30秒无回应"
    max_total_hold_s: Seconds = 120.0  # seed 002 "或累计等待时间超过2分钟"
    # VAD cuts at 0.5 s pauses: "喂您好，|(客户: 在)|让您久等了" is two or three turns
    return_window_s: Seconds = 6.0
    announce_carry_s: Seconds = 5.0  # "请您稍等 | 我去问一下同事": one announcement in two turns
    lost_turn_s: Seconds = 0.6  # an empty agent turn this long may hold the announcement/apology
    hold_phrases: Lexicon = lexicon_file("hold")  # 麻烦您稍等, 我帮您查一下 … (seed 004)
    return_phrases: Lexicon = lexicon_file("hold_return")  # 让您久等了, 感谢您耐心等待 (seed 004)


@rule("T003", "hold_etiquette", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """Holds handled badly: not announced, not acknowledged, too long, or too much in total.

    What it flags (each its own evidence, with its own message): (a) the agent goes silent for
    `unannounced_min_s` or more mid-call and speaks next, without a hold phrase (`hold_phrases`)
    and without having asked the customer anything — span: the silence; (b) after a hold of
    `ack_after_s` or more, the agent's return (turns starting within `return_window_s` of it) has
    no `return_phrases` hit — span: hold start → the agent's return; (c) one hold longer than
    `max_hold_s` — span: the hold; (d) holds (announced and unannounced) add up to more than
    `max_total_hold_s` — span: first hold start → last hold end. A hold starts with a mutual
    silence of more than `min_hold_s` after an agent turn with a hold phrase (or one starting
    within `announce_carry_s` of it: 请您稍等 | 我去问一下) and lasts until the agent speaks again
    (see `spans.holds`); an agent turn in the middle (还在为您查询，请稍等) splits it in two.
    Announcements and apologies are matched robustly (issue #15: an announced, apologised hold
    was flagged): phrases by pinyin, and an apology or thanks with 等 close behind it (不好意思
    让您等了) or 久等/耐心 anywhere in the return counts as acknowledging. Absence is only
    concluded from heard speech: a silence whose opening agent turn, or a return whose turns, the
    ASR returned empty (≥ `lost_turn_s`) is not flagged as unannounced or unacknowledged; nor is
    a silence the agent apologises for on return after a turn that spoke of waiting or looking
    something up (等, 查, 确认) in words no phrase lists.
    Why: seed 004 (沉默和候线): "使用标准话术(麻烦您稍等(时间),我帮您确认一下…)/候线15s:X先生/
    女士,抱歉让您久等了!/感谢您耐心等待!"; seed 002: "[候]线等待时间累计超过30秒无回应,或累计
    等待时间超过2分钟".
    Not flagged: unannounced silences after the customer spoke (T002 silence_gap); a silence
    after the agent asked a question (the customer is thinking); the silence at the end of the
    recording unless it follows a hold phrase.

    Bad:
        C 1.0 3.0 我想查一下上个月的话费
        A 3.5 5.0 麻烦您稍等
        C 5.2 5.6 好的
        A 25.0 27.0 您上个月的话费是五十八元
    Good:
        C 1.0 3.0 我想查一下上个月的话费
        A 3.5 5.0 麻烦您稍等
        C 5.2 5.6 好的
        A 25.0 28.0 感谢您耐心等待，您上个月的话费是五十八元
    """
    announced = holds(call, p.hold_phrases, p.min_hold_s, p.announce_carry_s)
    agent = call.by(Role.AGENT)

    def back(end: Seconds) -> list[Turn]:  # the agent's return: its turns right after the wait
        return [t for t in agent if end <= t.start <= end + p.return_window_s]

    unannounced = []
    for ended, nxt, start, end in speech_gaps(call.turns):
        if (ended.role is Role.AGENT and nxt is not None and nxt.role is Role.AGENT
                and end - start >= p.unannounced_min_s and not find(p.hold_phrases, ended)
                and not is_question(ended.text) and not lost(ended, p.lost_turn_s)
                and not told_and_thanked(ended, back(end), p.return_phrases)
                and not any(s < end and start < e for s, e, _ in announced)):
            unannounced.append((start, end))
            yield Evidence(start, end, f"坐席未告知“请稍等”即让客户等待 {end - start:.1f} 秒",
                           quote=ended.text)
    for start, end, opener in announced:
        length, returned = end - start, back(end)
        heard = [t for t in returned if not is_empty(t)]
        if (length >= p.ack_after_s and heard and not acknowledges(returned, p.return_phrases)
                and not any(lost(t, p.lost_turn_s) for t in returned)):
            yield Evidence(start, end, f"候线 {length:.1f} 秒后返回未致歉/致谢（如“抱歉让您久等了”"
                           "“感谢您耐心等待”）", quote=heard[0].text)
        if length > p.max_hold_s:
            yield Evidence(start, end, f"单次候线 {length:.1f} 秒，超过 {p.max_hold_s:g} 秒未回应客户",
                           quote=opener.text)
    spans = sorted([(s, e) for s, e, _ in announced] + unannounced)
    total = sum(e - s for s, e in spans)
    if total > p.max_total_hold_s:
        yield Evidence(spans[0][0], spans[-1][1], f"候线累计 {total:.0f} 秒，超过 "
                       f"{p.max_total_hold_s:g} 秒（共 {len(spans)} 次）")
