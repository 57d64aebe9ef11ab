"""Personal numbers in Chinese transcripts: find them, and mask them without moving any text.

Whisper writes a number read out digit by digit in Arabic digits ("13812345678", "138 1234 5678",
"138-1234-5678"), in Chinese numerals ("一三八一二三四五六七八", with 幺 for 1 and 两 for 2), or a
mix. A *digit run* is a stretch of digits (0-9, full-width 0-9, 零〇一二三四五六七八九幺两, and `*`
for a digit that is already masked), with up to three spaces, commas, 、 or dashes between digits.
Runs are classified by how many digits were spoken (masked ones included: "138****5678" is still
eleven digits read out):

| kind        | digits                                                          | `mask` keeps     |
|-------------|-----------------------------------------------------------------|------------------|
| `mobile`    | 11, starting 1[3-9]                                             | first 3 + last 4 |
| `id_card`   | 18 with a plausible birth date (yyyymmdd from digit 7), or X last | last 4         |
| `bank_card` | 16-19 (18 only without a birth date)                           | last 4           |
| `landline`  | 10-12 starting 0 (area code); 7-8 starting 2-9 after 电话/座机/号码 | last 4       |

What is kept is what a masked read-out keeps ("尾号 5678", "138****5678" on an SMS), so a
masked transcript still lets an inspector check the customer's number against the CRM.

Not personal numbers: runs of other lengths (工号 1024, 10086, 400 numbers, order numbers);
numbers followed by a unit (二十五元 is not even a run — 十 is not a digit; 2000000元, 8 点, 5 月);
thousands-grouped amounts (2,000,000); 8-digit dates (20230512); numbers right after 订单/单号/
工号/编号/流水号/金额. Numbers read one after another with only separators between them form one
run that fits no kind; it is then split between digit groups to cover the most digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGIT = "0-9０-９零〇一二三四五六七八九幺两*＊"
_SEPS = " \t,，、-－—–"
_SEP = "[" + re.escape(_SEPS) + "]"
_RUN = re.compile(rf"[{_DIGIT}](?:{_SEP}{{0,3}}[{_DIGIT}])*(?:{_SEP}{{0,2}}[xX])?")
_VALUE = dict(zip("零〇一二三四五六七八九幺两＊", "0012345678912*")) | {
    chr(0xFF10 + i): str(i) for i in range(10)
}
_UNIT = re.compile(r"\s*([元块角毛分万亿千百个次年月日点秒岁天%％倍位]|号(?!码))")
_NOT_PII_BEFORE = re.compile(r"(订单|单号|工号|编号|流水号|金额)[^\d]{0,3}$")
_PHONE_BEFORE = re.compile(r"(电话|座机|号码|固话|联系方式)")
_DATE = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")
_GROUP = re.compile("[^" + re.escape(_SEPS) + "]+")
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")
KINDS = ("mobile", "id_card", "bank_card", "landline")
# A number read out after a cue word (手机号, 身份证 …) that the ASR got only in part ("1-305-728-6",
# three digits lost) is still the customer's: rule W004 flags it, and it is masked like the rest.
_CUED_MIN = 7  # more digits than a 尾号 (4) or 后六位 (6)
_CUED_WINDOW = 16  # characters from the cue's end to the first digit
_SERVICE = ("400", "800", "95", "96", "10", "12")  # hotlines: 400-…, 95588, 10086, 12345
_NOT_PERSONAL = re.compile(r"订单|单号|工单|受理|工号|编号|流水|金额|快递|运单|客服|热线|服务")


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # text indices [start, end), first digit to last digit (or X)
    end: int
    kind: str  # one of KINDS
    digits: int  # digits spoken, masked ones included
    hidden: int  # digits already written as `*`

    @property
    def masked(self) -> bool:
        """Already masked: at least as many `*` as `mask` would write."""
        return self.hidden >= self.digits - sum(_kept(self.kind))


def _kept(kind: str) -> tuple[int, int]:
    """Digits a masked read-out keeps: (first, last). A cued partial number keeps its first
    digit, which tells W004 a mobile (1…) from a landline."""
    return {"mobile": (3, 4), "cued": (1, 4)}.get(kind, (0, 4))


def _classify(ds: str, before: str, after: str, has_x: bool) -> str | None:
    n = len(ds)
    if _UNIT.match(after) or _NOT_PII_BEFORE.search(before):
        return None
    if has_x:
        return "id_card" if n == 18 else None
    if n == 11 and re.match(r"1[3-9*]", ds):
        return "mobile"
    if n == 18 and (_DATE.match(ds[6:14]) or "*" in ds[6:14]):
        return "id_card"
    if 16 <= n <= 19:
        return "bank_card"
    if 10 <= n <= 12 and ds[0] == "0":
        return "landline"
    if 7 <= n <= 8 and ds[0] in "23456789*" and not _DATE.fullmatch(ds):
        return "landline" if _PHONE_BEFORE.search(before[-8:]) else None
    return None


def _span(text: str, a: int, b: int) -> Span | None:
    run = text[a:b]
    has_x = run[-1] in "xX"
    ds = "".join(_VALUE.get(c, c) for c in run if c not in _SEPS and c not in "xX")
    if has_x and len(ds) != 17:  # an X after anything but 17 digits is just a letter
        run, has_x = run[:-1].rstrip(_SEPS), False
    if not run or _THOUSANDS.fullmatch(run):
        return None
    digits = ds + ("X" if has_x else "")
    kind = _classify(digits, text[:a], text[a + len(run) :], has_x)
    return Span(a, a + len(run), kind, len(digits), ds.count("*")) if kind else None


def _spans(text: str, a: int, b: int) -> list[Span]:
    """The run [a, b) as one number, or else as several read back to back: the split between
    digit groups (separators) that covers the most digits ("138 1234 5678 139 8765 4321")."""
    whole = _span(text, a, b)
    if whole:
        return [whole]
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, a, b)]
    best: list[tuple[int, list[Span]]] = [(0, [])] * (len(groups) + 1)  # from group i on
    for i in range(len(groups) - 1, -1, -1):
        best[i] = best[i + 1]
        for j in range(i, len(groups)):
            span = (i, j) != (0, len(groups) - 1) and _span(text, groups[i][0], groups[j][1])
            if span and span.digits + best[j + 1][0] > best[i][0]:
                best[i] = (span.digits + best[j + 1][0], [span, *best[j + 1][1]])
    return best[0][1]


def find(text: str) -> list[Span]:
    """Personal numbers in `text`, in order (see the module doc for what counts)."""
    return [s for m in _RUN.finditer(text) for s in _spans(text, m.start(), m.end())]


def cued(text: str, cues: tuple[str, ...]) -> list[Span]:
    """Runs of at least `_CUED_MIN` digits shortly after a cue word that `find` does not already
    cover: a number being read out, whole or not. Hotlines and order or work-order numbers are not."""
    ends = sorted(m.end() for c in cues if c for m in re.finditer(re.escape(c), text))
    whole = find(text)
    out = []
    for m in _RUN.finditer(text):
        ds = "".join(_VALUE.get(c, c) for c in m.group() if c not in _SEPS and c not in "xX")
        before = [e for e in ends if e <= m.start() <= e + _CUED_WINDOW]
        if len(ds) < _CUED_MIN or not before or _UNIT.match(text, m.end()):
            continue
        if any(w.start < m.end() and m.start() < w.end for w in whole):
            continue
        if _NOT_PERSONAL.search(text[max(0, before[-1] - 8) : m.start()]) or ds.startswith(_SERVICE):
            continue
        out.append(Span(m.start(), m.end(), "cued", len(ds), ds.count("*")))
    return out


def mask(text: str, cues: tuple[str, ...] = ()) -> str:
    """`text` with every personal number's hidden digits replaced by `*`, one for one; with
    `cues`, also numbers read out after a cue word that the ASR got only in part (`cued`).

    Length-preserving (each digit is one character, separators stay), so a turn's word timings
    still line up with its text; idempotent (masking masked text changes nothing).
    """
    chars = list(text)
    for span in find(text) + (cued(text, cues) if cues else []):
        head, tail = _kept(span.kind)
        idx = [i for i in range(span.start, span.end) if text[i] not in _SEPS]
        for i in idx[head : len(idx) - tail]:
            chars[i] = "*"
    return "".join(chars)


def mask_call(call, cues: tuple[str, ...] = ()):  # -> Call (typed loosely: no data-model import)
    """The call with every turn's personal numbers masked, words re-cut to the same lengths."""
    from dataclasses import replace

    turns = []
    for t in call.turns:
        masked = mask(t.text, cues)
        if masked == t.text:
            turns.append(t)
            continue
        words, pos = [], 0
        for w in t.words:
            words.append(replace(w, text=masked[pos : pos + len(w.text)]))
            pos += len(w.text)
        turns.append(replace(t, text=masked, words=tuple(words) if pos == len(masked) else t.words))
    return replace(call, turns=tuple(turns))
