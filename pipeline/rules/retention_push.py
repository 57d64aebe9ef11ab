"""S003 retention_push."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import find, turn_confidence
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    max_pushes: int = 2  # seed 000: "挽留是一次起、二次止,第三次挽留将视为强制性销售"
    refusals: Lexicon = lexicon_file("refusals")  # customer: 不需要, 没兴趣 … (DOMAIN.md §3.8)
    retention: Lexicon = lexicon_file("retention")  # agent: 您再考虑一下, 首月免费 … (§3.7)
    acceptance: Lexicon = lexicon_file("acceptance")  # customer: 那就办吧 … ends the episode
    backchannel_chars: int = 2  # a customer 嗯/好/对 (≤ 2 字, no refusal) doesn't split a push


@rule("S003", "retention_push", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """After the customer refuses, the agent pushes the offer a third time: 强制性销售.

    What it flags: from the customer's first refusal (`refusals`), each agent turn with a
    `retention` hit is a push; agent turns with only backchannels (≤ `backchannel_chars` 字, no
    refusal) from the customer between them are one push. Push number `max_pushes` + 1 is
    flagged, on that turn, once per episode; a customer `acceptance` (那就办吧) ends the episode.
    Why: seed 000 (业务质量): "营销过程中进行挽留是一次起、二次止,第三次挽留将视为强制性销售。"
    Not flagged: the first two pushes; offers before any refusal; pushes after the customer
    accepts; the customer's own use of offer words. Refusals count in customer turns only.

    Bad:
        A 1.0 4.0 现在办理还有优惠，首月免费
        C 4.5 5.5 不需要，谢谢
        A 6.0 8.0 您再考虑一下，机会难得
        C 8.5 9.5 真的不用了
        A 10.0 12.0 很多客户都办了，很划算的
        C 12.5 13.5 我说了不要
        A 14.0 16.0 要不先试试，随时可以取消
    Good:
        A 1.0 4.0 现在办理还有优惠，首月免费
        C 4.5 5.5 不需要，谢谢
        A 6.0 8.0 您再考虑一下，机会难得
        C 8.5 9.5 真的不用了
        A 10.0 12.0 好的，不打扰您了，再见
    """
    refused, pushes, in_push = False, 0, False
    for turn in call.turns:
        if turn.role is Role.CUSTOMER:
            if refused and find(p.acceptance, turn):
                refused = False
            elif find(p.refusals, turn):
                if not refused:  # a new episode; later refusals in it don't restart the count
                    refused, pushes = True, 0
            elif han_count(turn.text) <= p.backchannel_chars:
                continue  # 嗯 / 好 / 对 while the agent talks: the same push goes on
            in_push = False
        elif refused and not in_push and find(p.retention, turn):
            pushes, in_push = pushes + 1, True
            if pushes == p.max_pushes + 1:  # once: the count only grows within an episode
                yield Evidence(
                    turn.start,
                    turn.end,
                    f"客户拒绝后第 {pushes} 次挽留，视为强制性销售",
                    quote=turn.text,
                    confidence=turn_confidence(turn),
                )
