"""Measure callqa against labelled calls: per-rule precision/recall/F1, turn timing, CER.

A labels file (`<name>.labels.yaml`, see data/sample_calls/README.md) lists the truth turns of a call
and the findings it must produce. A finding matches a label of the same rule_name when their spans
overlap, give or take `tolerance_s`; each label matches at most one finding.

It also measures speech the ASR lost: VAD turns that came back with no text ("empty turns"). Per
call and party, `Lost` holds the share of the truth characters spoken inside empty turns (and not
inside any turn with text) and the share of VAD speech seconds in empty turns; the worst call is
what the acceptance bound (≤ 5 % of any party's characters) is checked against.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.attribution import Attribution, attribution

from pipeline.text import keyed, normalize


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Lost:
    """What one party of one call lost to empty turns."""

    chars: float = 0.0  # truth characters spoken inside empty turns only
    total_chars: int = 0
    empty_s: float = 0.0  # VAD speech seconds in turns with no text
    speech_s: float = 0.0
    empty_turns: int = 0
    turns: int = 0

    @property
    def char_share(self) -> float:
        return self.chars / self.total_chars if self.total_chars else 0.0

    @property
    def speech_share(self) -> float:
        return self.empty_s / self.speech_s if self.speech_s else 0.0


LOST_BOUND = 0.05  # issue #15: no call loses more than 5 % of a party's characters to empty turns


@dataclass
class Report:
    rules: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    misses: list[str] = field(default_factory=list)  # human-readable FN/FP lines
    start_errors: list[float] = field(default_factory=list)
    end_errors: list[float] = field(default_factory=list)
    cer: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    calls: int = 0
    missing: list[str] = field(default_factory=list)
    lost: dict[tuple[str, str], Lost] = field(default_factory=dict)  # (source, role) → Lost
    roles: dict[str, Attribution] = field(default_factory=dict)  # mixed (mono) calls: source → speech to the right role

    def worst_lost(self, role: str) -> tuple[str, Lost] | None:
        rows = [(src, x) for (src, r), x in self.lost.items() if r == role]
        return max(rows, key=lambda sx: (sx[1].char_share, sx[1].speech_share), default=None)

    def cer_of(self, role: str) -> float:
        errs = self.cer.get(role, [])
        total = sum(n for _, n in errs)
        return sum(e for e, _ in errs) / total if total else 0.0


def _overlaps(f: dict[str, Any], lab: dict[str, Any], tol: float) -> float:
    """Overlap (seconds, may be negative within tolerance) or -inf when they don't meet."""
    inter = min(f["end_s"], lab["end"]) - max(f["start_s"], lab["start"])
    return inter if inter >= -tol else float("-inf")


def _chars(text: str) -> str:
    return keyed(normalize(text)).key


def char_errors(ref: list[str], hyp: list[str]) -> tuple[int, int]:
    """(edit distance, reference length) over the concatenated, normalised texts: CER = a / b."""
    from rapidfuzz.distance import Levenshtein

    r, h = "".join(map(_chars, ref)), "".join(map(_chars, hyp))
    return Levenshtein.distance(r, h), len(r)


