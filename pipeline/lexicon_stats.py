"""`callqa lexicon stats OUT`: the statistics of pipeline/stats.py gathered from OUT and printed.

Reads the findings and agent turns of every scored call (one scan each), the decisions from
OUT/review.db (read-only, nothing changes) or, without one, from the export OUT/reviews, and the
lexicons the scorecard's W001/W002 items load. The review app's 词条统计 page shows the same.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline import stats
from pipeline.scorecard import Scorecard
from pipeline.store import Store

HELP = """\
For every entry of the lexicons whose rules record the entry that fired (forbidden.txt: W001,
fillers.txt: W002): its findings, calls, inspectors' confirmed and rejected decisions, precision
with a Wilson 95 % interval and its share of all suggested points; the entries that never fired;
per rule, precision and recall (recall counts the deductions inspectors added as missed); and
candidates to add: agent phrases that sound like an entry but are not matched, and phrases typed
into missed-deduction comments. Decisions come from OUT/review.db (or the OUT/reviews export).

examples:
  callqa lexicon stats /data/qa/2026-11
  callqa lexicon stats /data/qa/2026-11 --json > stats.json
  callqa lexicon stats OUT --min-count 5 --top 30     rarer candidates left out, more shown
"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    from pipeline.cliargs import common

    lx = sub.add_parser("lexicon", help="lexicon statistics: which entries and rules earn their keep")
    lxs = lx.add_subparsers(dest="lexicon_command", required=True, metavar="ACTION")
    st = lxs.add_parser("stats", help="hits, precision (Wilson 95 %%), share of points per entry; rules; "
                        "candidates", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("out", type=Path, help="output folder of `callqa run`")
    st.add_argument("--json", action="store_true", help="print the statistics as JSON")
    st.add_argument("--min-count", type=int, default=3, help="times a candidate phrase must occur (default 3)")
    st.add_argument("--top", type=int, default=20, help="candidates listed per kind (default 20)")
    common(st)
    st.set_defaults(func=cmd_stats)


def gather(out: Path, card: Scorecard, min_count: int = 3, top: int = 20) -> stats.Report:
    import pyarrow.dataset as ds  # here, not at the top: it imports pandas (0.3 s) on every callqa start

    from pipeline import rescoring

    store = Store(out)
    rows = [r for r in store.rows() if r.ok]
    lexicons, of_rule = {}, {}
    for item in card.items:
        field = stats.ATTRIBUTED.get(item.rule.name)
        if field is not None:
            lex = getattr(item.params, field)
            lexicons[lex.name] = lex
            of_rule[item.rule.name] = lex.name
    texts: list[str] = []
    paths = rescoring.parts(store, "turns", rows)
    if paths:
        t = ds.dataset(paths, format="parquet").to_table(columns=["text"], filter=ds.field("role") == "agent")
        texts = t.column("text").to_pylist()
    return stats.compute(rescoring.read_findings(store, rows), _decisions(out), lexicons,
                         {i.id: (i.rule.code, i.rule.name) for i in card.items}, of_rule, texts,
                         min_count, top)


def _decisions(out: Path) -> list[dict[str, Any]]:
    import pyarrow.dataset as ds

    from pipeline import rescoring

    if (out / "review.db").exists():
        return rescoring.decisions(out)
    export = out / "reviews" / "reviews.parquet"
    if export.exists():
        return ds.dataset(export).to_table().to_pylist()
    return []


def pct(r: stats.Ratio) -> str:
    return "—" if r.value is None else f"{r.value:.0%}"


def interval(r: stats.Ratio) -> str:
    iv = r.interval
    return "—" if iv is None else f"{iv[0]:.0%}–{iv[1]:.0%}"


def _pad(s: Any, width: int, right: bool = False) -> str:
    s = str(s)
    gap = width - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
    return (" " * gap + s) if right else (s + " " * gap)


def text(r: stats.Report, out: Path) -> str:
    lines = [f"词条统计（{out}）：建议扣分 {r.findings} 条，共 {r.points:g} 分；计入的审核决定 {r.decisions} 条"
             "（需复核的不计）", ""]
    head = ["词库", "词条", "命中", "通话", "确认", "驳回", "精确率", "95% 区间", "扣分占比"]
    widths = [10, 14, 6, 6, 6, 6, 8, 14, 10]
    lines.append("".join(_pad(h, w, i > 1) for i, (h, w) in enumerate(zip(head, widths))))
    for e in r.entries:
        if e.hits:
            cells = [e.lexicon, e.phrase, e.hits, e.calls, e.confirmed, e.rejected, pct(e.precision),
                     interval(e.precision), f"{e.share:.1%}"]
            lines.append("".join(_pad(c, w, i > 1) for i, (c, w) in enumerate(zip(cells, widths))))
    if not any(e.hits for e in r.entries):
        lines.append("  （还没有词条命中）")
    silent: dict[str, list[str]] = {}
    for e in r.silent:
        silent.setdefault(e.lexicon, []).append(e.phrase)
    lines += ["", f"从未命中的词条（{len(r.silent)} 条，可考虑删除或检查写法）："]
    lines += [f"  {name}：{'、'.join(ps)}" for name, ps in silent.items()] or ["  （无）"]
    lines += ["", "规则（精确率 = 确认 / (确认 + 驳回)；召回率 = 确认 / (确认 + 补充扣分)）："]
    head = ["规则", "名称", "建议", "确认", "驳回", "补充", "精确率", "95% 区间", "召回率", "95% 区间"]
    widths = [6, 18, 6, 6, 6, 6, 8, 14, 8, 14]
    lines.append("".join(_pad(h, w, i > 1) for i, (h, w) in enumerate(zip(head, widths))))
    for q in r.rules:
        cells = [q.rule, q.rule_name, q.findings, q.confirmed, q.rejected, q.missed, pct(q.precision),
                 interval(q.precision), pct(q.recall), interval(q.recall)]
        lines.append("".join(_pad(c, w, i > 1) for i, (c, w) in enumerate(zip(cells, widths))))
    lines += ["", "候选词条（请人工判断后再加入词库）："]
    by_sound = [c for c in r.candidates if c.why == "sound"]
    by_comment = [c for c in r.candidates if c.why == "comment"]
    lines.append("  读音接近现有词条、词库尚未匹配的坐席常用说法：" + (
        "、".join(f"{c.phrase}（{c.count} 次，近「{c.near}」，{c.lexicon}）" for c in by_sound) or "无"))
    lines.append("  质检员在补充扣分备注中写下的说法：" + (
        "、".join(f"{c.phrase}（{c.count} 次，{c.near}）" for c in by_comment) or "无"))
    return "\n".join(lines)


def as_json(r: stats.Report) -> dict[str, Any]:
    def ratio(x: stats.Ratio) -> dict[str, Any]:
        return {"k": x.k, "n": x.n, "value": x.value, "wilson95": x.interval}

    return {"findings": r.findings, "points": r.points, "decisions": r.decisions,
            "entries": [asdict(e) | {"precision": ratio(e.precision)} for e in r.entries],
            "rules": [asdict(q) | {"precision": ratio(q.precision), "recall": ratio(q.recall)}
                      for q in r.rules],
            "candidates": [asdict(c) for c in r.candidates]}


def cmd_stats(args: argparse.Namespace) -> int:
    from pipeline import scorecard
    from pipeline.cliargs import output_folder

    if (why := output_folder(args.out)) is not None:
        print(why, file=sys.stderr)
        return 2
    report = gather(args.out, scorecard.load(args.scorecard), args.min_count, args.top)
    print(json.dumps(as_json(report), ensure_ascii=False, indent=1) if args.json else text(report, args.out))
    return 0
