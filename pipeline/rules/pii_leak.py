"""W004 pii_leak."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipeline import pii
from pipeline.model import Call, Evidence, Role
from pipeline.rules.registry import rule
from pipeline.rules.spans import text_span

_NAMES = {"mobile": "手机号", "id_card": "身份证号", "bank_card": "银行卡号", "landline": "固定电话"}


@dataclass(frozen=True)
class Params:
    # seed 002 "泄露了客户的隐私"; landline is off: agents read out service numbers (010-…) too
    kinds: tuple[str, ...] = ("mobile", "id_card", "bank_card")
    confidence: float = 0.8  # the ASR mishears digits; the number may not be the customer's

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(pii.KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)} (known: {', '.join(pii.KINDS)})")


@rule("W004", "pii_leak", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent reads out a customer's full phone, ID card or bank card number.

    What it flags: an agent turn with a whole number of a kind in `kinds` (see `pipeline.pii`:
    mobile 11 digits 1[3-9]…, ID card 18 with a birth date or X, bank card 16-19; `landline` can
    be added), in Arabic digits or Chinese numerals (一三八…, 幺), spaced or not, and also when the
    stored transcript is already masked (138****5678 is still eleven digits read out). One
    evidence per number; span: the words of its digits. The quote is masked (`pii.mask`): a
    finding never holds the number itself.
    Why: seed 002 (外呼质检): "在外呼的过程中有意或者无意泄露了客户的隐私"; seed 002: "保护客户隐私".
    Not flagged: a masked or partial read-out (尾号 5678, the last four digits); the customer
    reading their own number; amounts, dates, 工号, order numbers (see `pipeline.pii`).

    Bad:
        C 1.0 3.0 我想改一下套餐
        A 3.5 8.0 您的手机号是13812345678对吗
    Good:
        C 1.0 3.0 我想改一下套餐
        A 3.5 8.0 您是尾号5678的机主对吗
    """
    for t in call.by(Role.AGENT):
        for span in pii.find(t.text):
            if span.kind not in p.kinds:
                continue
            start, end, prob = text_span(t, span.start, span.end)
            yield Evidence(start, end, f"坐席完整读出客户{_NAMES[span.kind]}（{span.digits} 位）",
                           quote=pii.mask(t.text), confidence=round(p.confidence * prob, 3))
