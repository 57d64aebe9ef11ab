"""Which lexicon entries and rules earn their keep, measured by the inspectors' decisions.

Pure: findings (rows with `entry`), decisions and lexicons in, a `Report` out; `callqa lexicon
stats` and the workbench's 词条统计 page print the same one.

- Per entry of every lexicon a rule records entries from (`ATTRIBUTED`): findings it produced
  ("hits"), calls, confirmed / rejected decisions, precision = confirmed / (confirmed + rejected)
  with a Wilson 95 % interval, and its share of all suggested points (a finding that several
  entries made, W002's, splits its points and counts a decision for each). Entries that never
  fired are listed too: every entry of the files, not only those seen.
- Per rule: precision as above, recall = confirmed / (confirmed + missed deductions inspectors
  added for the rule's items), each with its interval.
- Candidates to add: frequent agent n-grams that sound like an entry (same length, every syllable
  a near-homophone, `lexicon.similar`) but that the lexicon does not match, and phrases inspectors
  typed into missed-deduction comments (quoted, or the whole comment when it is a short phrase).

Decisions count once per inspector and finding; a decision whose finding changed or went since
(需复核) counts for nothing, as in pipeline/review/quality.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.lexicon import Lexicon, similar
from pipeline.review.index import fingerprint
from pipeline.text import keyed, normalize, pinyin

# rule name → the param holding the lexicon whose entries it records in `Finding.entry`.
ATTRIBUTED = {"forbidden_phrase": "phrases", "filler_rate": "fillers"}
Row = Mapping[str, Any]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval of k successes in n (None when n = 0): sound at small n and at 0/n."""
    if n == 0:
        return None
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


@dataclass(frozen=True, slots=True)
class Ratio:
    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.k, self.n)


@dataclass(frozen=True, slots=True)
class EntryStats:
    lexicon: str
    phrase: str
    where: str  # file name:line
    hits: int
    calls: int
    confirmed: int
    rejected: int
    points: float
    share: float  # of all suggested points

    @property
    def precision(self) -> Ratio:
        return Ratio(self.confirmed, self.confirmed + self.rejected)


@dataclass(frozen=True, slots=True)
class RuleStats:
    rule: str
    rule_name: str
    findings: int
    confirmed: int
    rejected: int
    missed: int

    @property
    def precision(self) -> Ratio:
        return Ratio(self.confirmed, self.confirmed + self.rejected)

    @property
    def recall(self) -> Ratio:
        return Ratio(self.confirmed, self.confirmed + self.missed)


@dataclass(frozen=True, slots=True)
class Candidate:
    phrase: str
    count: int
    lexicon: str
    why: str  # "sound": sounds like `near`; "comment": typed in a missed deduction on `near` (item)
    near: str


@dataclass(frozen=True, slots=True)
class Report:
    entries: tuple[EntryStats, ...]  # fired first (most points), then the never-fired
    rules: tuple[RuleStats, ...]
    candidates: tuple[Candidate, ...]
    findings: int
    points: float
    decisions: int  # valid decisions counted

    @property
    def silent(self) -> tuple[EntryStats, ...]:
        return tuple(e for e in self.entries if not e.hits)


