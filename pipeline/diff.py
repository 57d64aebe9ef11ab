"""What an edit of the lexicons or the scorecard does: the findings a rescore adds and removes.

A pure function over two lists of findings (rows of the `findings` table, or `Finding`s as dicts)
and the inspectors' decisions, grouped per rule and per lexicon entry, so a QA lead sees the effect
of deleting 不知道 before keeping it. Findings are matched by `id`, which hashes call, item, rule,
span, quote and message (never the lexicon entry): a finding whose id survives is the same
finding, and only its points can have changed (an item's per-call cap).

Decisions follow the workbench's rule (pipeline/review/decisions.py `needs_rereview`): a decision
is kept whatever happens and is valid while the finding it was made on is there with the same
fingerprint; a removed or changed finding leaves its decisions flagged 需复核, and a finding that
comes back unchanged makes its decisions valid again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.review.index import fingerprint

Row = Mapping[str, Any]
KINDS = {"added": "新增", "removed": "消失", "changed": "扣分变化"}


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # added | removed | changed
    finding: Row  # the new finding (added, changed) or the old one (removed)
    before: Row | None = None  # the old finding of a change
    stale: int = 0  # valid decisions on the old finding that this change flags 需复核


@dataclass(frozen=True, slots=True)
class Group:
    rule: str
    rule_name: str
    entry: str  # the lexicon entry ("|"-joined when several); "" for rules without one
    changes: tuple[Change, ...]

    def count(self, kind: str) -> int:
        return sum(c.kind == kind for c in self.changes)


@dataclass(frozen=True, slots=True)
class Diff:
    groups: tuple[Group, ...]
    unchanged: int
    calls: int  # calls with at least one change
    stale: int  # decisions that become 需复核
    stale_findings: int  # decided findings that go or change
    restored: int  # decisions 需复核 before that become valid again

    def count(self, kind: str) -> int:
        return sum(g.count(kind) for g in self.groups)


def diff(old: Iterable[Row], new: Iterable[Row], decisions: Iterable[Row] = ()) -> Diff:
    """Findings `new` adds to and removes from `old`; `decisions` are the inspectors' latest
    decisions (finding_id, verdict, fingerprint), one per inspector and finding."""
    before = {f["id"]: f for f in old}
    after = {f["id"]: f for f in new}
    fp_before = {i: fingerprint(f) for i, f in before.items()}
    fp_after = {i: fingerprint(f) for i, f in after.items()}
    judged = [d for d in decisions if d["verdict"] in ("confirmed", "rejected")]
    stale: dict[str, int] = {}
    restored = 0
    for d in judged:
        fid, fp = d["finding_id"], d["fingerprint"]
        valid_before, valid_after = fp_before.get(fid) == fp, fp_after.get(fid) == fp
        if valid_before and not valid_after:
            stale[fid] = stale.get(fid, 0) + 1
        restored += valid_after and not valid_before
    changes = [Change("removed", f, stale=stale.get(i, 0)) for i, f in before.items() if i not in after]
    changes += [Change("added", f) for i, f in after.items() if i not in before]
    changes += [Change("changed", after[i], f, stale.get(i, 0)) for i, f in before.items()
                if i in after and fp_after[i] != fp_before[i]]
    groups: dict[tuple[str, str, str], list[Change]] = {}
    for c in changes:
        f = c.finding
        groups.setdefault((f["rule"], f["rule_name"], f.get("entry") or ""), []).append(c)
    order = {"removed": 0, "changed": 1, "added": 2}
    return Diff(
        tuple(Group(*key, tuple(sorted(cs, key=lambda c: (order[c.kind], c.finding["source"],
                                                          c.finding["start_s"]))))
              for key, cs in sorted(groups.items())),
        unchanged=sum(1 for i in before if i in after and fp_after[i] == fp_before[i]),
        calls=len({c.finding["call_id"] for c in changes}),
        stale=sum(stale.values()),
        stale_findings=len(stale),
        restored=restored,
    )


def clock(s: float) -> str:
    return f"{int(s // 60):02d}:{s % 60:04.1f}"


def _line(c: Change) -> str:
    f = c.finding
    points = f"{f['points']:g} 分" if c.before is None else f"{c.before['points']:g} → {f['points']:g} 分"
    quote = (f.get("quote") or f.get("message") or "").replace("\n", " ")
    quote = quote if len(quote) <= 40 else quote[:39] + "…"
    mark = {"added": "+", "removed": "-", "changed": "~"}[c.kind]
    review = f"  ［已复核 {c.stale} 人，将标为需复核］" if c.stale else ""
    return f"  {mark} {f['source']}  {clock(f['start_s'])}–{clock(f['end_s'])}  {points}  「{quote}」{review}"


def text(d: Diff, limit: int = 20, dry_run: bool = False) -> str:
    """The diff for a person, in Chinese; at most `limit` findings per group and kind."""
    verb = "将" if dry_run else "已"
    head = (f"{'试算（未写入任何文件）' if dry_run else '重新评分'}：建议扣分{verb}新增 {d.count('added')} 条、"
            f"消失 {d.count('removed')} 条、扣分变化 {d.count('changed')} 条，{d.unchanged} 条不变；"
            f"涉及 {d.calls} 通通话")
    lines = [head]
    for g in d.groups:
        entry = f" · 词条「{'、'.join(g.entry.split('|'))}」" if g.entry else ""
        counts = "，".join(f"{label} {g.count(k)} 条" for k, label in KINDS.items() if g.count(k))
        lines.append(f"{g.rule} {g.rule_name}{entry}：{counts}")
        for kind in KINDS:
            shown = [c for c in g.changes if c.kind == kind]
            lines += [_line(c) for c in shown[:limit]]
            if len(shown) > limit:
                lines.append(f"    …另有 {len(shown) - limit} 条{KINDS[kind]}（--limit 显示更多，--json 输出全部）")
    if not d.groups:
        lines.append("  没有任何建议扣分发生变化")
    lines.append(review_text(d, verb))
    return "\n".join(lines)


def review_text(d: Diff, verb: str = "将") -> str:
    """What happens to the inspectors' decisions (the workbench never deletes one)."""
    if not d.stale and not d.restored:
        return "审核决定：没有已复核的建议扣分受影响。"
    parts = []
    if d.stale:
        parts.append(f"已复核的 {d.stale_findings} 条建议{verb}消失或改变，其 {d.stale} 条审核决定保留，"
                     f"在审核台标为“需复核”，需重新复核")
    if d.restored:
        parts.append(f"{d.restored} 条此前“需复核”的审核决定{verb}恢复有效（建议扣分与审核时相同）")
    return "审核决定：" + "；".join(parts) + "。"


def as_json(d: Diff) -> dict[str, Any]:
    """Machine-readable: every change, with its finding's fields."""
    keep = ("id", "call_id", "source", "item", "points", "start_s", "end_s", "message", "quote")

    def one(c: Change) -> dict[str, Any]:
        out = {"kind": c.kind, **{k: c.finding.get(k) for k in keep}, "needs_rereview": c.stale}
        if c.before is not None:
            out["points_before"] = c.before["points"]
        return out

    return {
        "added": d.count("added"), "removed": d.count("removed"), "changed": d.count("changed"),
        "unchanged": d.unchanged, "calls": d.calls,
        "decisions": {"needs_rereview": d.stale, "findings": d.stale_findings, "restored": d.restored},
        "groups": [{"rule": g.rule, "rule_name": g.rule_name, "entry": g.entry,
                    "changes": [one(c) for c in g.changes]} for g in d.groups],
    }
