"""S003 retention_push."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence, Role, Seconds, Turn
from pipeline.rules.registry import lexicon_file, rule
from pipeline.rules.spans import asks, find, is_empty, is_question, turn_confidence
from pipeline.rules.words import pos_words
from pipeline.text import han_count


@dataclass(frozen=True)
class Params:
    max_pushes: int = 2  # seed 000: "挽留是一次起、二次止,第三次挽留将视为强制性销售"
    refusals: Lexicon = lexicon_file("refusals")  # customer: 不需要, 没兴趣 … (DOMAIN.md §3.8)
    retention: Lexicon = lexicon_file("retention")  # agent: 您再考虑一下, 首月免费 … (§3.7)
    selling: Lexicon = lexicon_file("selling")  # agent sales cues: 优惠, 划算, 要不, 套餐 … (§3.7)
    acceptance: Lexicon = lexicon_file("acceptance")  # customer: 那就办吧 … ends the episode
    closings: Lexicon = lexicon_file("closings")  # agent: 不打扰您了, 再见: letting the customer go
    letting_go: Lexicon = lexicon_file("letting_go")  # agent: 没关系, 以后有需要 … (DOMAIN §3.7)
    min_selling: int = 2  # cue score of a push: one strong cue (优惠) or two weak ones (套餐, 元)
    topic_chars: int = 10  # a turn this long that talks about the pitched product goes on selling
    # The customer's reaction tells what an agent turn was: one refused again was a push, what
    # ever its words — when it said ≥ `reaction_chars` 字 (no closing, let-go or answer), or the
    # ASR returned it empty and it lasted ≥ `reaction_lost_s` (a closing takes ~3 s).
    reaction_chars: int = 4
    reaction_lost_s: Seconds = 4.0
    backchannel_chars: int = 2  # a customer 嗯/好/对 (≤ 2 字, no refusal) doesn't split a push
    backchannel_s: Seconds = 1.5  # an empty customer turn shorter than this is a lost 嗯嗯, longer
    # ones are replies the ASR lost (issue #15): they split pushes like any reply


# Refusal by shape, whatever the words: a negation before a verb of wanting, needing or doing
# (不想要, 不打算换, 别给我办, 没这个必要), or "no use for it" as a potential complement (用不上,
# 用不着, 用不到), in a clause that is not itself a question.
_REFUSE = re.compile(r"(不|别)(太|怎么|再|用|想|打算)?(需要|要|用|想|办|考虑|感兴趣|必要|换|开通|"
                     r"升级|买|订|加|打算|参加|试|给我)|没(啥|什么|这个|那个)?(兴趣|必要|需要|打算)|"
                     r"(用|需要)不(上|着|到)")
_NOT_REFUSE = ("不要紧", "不用谢", "不用担心", "不想说")
# A refusal that also asks for something wants an answer (我说了不要，你到底给不给我续宽带):
# an A-not-A question or a request, not a complaint (不要，你怎么这么烦) nor 别给我办.
_ASKS_TOO = re.compile(r"(.)不\1|(?<![别要])(帮我|给我)(?!打)")
# …but not in a clause about what is done already (单位已经给我买过了: a reason to refuse).
_DONE_ALREADY = re.compile(r"已经|早就|早已|之前|以前|过了")


def _asks_too(text: str) -> bool:
    return any(_ASKS_TOO.search(c) and not _DONE_ALREADY.search(c)
               for c in re.split(r"[。！？!?，,；;]+", text))


def refuses(p: Params, turn: Turn) -> bool:
    """A customer turn that turns the offer down: a `refusals` phrase, or the refusal shape."""
    if find(p.refusals, turn):
        return True
    for clause in re.split(r"[。！？!?，,；;]+", turn.text.replace("您", "你")):
        if clause and not is_question(clause) and not any(x in clause for x in _NOT_REFUSE):
            if _REFUSE.search(clause):
                return True
    return False


# Offering to do it for the customer (给您加上, 帮您开一个, 给你换成): product talk, weak.
_OFFER = re.compile(r"(给|帮)(您|你)(加|办|开|升|换|订|装)")


def selling(p: Params, turn: Turn) -> int:
    """How much an agent turn sells: 2 per `retention` phrase or strong cue, 1 per weak cue
    and per offer to do it for the customer (给您加上)."""
    strong = 2 * len(find(p.retention, turn)) + len(_OFFER.findall(turn.text))
    return strong + sum(2 if h.entry.kind == "strong" else 1 for h in find(p.selling, turn))


_CONTRAST = ("不过", "但是", "可是", "其实")
_DONE = re.compile(r"已经.{0,8}(好了|成功|办好|生效)")
# Opening by conceding (行，那给您续宽带): talk about the product that follows is no push by itself.
_CONCEDES = re.compile(r"^(行|好|可以|那好|明白|嗯|没问题)")
# Asking for a yes once more: the turn ends on 好吗/行吗/可以吗/好不好/怎么样 or a bare 吧.
_YES = re.compile(r"(好吗|行吗|可以吗|好不好|行不行|可不可以|怎么样|要不要|吧)[？?！!。，,…]*$")


_NUMBERS = set("零〇一二三四五六七八九十百千万两几半0123456789块元个次")
_GENERIC = {"用户", "客户", "先生", "女士", "小姐", "费用", "时候", "时间", "问题", "情况", "电话",
            "号码", "事情", "东西", "家里", "家庭", "您好", "这边", "那边"}


def topic(turns: list[Turn]) -> frozenset[str]:
    """What the pitch was about: its nouns and product words of two or more characters (宽带,
    千兆, 话费险, 加油包), by jieba part of speech, without people, numbers and generic words."""
    out = set()
    for t in turns:
        for _, _, w, flag in pos_words(t.text):
            if len(w) < 2 or w in _GENERIC or (flag == "m" and set(w) <= _NUMBERS):
                continue
            if flag[0] in "n" and flag != "nr" or flag in ("vn", "eng", "m"):
                out.add(w)
    return frozenset(out)


def _let_go(p: Params, turn: Turn) -> bool:
    return bool(find(p.closings, turn) or find(p.letting_go, turn) or _CONCEDES.match(turn.text)
                or _DONE.search(turn.text))


def pushes(p: Params, turn: Turn, pitch: frozenset[str] = frozenset()) -> bool:
    """An agent turn that goes on selling: a `retention` phrase, or sales cues worth
    `min_selling` in a turn that neither closes (好的，不打扰您了，再见) nor lets the customer go
    (没关系，以后有需要…) without a 不过/但是 that turns it back to the offer."""
    if find(p.retention, turn):
        return True
    if _DONE.search(turn.text):  # 已经给您办好了: reporting what was done, not selling
        return False
    score = selling(p, turn)
    on_topic = (han_count(turn.text) >= p.topic_chars and any(w in turn.text for w in pitch)
                and not _CONCEDES.match(turn.text))
    if score < p.min_selling and not (score and _YES.search(turn.text)) and not on_topic:
        return False
    let_go = find(p.closings, turn) or find(p.letting_go, turn)
    return not let_go or any(w in turn.text for w in _CONTRAST)


@rule("S003", "retention_push", Params)
def check(call: Call, p: Params) -> Iterator[Evidence]:
    """After the customer refuses, the agent pushes the offer a third time: 强制性销售.

    What it flags: from the customer's first refusal, each agent turn that keeps selling is a
    push; push number `max_pushes` + 1 is flagged, on that turn, once per episode. A push is
    described by structure first — a refusal followed by more selling, whatever its words:
    - refusal: a `refusals` phrase, or a negation before a verb of wanting or doing (不想要,
      不打算换, 没必要) or "no use for it" (用不上, 用不着, 用不到) in a clause that is no
      question; it opens an episode only after agent turns with some sales cue (还有其他问题吗
      → 没有了不用了 opens none);
    - selling: a `retention` phrase; or sales cues worth `min_selling` (`selling`: offer,
      benefit, urgency, persuasion, asking again — 优惠, 划算, 机会难得, 要不, 您看 — score 2;
      product and price talk — 套餐, 每月, 元, 给您加上 — score 1), or any cue in a turn that
      asks for a yes again (…好吗/行吗/吧); or `topic_chars` 字 or more about what was pitched
      (the refused offer's nouns: 千兆, 话费险) in a turn that does not open by conceding (行，
      那给您续宽带); never in a turn that closes (不打扰您了，再见) or lets the customer go
      (`letting_go`: 没关系，以后有需要…) unless 不过/但是 turns it back to the offer;
    - not a push: the agent answering the customer's question or request (那多少钱？; 不要，你到
      底给不给我续宽带？); agent turns with only backchannels from the customer between them
      (≤ `backchannel_chars` 字, or an empty turn shorter than `backchannel_s`) are one push.
    - the customer's reaction: an agent turn the customer refuses again was a push, whatever its
      words, when it said ≥ `reaction_chars` 字 that neither close, let go nor answer — or when
      the ASR returned it empty and it lasted ≥ `reaction_lost_s` (issue #15: lost turns).
    A customer `acceptance` (那就办吧) ends the episode.
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
    refused, count, in_push, asked = False, 0, False, False
    pitch: frozenset[str] = frozenset()  # what the offer that was refused was about
    recent: list[Turn] = []  # the agent's last two heard turns: what a refusal answers
    maybe: Turn | None = None  # an agent turn since the last reply that may have been a push
    for turn in call.turns:
        if turn.role is Role.CUSTOMER:
            short = (han_count(turn.text) <= p.backchannel_chars if not is_empty(turn)
                     else turn.duration < p.backchannel_s)  # Whisper drops 嗯嗯 most of all
            if refuses(p, turn) and refused and not in_push and not asked and maybe is not None:
                count += 1  # refused again: what the agent said was a push
                if count == p.max_pushes + 1:
                    yield _evidence(maybe, count)
            if not short or refuses(p, turn):
                maybe = None
            if refuses(p, turn):  # before acceptance: 别给我办 is no 给我办
                offered = not recent or any(selling(p, t) for t in recent)
                if not refused and offered:  # a new episode; later refusals don't restart it
                    refused, count = True, 0
                    pitch = topic([t for t in recent if selling(p, t)])
                asked = is_question(turn.text) or _asks_too(turn.text)
            elif refused and find(p.acceptance, turn):
                refused = False
            elif short:
                continue  # 嗯 / 好 / 对 while the agent talks: the same push goes on
            else:
                asked = asks(turn.text)
            in_push = False
            continue
        if not is_empty(turn):
            recent = [*recent[-1:], turn]
        if not refused or in_push or asked:
            continue
        if not pushes(p, turn, pitch):
            said = han_count(turn.text) >= p.reaction_chars and not _let_go(p, turn)
            if said or (is_empty(turn) and turn.duration >= p.reaction_lost_s):
                maybe = maybe or turn
            continue
        count, in_push, maybe = count + 1, True, None
        if count == p.max_pushes + 1:  # once: the count only grows within an episode
            yield _evidence(turn, count)


def _evidence(turn: Turn, count: int) -> Evidence:
    heard = not is_empty(turn)  # a push known from the customer's reaction only: less sure
    return Evidence(turn.start, turn.end, f"客户拒绝后第 {count} 次挽留，视为强制性销售",
                    quote=turn.text, confidence=turn_confidence(turn) if heard else 0.5)
