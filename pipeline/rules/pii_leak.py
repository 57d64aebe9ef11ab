"""W004 pii_leak."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline import pii
from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds, Turn
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import key_of, text_span
from pipeline.text import is_han

_NAMES = {"mobile": "手机号", "id_card": "身份证号", "bank_card": "银行卡号", "landline": "固定电话"}


@dataclass(frozen=True)
class Params:
    # seed 002 "泄露了客户的隐私"; landline is off: agents read out service numbers (010-…) too
    kinds: tuple[str, ...] = ("mobile", "id_card", "bank_card")
    confidence: float = 0.8  # the ASR mishears digits; the number may not be the customer's
    cues: Lexicon = lexicon_file("pii_cues")  # 手机号, 身份证, 卡号 …: a number is being read out
    min_cued_digits: int = 7  # after a cue: more than a 尾号 (4) or 后六位 (6) — issue #15
    cue_window: int = 16  # characters from a cue's end to the first digit (…号码，我跟您核对一下，是…)
    join_gap_s: Seconds = 1.5  # a read-out paused between digit groups is split into VAD turns
    lossy_confidence: float = 0.6  # how sure a cued, incomplete number is a full read-out

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(pii.KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)} (known: {', '.join(pii.KINDS)})")


_RUN = re.compile(r"[0-9０-９零〇一二三四五六七八九幺两*＊](?:[\s,，、\-－—–.·]{0,3}"
                  r"[0-9０-９零〇一二三四五六七八九幺两*＊])*(?:[\s\-]?[xX])?")
_DIGIT = re.compile(r"[0-9０-９零〇一二三四五六七八九幺两*＊xX]")
_FIRST = dict(zip("零〇一二三四五六七八九幺两０１２３４５６７８９", "001234567891201234567891"))
_UNIT = re.compile(r"\s*[元块角毛分万亿千百个次年月日点秒岁天%％倍位]")
_NOT_PERSONAL = re.compile(r"订单|单号|工单|受理|工号|编号|流水|金额|快递|运单|客服|热线|服务")
_SERVICE = ("400", "800", "95", "96", "10", "12")  # hotlines: 400-…, 95588, 10086, 12345


def _stretches(call: Call, gap: Seconds) -> Iterator[list[Turn]]:
    """Runs of agent turns no more than `gap` apart with no customer words between them."""
    group: list[Turn] = []
    for t in call.turns:
        if t.role is Role.CUSTOMER:
            if key_of(t.text).key and group:
                yield group
                group = []
        elif group and t.start - group[-1].end > gap:
            yield group
            group = [t]
        else:
            group.append(t)
    if group:
        yield group


def _cued(p: Params, turns: list[Turn]) -> Iterator[tuple[Turn, int, int, str, int, Turn, int]]:
    """(turn, start, end, kind, digits, last turn, end in it) of cued read-outs no whole-number
    match covers; a read-out split over turns ends in a later turn than it starts."""
    text, where = "", []  # the stretch as one text, and (offset, turn) of each turn in it
    for t in turns:
        where.append((len(text) + (1 if text else 0), t))
        text = f"{text} {t.text}" if text else t.text
    k = key_of(text)
    text = by_sound(text)
    cues = [(k.source_span(h.start, h.end)[1], h.entry.kind) for h in p.cues.find(k)]
    for m in _RUN.finditer(text):
        digits = _DIGIT.findall(m.group())
        before = [(end, kind) for end, kind in cues if end <= m.start() <= end + p.cue_window]
        if len(digits) < p.min_cued_digits or not before or _UNIT.match(text, m.end()):
            continue
        end, kind = before[-1]
        first = "".join(_FIRST.get(c, c) for c in m.group() if _DIGIT.match(c))
        if _NOT_PERSONAL.search(text[max(0, end - 8) : m.start()]) or first.startswith(_SERVICE):
            continue
        if kind == "phone":
            kind = "mobile" if first.startswith("1") else "landline"
        offset, turn = next((o, t) for o, t in reversed(where) if o <= m.start())
        last_offset, last = next((o, t) for o, t in reversed(where) if o < m.end())
        a, b = m.start() - offset, min(m.end() - offset, len(turn.text))
        if any(s.start < b and a < s.end and s.kind in p.kinds for s in pii.find(turn.text)):
            continue  # a whole number: reported by the exact path
        whole = pii.find(m.group())
        kind = whole[0].kind if len(whole) == 1 and whole[0].kind != "landline" else kind
        yield turn, a, b, kind, len(digits), last, m.end() - last_offset


_SOUNDS = {"ling": "0", "yi": "1", "yao": "1", "er": "2", "liang": "2", "san": "3", "si": "4",
           "wu": "5", "liu": "6", "qi": "7", "ba": "8", "jiu": "9"}


def by_sound(text: str) -> str:
    """`text` with characters the ASR wrote for a digit's sound (要 for 幺, 散 for 三, 司 for 四)
    turned into that digit, where digits stand on both sides of them (一三八一二散四…). Same
    length, so positions still point into the original text."""
    from pipeline.text import pinyin

    chars = list(text)
    digit = [bool(_DIGIT.match(c)) for c in chars]
    sound = [not d and is_han(c) and pinyin(c)[0] in _SOUNDS for c, d in zip(chars, digit)]
    for i in range(1, len(chars) - 1):
        left, right = digit[i - 1] or sound[i - 1], digit[i + 1] or sound[i + 1]
        if sound[i] and left and right and (digit[i - 1] or digit[i + 1]):
            chars[i] = _SOUNDS[pinyin(chars[i])[0]]
    return "".join(chars)


def _mask(text: str, a: int, b: int, kind: str) -> str:
    """Hide the run's digits but what a masked read-out keeps (as `pii.mask`): a whole mobile's
    first three and last four; the first digit and last four of a number read out in part."""
    sounded = by_sound(text)
    idx = [i for i in range(a, b) if _DIGIT.match(sounded[i])]
    head = 3 if kind == "mobile" and len(idx) >= 11 else 1
    hide = set(idx[head : max(len(idx) - 4, head)])
    return "".join("*" if i in hide else c for i, c in enumerate(text))


@rule("W004", "pii_leak", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """The agent reads out a customer's full phone, ID card or bank card number.

    What it flags: (a) an agent turn with a whole number of a kind in `kinds` (see
    `pipeline.pii`: mobile 11 digits 1[3-9]…, ID card 18 with a birth date or X, bank card 16-19;
    `landline` can be added), in Arabic digits or Chinese numerals (一三八…, 幺), spaced or not,
    and also when the stored transcript is already masked (138****5678 is still eleven digits
    read out); (b) a number plainly being read out that the ASR got only in part: a run of at
    least `min_cued_digits` digits (Arabic and Chinese mixed, any separators: 1-305-728-6) within
    `cue_window` characters after a `cues` word (手机号, 电话, 身份证, 卡号 …), also when the VAD
    split the read-out into turns less than `join_gap_s` apart, or wrote a digit as a character
    of the same sound between other digits (要 for 幺, 散 for 三: `by_sound`); the cue names the
    kind (电话 + a run starting with 1 is a mobile) unless the digits make a whole number. One evidence per number; span: the words of its digits.
    The quote is masked: a finding never holds the number itself.
    Why: seed 002 (外呼质检): "在外呼的过程中有意或者无意泄露了客户的隐私"; seed 002: "保护客户隐私".
    Not flagged: a masked or partial read-out (尾号 5678, the last four digits; 后六位); the
    customer reading their own number; amounts, dates, 工号, order numbers (see `pipeline.pii`),
    hotlines (400…, 95…, 10086) and numbers after 订单/快递/工号 even with a cue.

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
    for turns in _stretches(call, p.join_gap_s):
        for t, a, b, kind, n, last, b2 in _cued(p, turns):
            if kind not in p.kinds:
                continue
            start, end, prob = text_span(t, a, b)
            if last is not t:
                end = text_span(last, 0, b2)[1]
            yield Evidence(start, end, f"坐席读出客户{_NAMES[kind]}（识别出 {n} 位，疑似完整读出）",
                           quote=_mask(pii.mask(t.text), a, b, kind),
                           confidence=round(p.lossy_confidence * prob, 3))