def compute(findings: Iterable[Row], decisions: Iterable[Row], lexicons: Mapping[str, Lexicon],
            rule_of_item: Mapping[str, tuple[str, str]], lexicon_of_rule: Mapping[str, str],
            agent_texts: Iterable[str] = (), min_count: int = 3, top: int = 20) -> Report:
    """`lexicons`: name → Lexicon for the attributed rules; `rule_of_item`: item → (code, name);
    `lexicon_of_rule`: rule name → lexicon name; `agent_texts`: agent turns, for candidates."""
    findings = list(findings)
    by_id = {f["id"]: f for f in findings}
    total = sum(f["points"] for f in findings)
    verdicts: dict[str, Counter[str]] = {}
    missed: list[Row] = []
    counted = 0
    for d in decisions:
        if d["verdict"] == "missed":
            missed.append(d)
            counted += 1
        elif d["verdict"] in ("confirmed", "rejected") and _valid(d, by_id):
            verdicts.setdefault(d["finding_id"], Counter())[d["verdict"]] += 1
            counted += 1
    per_entry: dict[tuple[str, str], list[float]] = {}  # → [hits, confirmed, rejected, points]
    calls: dict[tuple[str, str], set[str]] = {}
    per_rule: dict[str, list[int]] = {}  # code → [findings, confirmed, rejected, missed]
    names = {code: name for code, name in rule_of_item.values()}
    for f in findings:
        names.setdefault(f["rule"], f["rule_name"])
        v = verdicts.get(f["id"], Counter())
        r = per_rule.setdefault(f["rule"], [0, 0, 0, 0])
        r[0], r[1], r[2] = r[0] + 1, r[1] + v["confirmed"], r[2] + v["rejected"]
        lex = lexicon_of_rule.get(f["rule_name"])
        phrases = [p for p in (f.get("entry") or "").split("|") if p]
        for p in phrases if lex else ():
            e = per_entry.setdefault((lex, p), [0, 0, 0, 0.0])
            e[0] += 1
            e[1] += v["confirmed"]
            e[2] += v["rejected"]
            e[3] += f["points"] / len(phrases)
            calls.setdefault((lex, p), set()).add(f["call_id"])
    for d in missed:
        code = rule_of_item.get(d["item"], (d["item"], ""))[0]
        per_rule.setdefault(code, [0, 0, 0, 0])[3] += 1
    entries = []
    listed: set[tuple[str, str]] = set()
    for name, lex in lexicons.items():
        for e in lex.entries:
            listed.add((name, e.phrase))
            h, c, r, pts = per_entry.get((name, e.phrase), [0, 0, 0, 0.0])
            entries.append(EntryStats(name, e.phrase, e.where.rsplit("/", 1)[-1], int(h), len(calls.get((name, e.phrase), ())),
                                      int(c), int(r), round(pts, 4), pts / total if total else 0.0))
    for (name, phrase), (h, c, r, pts) in per_entry.items():  # fired, since deleted from the file
        if (name, phrase) not in listed:
            entries.append(EntryStats(name, phrase, "（已不在词库中）", int(h), len(calls[(name, phrase)]),
                                      int(c), int(r), round(pts, 4), pts / total if total else 0.0))
    entries.sort(key=lambda e: (-e.points, -e.hits, e.lexicon, e.where))
    rules = tuple(RuleStats(code, names.get(code, ""), *v) for code, v in sorted(per_rule.items()))
    cands = sounds_like(agent_texts, lexicons, min_count, top) + typed(missed, lexicons, rule_of_item,
                                                                       lexicon_of_rule, top)
    return Report(tuple(entries), rules, tuple(cands), len(findings), round(total, 4), counted)


def _valid(d: Row, by_id: Mapping[str, Row]) -> bool:
    if "fingerprint" in d:  # from review.db: the finding as decided must still be there
        f = by_id.get(d["finding_id"])
        return f is not None and fingerprint(f) == d["fingerprint"]
    return not d.get("needs_rereview")  # from the OUT/reviews export


# Runs of word characters (Han) without digits or numerals: amounts and read-out numbers
# (四八, 九十) sound like fillers (是吧, 就是) often enough to crowd out every real candidate.
_WORDS = re.compile(r"[^\W\d_a-zA-Z零一二三四五六七八九十百千万两幺]+")


def sounds_like(texts: Iterable[str], lexicons: Mapping[str, Lexicon], min_count: int = 3,
                top: int = 20) -> list[Candidate]:
    """Frequent n-grams (2 to 4 characters, as long as an entry) that sound like it, unmatched."""
    by_len: dict[int, list[tuple[str, str, tuple[str, ...]]]] = {}
    for name, lex in lexicons.items():
        for e in lex.entries:  # not single characters: dozens of common ones share each syllable
            if 2 <= len(e.key) <= 4:
                by_len.setdefault(len(e.key), []).append((name, e.phrase, pinyin(e.key)))
    grams: Counter[str] = Counter()
    for t in texts:
        for run in _WORDS.findall(normalize(t)):
            for n in by_len:
                grams.update(run[i : i + n] for i in range(len(run) - n + 1))
    out = []
    for gram, count in grams.most_common():
        if count < min_count or len(out) >= top:
            break
        sound = pinyin(keyed(gram).key)
        for name, phrase, want in by_len[len(gram)]:
            if all(similar(a, b) for a, b in zip(sound, want)) and gram != phrase and not _covered(lexicons[name], gram):
                out.append(Candidate(gram, count, name, "sound", phrase))
                break
    return out


_QUOTED = re.compile(r"[「“\"‘'《](.+?)[」”\"’'》]")


def typed(missed: Iterable[Row], lexicons: Mapping[str, Lexicon], rule_of_item: Mapping[str, tuple[str, str]],
          lexicon_of_rule: Mapping[str, str], top: int = 20) -> list[Candidate]:
    """Phrases in missed-deduction comments: what inspectors heard that no entry matched."""
    seen: Counter[tuple[str, str]] = Counter()
    for d in missed:
        comment = normalize(d.get("comment") or "")
        phrases = _QUOTED.findall(comment) or ([comment] if 1 < len(comment) <= 8 and " " not in comment
                                               else [])
        for p in phrases:
            seen[(p.strip(), d["item"])] += 1
    out = []
    for (phrase, item), count in seen.most_common(top):
        lex = lexicon_of_rule.get(rule_of_item.get(item, ("", ""))[1], "")
        if phrase and not (lex and _covered(lexicons[lex], phrase)):
            out.append(Candidate(phrase, count, lex, "comment", item))
    return out


def _covered(lex: Lexicon, phrase: str) -> bool:
    k = keyed(phrase)
    return sum(h.end - h.start for h in lex.find(k)) >= len(k.key)
