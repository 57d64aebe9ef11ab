"""The report's numbers: pure pandas from the loaded frames into one frozen `Report`.

Deductions are scored the way the workbench scores a call (pipeline/review/score.py): points per
item capped at the item's `max_points`, per category at the category's, the call at full marks;
score = full marks − deduction. "Suggested" is what the rules found; "confirmed" is what the
inspectors decided (confirmed and missed deductions; a call reviewed by several inspectors counts
the mean of their deductions). Calls nobody reviewed have no confirmed deduction (NaN, never 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from pipeline.report import metrics
from pipeline.report.load import Loaded
from pipeline.review.score import Caps, score

# Score bands of the 质检成绩 distribution (seed 002 scores a call out of 100), best first.
BANDS = ((100.0, 101.0, "100 分"), (95.0, 100.0, "95–99.9"), (90.0, 95.0, "90–94.9"),
         (80.0, 90.0, "80–89.9"), (60.0, 80.0, "60–79.9"), (-1e9, 60.0, "60 分以下"))
TOP_RULES = 3  # rules named per agent


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    agent: str | None  # --agent: the one agent shown (the centre figures still use every call)
    full_marks: float
    calls: pd.DataFrame  # one row per call in range: metrics, suggested/confirmed deduction, score
    agents: pd.DataFrame  # one row per agent
    weeks: pd.DataFrame  # agent × week (Monday)
    rules: pd.DataFrame  # one row per scorecard item that fired
    days: pd.DataFrame  # item × day: findings
    bands: pd.DataFrame  # score band: calls by suggested and by confirmed score
    centre_aht_s: float  # 中心通话均长: mean duration over every call in range (NaN if none)
    reviewed_calls: int
    has_review_db: bool
    undated: int
    first: str | None
    last: str | None

    @property
    def empty(self) -> bool:
        return self.calls.empty


SHORT = 14  # characters of a scorecard title on a chart axis or in a table cell


def short(title: str) -> str:
    """A scorecard title cut for an axis: its part before （, whole /-pieces up to SHORT
    characters (候线未告知/返回未致歉/… → 候线未告知/返回未致歉…)."""
    head = re.split(r"[（(]", title, maxsplit=1)[0].strip() or title
    pieces = head.split("/")
    kept = pieces[0][:SHORT]
    for piece in pieces[1:]:
        if len(kept) + 1 + len(piece) > SHORT:
            return kept + "…"
        kept += "/" + piece
    return kept if kept == head else kept + "…"


def week_of(day: str) -> str:
    """The Monday of `day`'s week (ISO weeks), as YYYY-MM-DD."""
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def _deductions(pairs: pd.DataFrame, keys: list[str], caps: Caps) -> pd.DataFrame:
    """score() per group of (item, points) rows: one `deducted` per key tuple."""
    out = [(*(k if isinstance(k, tuple) else (k,)),
            score(zip(g["item"], g["points"]), caps).deducted)
           for k, g in pairs.groupby(keys, sort=False)]
    return pd.DataFrame(out, columns=[*keys, "deducted"])


def confirmed(decisions: pd.DataFrame, caps: Caps) -> pd.Series:
    """Confirmed deduction per reviewed call (mean over the inspectors who reviewed it)."""
    if decisions.empty:
        return pd.Series(dtype=float, name="confirmed")
    counted = decisions.assign(points=decisions["points"].where(decisions["verdict"] != "rejected",
                                                                0.0))
    per = _deductions(counted, ["call_id", "inspector"], caps)
    return per.groupby("call_id")["deducted"].mean().rename("confirmed")


def per_call(loaded: Loaded, caps: Caps, spec: metrics.HoldSpec | None) -> pd.DataFrame:
    calls = loaded.calls[["call_id", "source", "agent_id", "call_date", "duration_s"]].copy()
    m = metrics.frame(calls, loaded.turns, spec)
    calls = calls.merge(m, on="call_id", how="left")
    sug = _deductions(loaded.findings, ["call_id"], caps).set_index("call_id")["deducted"]
    calls["suggested"] = calls["call_id"].map(sug).fillna(0.0)
    calls["confirmed"] = calls["call_id"].map(confirmed(loaded.decisions, caps))
    calls["score"] = caps.full_marks - calls["suggested"]
    calls["confirmed_score"] = caps.full_marks - calls["confirmed"]
    calls["week"] = calls["call_date"].map(week_of)
    return calls


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def _top_rules(findings: pd.DataFrame, calls: pd.DataFrame, titles: dict[str, str]) -> pd.Series:
    if findings.empty:
        return pd.Series(dtype=object)
    f = findings.merge(calls[["call_id", "agent_id"]], on="call_id")
    counts = f.groupby(["agent_id", "item"]).size().rename("n").reset_index()
    counts = counts.sort_values(["agent_id", "n", "item"], ascending=[True, False, True])
    return pd.Series({
        agent: "、".join(f"{short(titles.get(i, i))} ×{n}"
                        for i, n in list(zip(g["item"], g["n"]))[:TOP_RULES])
        for agent, g in counts.groupby("agent_id")}, dtype=object)


