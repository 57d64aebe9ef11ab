"""How upset the customer is, turn by turn: cues in the words, and in the voice against the
customer's own baseline in the call. Pure functions of a call's turns: a rescore reproduces them.

Text cues (`lexicons/emotion.txt`, by `kind`): a complaint or escalation *threat* (我要投诉, 打
12315, 找你们领导), negative sentiment (太差了, 骗人), a refund demand, intensifiers (到底, 凭什么),
the customer asking the same thing again (similar text within the call, or 我都问了几遍), and rising
intensity (！, a word said twice over: 快点快点). Voice cues, each against the median of the
customer's own turns in this call (a loud line or a high voice is nobody's anger): louder by
`loud_db`, pitch higher by `pitch_st` semitones, a wider pitch range, faster speech, and talking
over the agent. A turn's score is 1 − Π(1 − weight) over its cues (`WEIGHTS`), so one weak cue
stays low and agreeing cues add up.

A complaint word is a threat only by structure, never by itself: 投诉电话是多少 and 怎么投诉 ask for
information (an info noun after it, a question word before it), 不投诉了 is negated, 上次投诉的事
refers to the past; 我要投诉, 投诉你们, 我去12315 and a bare 投诉！ closing a clause are threats.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from statistics import median

from pipeline.lexicon import Hit, Lexicon
from pipeline.memo import by_identity
from pipeline.model import Call, Role, Turn
from pipeline.text import Keyed, han_count, key_of

# Cue code → weight in the turn score; the codes are stored in `turns.emotion_cues`.
WEIGHTS = {"threat": 0.6, "escalation": 0.5, "negative": 0.35, "demand": 0.15, "intensity": 0.15,
           "repeat": 0.25, "exclaim": 0.2, "loud": 0.3, "high_pitch": 0.25, "wide_pitch": 0.1,
           "fast": 0.1, "overlap": 0.15}
LABELS = {"threat": "表示要投诉", "escalation": "要求找领导", "negative": "负面情绪词",
          "demand": "要求退款/赔偿", "intensity": "质问语气", "repeat": "重复提问",
          "exclaim": "语气加重", "loud": "音量升高", "high_pitch": "音调升高",
          "wide_pitch": "语调起伏大", "fast": "语速加快", "overlap": "抢着说话"}
VOICE = ("loud", "high_pitch", "wide_pitch", "fast", "overlap")
REPLY_KINDS = ("soothe", "followup", "argue")  # agent turns' codes (lexicons/deescalation.txt)

_NEGATION = ("不", "没", "别", "甭", "未")
_MARKERS = ("要", "会", "就", "去", "得", "想", "让", "必须", "一定", "肯定", "马上", "立刻", "准备", "打算",
            "直接", "已经", "还要", "打", "找", "告", "到", "向", "跟")
_TARGETS = ("你们", "你", "他们", "他", "这", "到底")
_INFO_AFTER = ("电话", "热线", "号码", "渠道", "方式", "流程", "部门", "入口", "地址", "网址",
               "是多少", "多少", "怎么", "在哪", "是什么", "是谁", "的电话")
_INFO_BEFORE = ("怎么", "如何", "哪里", "在哪", "哪儿", "哪个", "什么", "可以", "能不能", "能否")
_COURTESY = ("谢谢", "感谢", "再见", "不客气", "辛苦")
_REPEAT_UNIT = re.compile(r"(.{2,4})\1+")
_SKIP_REPEAT = set("嗯啊哦对好是谢喂哈呃行")  # 嗯嗯, 对对对: listening, not intensity
_SKIP_UNITS = ("好的", "对的", "是的", "可以", "没事", "知道", "明白", "没有")  # 好的好的


@dataclass(frozen=True)
class Options:
    """Voice thresholds, each against the customer's own median in the call."""

    loud_db: float = 6.0  # twice the sound pressure; the same bar as V002 loudness (issue #15)
    pitch_st: float = 2.0  # ~12 % higher F0; anger raises mean F0 by ~3–7 semitones [ind]
    range_st: float = 3.0  # a pitch spread this much wider than usual
    rate_ratio: float = 1.3  # 30 % more 字/秒 than the customer's median turn
    overlap_s: float = 1.0  # talking over the agent this long (the T004 bar, other way round)
    min_turns: int = 3  # customer turns needed for a baseline at all
    min_rate_chars: int = 4  # turns shorter than this have no reliable speech rate
    min_voice_s: float = 1.0  # shorter: too few frames, and where a mono call's diarisation slips
    repeat_similarity: float = 0.5  # character-bigram Dice of two customer questions
    upset: float = 0.35  # a turn scoring this much is "upset" (one strong or two weaker cues)


