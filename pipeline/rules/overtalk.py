"""T004 overtalk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from statistics import median

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import key_of, only, turn_confidence
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    min_overlap_s: Seconds = 1.0  # DOMAIN §4.5-6: Alibaba 抢话检查 DelayTime example 1000 ms
    grace_s: Seconds = 0.3  # no seed number: both starting together is not the agent cutting in
    backchannels: Lexicon = lexicon_file("backchannels")  # 嗯/对/好的: listening, not interrupting
    backchannel_chars: int = 3  # a backchannel is short: ≤ 3 字
    # No seed number. The agent channel also carries the customer's echo and the floor's babble,
    # 20-35 dB under the agent's voice; Whisper writes text into it (28.28.28…) now and then. A
    # "turn" this far under the agent's own median level is not the agent speaking.
    echo_below_db: float = 15.0


@rule("T004", "overtalk", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent talks over the customer: 抢话, 插话, 打断客户.

    What it flags: an agent turn that starts while a customer turn is under way (more than
    `grace_s` after the customer started) and overlaps it by more than `min_overlap_s`, where
    overlap = min(agent end, customer end) − agent start. One evidence per interruption; span:
    the overlap [agent start, the earlier end]; the message counts them (第 2 次抢话).
    Why: seed 002 (item 26): "在通话过程中,从不与客户抢话、让客户提问或说话的机会"; seed 004:
    "Not meet 6 抢话,插话,打断客户说话。", "会话礼节:不打断客户,给回复时间并允许客户讲述自己的全部".
    Not flagged: agent backchannels (a turn of ≤ `backchannel_chars` 字 that is only
    `backchannels` phrases: 嗯, 对, 好的), agent turns with no words, agent turns more than
    `echo_below_db` under the agent's median turn level (the customer's echo or background
    voices on the agent's channel, which Whisper sometimes writes text into), the customer talking over
    the agent, and short overlaps where the customer was just finishing. Needs one channel per
    party (stereo): on a mixed (mono) call overlapping speech is one voice's turn after
    diarisation and can't be timed, so the rule does not run there (README "Mono").

    Bad:
        C 1.0 6.0 我上个月的账单多扣了五十块钱，我想问一下
        A 3.0 6.5 这个是您开通了流量包
    Good:
        C 1.0 6.0 我上个月的账单多扣了五十块钱，我想问一下
        A 3.0 3.4 嗯
        A 6.5 9.0 您好，这个是您开通了流量包
    """
    if call.mixed:
        return
    customer = call.by(Role.CUSTOMER)
    levels = [t.level_db for t in call.by(Role.AGENT) if t.level_db is not None]
    floor = median(levels) - p.echo_below_db if levels else None
    n = 0
    for a in call.by(Role.AGENT):
        if not key_of(a.text).key:  # VAD heard something, the ASR no words: breath, noise
            continue
        if floor is not None and a.level_db is not None and a.level_db < floor:
            continue  # echo or babble on the agent's channel, whatever the ASR wrote into it
        if han_count(a.text) <= p.backchannel_chars and only(p.backchannels, a):
            continue
        talking = [c for c in customer if c.start + p.grace_s < a.start < c.end]
        if not talking:
            continue
        over = min(a.end, max(c.end for c in talking)) - a.start
        if over > p.min_overlap_s:
            n += 1
            yield Evidence(a.start, a.start + over, f"第 {n} 次抢话：坐席在客户说话时插话，"
                           f"重叠 {over:.1f} 秒", quote=a.text, confidence=turn_confidence(a))