def agents_frame(calls: pd.DataFrame, findings: pd.DataFrame, centre_aht: float,
                 titles: dict[str, str]) -> pd.DataFrame:
    g = calls.groupby("agent_id")
    sums = g[[*metrics.PARTS, "agent_chars", "agent_heard_s", "duration_s"]].sum()
    a = pd.DataFrame({
        "calls": g.size(),
        "talk_s": sums["duration_s"],
        "aht_s": g["duration_s"].mean(),
        "longest_s": g["duration_s"].max(),
        "suggested_avg": g["suggested"].mean(),
        "score_avg": g["score"].mean(),
        "reviewed": g["confirmed"].count(),
        "confirmed_avg": g["confirmed"].mean(),
        "confirmed_score_avg": g["confirmed_score"].mean(),
        "speech_rate_cpm": _share(sums["agent_chars"], sums["agent_heard_s"] / 60.0),
        "talk_ratio": _share(sums["agent_s"] + sums["both_s"],
                             sums["agent_s"] + sums["customer_s"] + 2 * sums["both_s"]),
        "silence_share": _share(sums["silence_s"], sums["duration_s"]),
        "hold_share": _share(sums["hold_s"], sums["duration_s"]),
    })
    for part in metrics.PARTS:
        a[part.replace("_s", "_share")] = _share(sums[part], sums["duration_s"])
    a["aht_vs_centre_s"] = a["aht_s"] - centre_aht
    # seed 002 line 142: 个人通话均长<=中心通话均长记满分,个人通话均长>中心通话均长不得分
    a["aht_full_marks"] = a["aht_s"] <= centre_aht + 1e-9
    a["top_rules"] = _top_rules(findings, calls, titles).reindex(a.index).fillna("")
    return a.reset_index().sort_values(["calls", "agent_id"], ascending=[False, True],
                                       ignore_index=True)


def weeks_frame(calls: pd.DataFrame) -> pd.DataFrame:
    g = calls.groupby(["agent_id", "week"])
    return pd.DataFrame({
        "calls": g.size(), "aht_s": g["duration_s"].mean(), "suggested_avg": g["suggested"].mean(),
        "score_avg": g["score"].mean(), "reviewed": g["confirmed"].count(),
        "confirmed_avg": g["confirmed"].mean(),
    }).reset_index()


def rules_frame(findings: pd.DataFrame, decisions: pd.DataFrame, n_calls: int,
                titles: dict[str, str]) -> pd.DataFrame:
    cols = ["item", "title", "rule", "rule_name", "findings", "calls_hit", "calls_share", "points",
            "confirmed", "rejected", "precision"]
    if findings.empty:
        return pd.DataFrame(columns=cols)
    g = findings.groupby("item")
    r = pd.DataFrame({"rule": g["rule"].first(), "rule_name": g["rule_name"].first(),
                      "findings": g.size(), "calls_hit": g["call_id"].nunique(),
                      "points": g["points"].sum()})
    r["calls_share"] = r["calls_hit"] / n_calls if n_calls else np.nan
    judged = decisions[decisions["finding_id"].isin(findings["id"])]
    judged = judged.merge(findings[["id", "item"]].rename(columns={"id": "finding_id",
                                                                    "item": "f_item"}))
    verdicts = judged.groupby(["f_item", "verdict"]).size().unstack(fill_value=0)
    for v in ("confirmed", "rejected"):
        r[v] = verdicts[v].reindex(r.index).fillna(0).astype(int) if v in verdicts else 0
    r["precision"] = _share(r["confirmed"], r["confirmed"] + r["rejected"])
    r["title"] = [titles.get(i, i) for i in r.index]
    return r.reset_index()[cols].sort_values(["findings", "item"], ascending=[False, True],
                                             ignore_index=True)


def days_frame(findings: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Findings per item per day, every day of the range present (0 where none)."""
    days = [(start + timedelta(n)).isoformat() for n in range((end - start).days + 1)]
    if findings.empty:
        return pd.DataFrame(columns=["item", "day", "findings"])
    t = findings.groupby(["item", "call_date"]).size().unstack(fill_value=0)
    t = t.reindex(columns=days, fill_value=0)
    out = t.stack().rename("findings").reset_index().rename(columns={"call_date": "day"})
    return out.astype({"findings": int})


def bands_frame(calls: pd.DataFrame) -> pd.DataFrame:
    def count(scores: pd.Series) -> list[int]:
        s = scores.dropna()
        return [int(((s >= lo) & (s < hi)).sum()) for lo, hi, _ in BANDS]

    return pd.DataFrame({"band": [b[2] for b in BANDS], "suggested": count(calls["score"]),
                         "confirmed": count(calls["confirmed_score"])})


def build(loaded: Loaded, caps: Caps, spec: metrics.HoldSpec | None, start: date, end: date,
          agent: str | None = None) -> Report:
    calls = per_call(loaded, caps, spec)
    centre = float(calls["duration_s"].mean()) if len(calls) else float("nan")
    findings = loaded.findings
    decisions = loaded.decisions
    if agent is not None:
        calls = calls[calls["agent_id"] == agent].reset_index(drop=True)
        findings = findings[findings["call_id"].isin(calls["call_id"])]
        decisions = decisions[decisions["call_id"].isin(calls["call_id"])]
    return Report(
        start, end, agent, caps.full_marks, calls,
        agents_frame(calls, findings, centre, caps.titles), weeks_frame(calls),
        rules_frame(findings, decisions, len(calls), caps.titles),
        days_frame(findings, start, end), bands_frame(calls), centre,
        int(calls["confirmed"].count()), loaded.has_review_db, loaded.undated, loaded.first,
        loaded.last)