@dataclass(frozen=True)
class Cues:
    words: Lexicon  # lexicons/emotion.txt (customer)
    replies: Lexicon  # lexicons/deescalation.txt (agent)


@dataclass(frozen=True, slots=True)
class State:
    """One customer turn's state: score 0–1, the cues behind it, the words that showed them."""

    turn: Turn
    score: float
    codes: tuple[str, ...]
    quote: str = ""  # the threat / negative words, for messages

    @property
    def upset(self) -> bool:
        return self.score >= Options.upset


def _clause(k: Keyed, i: int, j: int) -> tuple[int, int]:
    a = max((s for s in k.clause_starts if s <= i), default=0)
    b = min((e for e in k.clause_ends if e >= j), default=len(k.key))
    return a, b


def is_threat(k: Keyed, h: Hit) -> bool:
    """Whether a complaint/escalation hit states an intention (structure first, see module doc)."""
    a, b = _clause(k, h.start, h.end)
    before, after = k.key[max(a, h.start - 4) : h.start], k.key[h.end : b]
    if any(before.endswith(n) or before[-2:-1] == n for n in _NEGATION):
        return False  # 不投诉了, 没投诉, 不会投诉
    if any(after.startswith(w) for w in _INFO_AFTER) or any(w in before[-3:] for w in _INFO_BEFORE):
        return False  # 投诉电话是多少, 怎么投诉
    if h.entry.phrase[0] in "找叫让" or any(m in before for m in _MARKERS) or any(
        after.startswith(t) for t in _TARGETS
    ):
        return True  # 我要投诉, 去12315, 投诉你们, 叫你们经理来
    return h.end == b and not after  # a bare 投诉！ closing its clause; 投诉的事 is a reference


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)}