def _covered(a: float, b: float, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Parts of [a, b) inside the union of `spans`."""
    out = []
    for s, e in sorted(spans):
        s, e = max(s, a), min(e, b)
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _minus(parts: list[tuple[float, float]], holes: list[tuple[float, float]]) -> float:
    """Seconds of `parts` (disjoint) outside `holes`."""
    total = 0.0
    for a, b in parts:
        total += (b - a) - sum(e - s for s, e in _covered(a, b, holes))
    return total


def lost_to_empty_turns(truth: list[dict[str, Any]], hyp: list[tuple[float, float, str]]) -> Lost:
    """One party's loss: `truth` turns ({start, end, text}) against hypothesis turns
    (start, end, text). A truth turn's characters count as lost in proportion to the part of
    it that lies in empty hypothesis turns and in no hypothesis turn with text."""
    empty = [(s, e) for s, e, t in hyp if not _chars(t or "")]
    heard = [(s, e) for s, e, t in hyp if _chars(t or "")]
    lost = Lost(empty_s=sum(e - s for s, e in empty), speech_s=sum(e - s for s, e, _ in hyp),
                empty_turns=len(empty), turns=len(hyp))
    for t in truth:
        n = len(_chars(t["text"]))
        lost.total_chars += n
        length = t["end"] - t["start"]
        if n and length > 0:
            gone = _minus(_covered(t["start"], t["end"], empty), heard)
            lost.chars += n * gone / length
    return lost


def evaluate(labels_dir: Path, out: Path, tolerance_s: float = 1.0) -> Report:
    findings = _read(out / "findings")
    turns = _read(out / "turns")
    calls = _read(out / "calls")
    report = Report()
    for path in sorted(labels_dir.rglob("*.labels.yaml")):
        lab = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = (path.parent / lab["call"]).relative_to(labels_dir).as_posix()
        row = calls[calls["source"] == source] if len(calls) else calls
        if not len(row) or row.iloc[0]["status"] != "ok":
            report.missing.append(source)
            continue
        report.calls += 1
        cid = row.iloc[0]["call_id"]
        got = findings[findings["call_id"] == cid].to_dict("records") if len(findings) else []
        want = lab.get("findings") or []
        for rule in {f["rule_name"] for f in got} | {w["rule_name"] for w in want}:
            preds = [f for f in got if f["rule_name"] == rule]
            truth = [w for w in want if w["rule_name"] == rule]
            used: set[int] = set()
            for w in truth:
                best = max(((_overlaps(p, w, tolerance_s), i) for i, p in enumerate(preds) if i not in used),
                           default=(float("-inf"), -1))
                if best[0] > float("-inf"):
                    used.add(best[1])
                    report.rules[rule].tp += 1
                else:
                    report.rules[rule].fn += 1
                    report.misses.append(f"漏报 FN {source} {rule} {w['start']:.1f}-{w['end']:.1f} {w.get('note', '')}")
            for i, p in enumerate(preds):
                if i not in used:
                    report.rules[rule].fp += 1
                    report.misses.append(f"误报 FP {source} {rule} {p['start_s']:.1f}-{p['end_s']:.1f} {p['message']}")
        hyp = turns[turns["call_id"] == cid] if len(turns) else turns
        if bool(row.iloc[0].get("mixed")) and len(hyp):
            report.roles[source] = attribution([(t["start"], t["end"], t["role"]) for t in lab.get("turns", [])],
                                               zip(hyp["start_s"], hyp["end_s"], hyp["role"]), lab["duration"])
        for role in ("agent", "customer"):
            truth_turns = [t for t in lab.get("turns", []) if t["role"] == role]
            mine = hyp[hyp["role"] == role].sort_values("start_s") if len(hyp) else hyp
            for t in truth_turns:
                overlaps = [(min(t["end"], h.end_s) - max(t["start"], h.start_s), h) for h in mine.itertuples()]
                ov, h = max(overlaps, key=lambda x: x[0], default=(0.0, None))
                if h is not None and ov > 0:
                    report.start_errors.append(abs(h.start_s - t["start"]))
                    report.end_errors.append(abs(h.end_s - t["end"]))
            spans = list(zip(mine["start_s"], mine["end_s"], mine["text"])) if len(mine) else []
            report.lost[(source, role)] = lost_to_empty_turns(truth_turns, spans)
            errors = char_errors([t["text"] for t in truth_turns], list(mine["text"]) if len(mine) else [])
            if errors[1]:
                report.cer[role].append(errors)
    return report


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.exists() and any(path.rglob("*.parquet")) else pd.DataFrame()


def format_report(r: Report) -> str:
    lines = [f"评估 {r.calls} 通已标注通话（按规则的精确率 / 召回率 / F1）", ""]
    lines.append(f"{'rule_name':<18}{'标注':>6}{'命中':>6}{'误报':>6}{'漏报':>6}{'精确率':>9}{'召回率':>9}{'F1':>8}")
    for rule in sorted(r.rules):
        c = r.rules[rule]
        lines.append(f"{rule:<18}{c.tp + c.fn:>8}{c.tp:>8}{c.fp:>8}{c.fn:>8}"
                     f"{c.precision:>12.2f}{c.recall:>12.2f}{c.f1:>8.2f}")
    if r.start_errors:
        lines += ["", f"话轮边界误差中位数：开始 {statistics.median(r.start_errors):.2f} 秒，"
                      f"结束 {statistics.median(r.end_errors):.2f} 秒（{len(r.start_errors)} 个话轮）"]
    if r.cer:
        lines.append("字错率 CER：" + "，".join(f"{role} {r.cer_of(role):.1%}" for role in sorted(r.cer)))
    if r.lost:
        lines += ["", "空话轮（VAD 有语音、ASR 无文字）丢失：字符占比 / 语音时长占比（每通每方）"]
        lines.append(f"{'call':<34}{'agent 字':>10}{'agent 秒':>10}{'customer 字':>12}{'customer 秒':>12}")
        for src in sorted({s for s, _ in r.lost}):
            a, c = r.lost.get((src, "agent"), Lost()), r.lost.get((src, "customer"), Lost())
            lines.append(f"{src:<34}{a.char_share:>10.1%}{a.speech_share:>10.1%}"
                         f"{c.char_share:>12.1%}{c.speech_share:>12.1%}")
        for role in ("agent", "customer"):
            worst = r.worst_lost(role)
            if worst:
                src, x = worst
                over = sorted(s for (s, rr), v in r.lost.items() if rr == role and v.char_share > LOST_BOUND)
                lines.append(f"{role} 最多丢失：{x.char_share:.1%} 字符、{x.speech_share:.1%} 语音"
                             f"（{src}，空话轮 {x.empty_turns}/{x.turns}）；超过 {LOST_BOUND:.0%} 的通话："
                             + ("，".join(over) if over else "无"))
    if r.roles:
        right = sum(a.right_s for a in r.roles.values())
        found = sum(a.found_s for a in r.roles.values())
        src, worst = min(r.roles.items(), key=lambda kv: kv[1].share)
        lines += ["", f"单声道（混合声道）通话 {len(r.roles)} 通：语音时长归属正确 {right / max(found, 1e-9):.1%}"
                      f"（双方重叠处除外），最低 {worst.share:.1%}（{src}）"]
    if r.missing:
        lines += ["", "未处理或处理失败的已标注通话：" + "，".join(r.missing)]
    if r.misses:
        lines += ["", "差异明细："] + [f"  {m}" for m in r.misses]
    return "\n".join(lines)