def _similar(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def _asks(text: str) -> bool:
    t = text.rstrip(" 。.！!，,")
    return bool(t) and (t[-1] in "？?吗么呢" or any(w in t for w in ("什么时候", "怎么", "为什么", "多少",
                                                                      "多久", "哪", "有没有", "能不能")))


def text_cues(turn: Turn, earlier: list[Turn], words: Lexicon, o: Options) -> tuple[set[str], str]:
    """Cue codes of a customer turn's words, and the quote that showed the strongest."""
    k = key_of(turn.text)
    codes, quote = set(), ""
    for h in words.find(k):
        kind = h.entry.kind
        if kind in ("complaint", "escalation"):
            if is_threat(k, h):
                codes.add("threat" if kind == "complaint" else "escalation")
                quote = quote or h.entry.phrase
        elif kind in ("negative", "demand", "intensity", "repeat"):
            codes.add(kind)
            quote = quote or (h.entry.phrase if kind == "negative" else "")
    courteous = any(w in k.key for w in _COURTESY)  # 好的，谢谢！ is warmth, not anger
    if (not courteous and ("！" in turn.text or "!" in turn.text)) or any(
        not set(m.group(1)) <= _SKIP_REPEAT and m.group(1) not in _SKIP_UNITS
        for m in _REPEAT_UNIT.finditer(k.key)
    ):
        codes.add("exclaim")
    if len(k.key) >= 4 and _asks(turn.text) and any(
        _similar(k.key, key_of(e.text).key) >= o.repeat_similarity for e in earlier if len(e.text) >= 4
    ):
        codes.add("repeat")
    return codes, quote


@dataclass(frozen=True, slots=True)
class Baseline:
    level_db: float | None
    pitch_hz: float | None
    pitch_range_st: float | None
    rate: float | None  # 字/秒


def _med(values: list[float], o: Options) -> float | None:
    return median(values) if len(values) >= o.min_turns else None


def _rate(t: Turn, o: Options) -> float | None:
    n = han_count(t.text)
    return n / t.duration if n >= o.min_rate_chars and t.duration >= 1.0 else None


def baseline(turns: tuple[Turn, ...], o: Options) -> Baseline:
    def vals(get) -> list[float]:
        return [v for t in turns if (v := get(t)) is not None]

    return Baseline(_med(vals(lambda t: t.level_db), o), _med(vals(lambda t: t.pitch_hz), o),
                    _med(vals(lambda t: t.pitch_range_st), o), _med(vals(lambda t: _rate(t, o)), o))


def voice_cues(turn: Turn, base: Baseline, agent: tuple[Turn, ...], o: Options,
               overlaps: bool = True) -> set[str]:
    """Voice cue codes of a customer turn against the customer's own baseline."""
    codes = set()
    long = turn.duration >= o.min_voice_s
    if long and base.level_db is not None and turn.level_db is not None and turn.level_db - base.level_db >= o.loud_db:
        codes.add("loud")
    if long and base.pitch_hz and turn.pitch_hz and 12 * math.log2(turn.pitch_hz / base.pitch_hz) >= o.pitch_st:
        codes.add("high_pitch")
    if (long and base.pitch_range_st is not None and turn.pitch_range_st is not None
            and turn.pitch_range_st - base.pitch_range_st >= o.range_st):
        codes.add("wide_pitch")
    rate = _rate(turn, o)
    if base.rate and rate and rate / base.rate >= o.rate_ratio:
        codes.add("fast")
    if overlaps and any(a.start < turn.start < a.end and min(a.end, turn.end) - turn.start >= o.overlap_s
                        for a in agent):
        codes.add("overlap")  # the customer cut in while the agent was talking
    return codes


def score(codes: set[str] | tuple[str, ...]) -> float:
    keep = 1.0
    for c in codes:
        keep *= 1.0 - WEIGHTS.get(c, 0.0)
    return round(1.0 - keep, 3)


@by_identity(maxsize=64)
def states(call: Call, words: Lexicon, o: Options = Options()) -> tuple[State, ...]:
    """The state of every customer turn with words or voice, in call order."""
    customer, agent = call.by(Role.CUSTOMER), call.by(Role.AGENT)
    base = baseline(customer, o)
    out, earlier = [], []
    for t in customer:
        codes, quote = text_cues(t, earlier, words, o)
        codes |= voice_cues(t, base, agent, o, overlaps=not call.mixed)
        ordered = tuple(c for c in WEIGHTS if c in codes)
        out.append(State(t, score(ordered), ordered, quote))
        if t.text:
            earlier.append(t)
    return tuple(out)


_REBUTTALS = ("不是", "不对", "没有的事", "不可能", "那是")
# After a rebuttal, the customer as the one at fault: 你当时…, 你自己…, 你没…, 你搞错了 (keyed: 您 → 你)
_BLAME = re.compile(r"你(自己|当时|明明|非要|没|不|搞错|弄错|看错|记错|错)")


def reply_codes(turn: Turn, replies: Lexicon) -> tuple[str, ...]:
    """What an agent turn does for an upset customer: soothe, followup, argue (lexicon kinds); also
    argue for a rebuttal that blames the customer without an apology (不是，你当时同意了的)."""
    k = key_of(turn.text)
    kinds = {h.entry.kind for h in replies.find(k)}
    if "soothe" not in kinds and k.key.startswith(_REBUTTALS) and _BLAME.search(k.key):
        kinds.add("argue")
    return tuple(k for k in REPLY_KINDS if k in kinds)


@lru_cache(maxsize=1)
def default_cues() -> Cues:
    """The install's `lexicons/emotion.txt` and `deescalation.txt` (what ingest stores per turn)."""
    from pipeline import lexicon
    from pipeline.config import ROOT

    return Cues(lexicon.load(ROOT / "lexicons" / "emotion.txt"),
                lexicon.load(ROOT / "lexicons" / "deescalation.txt"))


# How long after an upset customer turn an agent turn counts as the reply (complaint.episodes).
REPLY_WINDOW_S = 15.0


def annotate(call: Call, cues: Cues | None = None) -> Call:
    """The call with `emotion` / `emotion_cues` set: customer turns their state, agent turns that
    start within `REPLY_WINDOW_S` of an upset customer turn their reply codes (soothe, followup,
    argue), so the per-call summary (complaint.outlook) needs no lexicon; other agent turns none
    (nothing reads them, and looking every agent turn up was a tenth of a rescore)."""
    cues = cues or default_cues()
    by_id = {s.turn.id: s for s in states(call, cues.words)}
    upset = [s.turn for s in by_id.values() if s.upset]
    out = []
    for t in call.turns:
        if t.id in by_id:
            s = by_id[t.id]
            t = replace(t, emotion=s.score, emotion_cues=",".join(s.codes))
        else:
            answers = any(u.start < t.start <= u.end + REPLY_WINDOW_S for u in upset)
            codes = reply_codes(t, cues.replies) if answers else ()
            t = replace(t, emotion=None, emotion_cues=",".join(codes))
        out.append(t)
    return replace(call, turns=tuple(out))
