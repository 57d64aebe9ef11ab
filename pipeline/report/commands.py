"""`callqa report`: the QA lead's report on a date range: an HTML page and its Parquet tables."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from pipeline.config import ROOT

DEFAULT_SCORECARD = ROOT / "configs" / "scorecard.yaml"
TABLES = ("calls", "agents", "weeks", "rules", "days", "bands")

DESCRIPTION = """\
Write a report on the calls of OUT dated --from to --to (inclusive): one self-contained HTML
page (charts inside, opens offline, Chinese) and the Parquet tables behind it.

Per agent: calls, talk time, average suggested and confirmed deductions, top rules, speech rate,
silence and hold share, talk ratio, a trend per week. Per scorecard item: counts and a trend per
day. The seeds' KPIs: 通话均长 per agent against the centre's average (seed 002 line 142) and the
质检成绩 distribution (score = full marks − deduction, capped as in configs/scorecard.yaml).
Confirmed deductions come from the inspectors' decisions in OUT/review.db (callqa review); while
nobody has reviewed, the report says so and leaves those columns empty.
"""

EPILOG = """\
examples:
  callqa report /data/qa --from 2026-11-01 --to 2026-11-30
        the November report: /data/qa/reports/2026-11-01_2026-11-30/report.html
  callqa report /data/qa --from 2026-11-01 --to 2026-11-30 --agent A1023
        one agent (the centre's average still comes from every agent)
  callqa report /data/qa --html /srv/www/qa-november.html --from 2026-11-01 --to 2026-11-30
        put the page elsewhere (the Parquet tables stay under OUT/reports/)
  callqa report /data/qa
        everything stored, first call date to last

outputs (OUT/reports/<from>_<to>[_<agent>]/):
  report.html     the page: open it in any browser, mail it, print it
  calls.parquet   one row per call: timing parts, suggested/confirmed deduction, score
  agents.parquet  one row per agent      weeks.parquet  agent × week (Monday)
  rules.parquet   one row per item       days.parquet   item × day
  bands.parquet   calls per score band
"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="HTML report + Parquet tables for a date range",
                       description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="output folder of `callqa run`")
    p.add_argument("--from", dest="start", metavar="DATE",
                   help="first call date, YYYY-MM-DD (default: the earliest stored)")
    p.add_argument("--to", dest="end", metavar="DATE",
                   help="last call date, YYYY-MM-DD, included (default: the latest stored)")
    p.add_argument("--agent", metavar="ID", help="only this agent (未知坐席 for calls without one)")
    p.add_argument("--html", type=Path, metavar="PATH",
                   help="where to write the page (default: OUT/reports/<from>_<to>/report.html)")
    p.add_argument("--scorecard", type=Path, default=DEFAULT_SCORECARD,
                   help="caps and titles of the items (configs/scorecard.yaml)")
    p.set_defaults(func=cmd_report)


class UsageError(ValueError):
    pass


def parse_date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{flag} {text!r} 不是日期：请写成 YYYY-MM-DD，例如 2026-11-01") from None


def dates(args: argparse.Namespace, first: str | None, last: str | None) -> tuple[date, date]:
    start, end = parse_date(args.start, "--from"), parse_date(args.end, "--to")
    if start is None or end is None:
        if first is None:
            raise UsageError(f"{args.out} 中没有带日期的通话：请给出 --from 和 --to")
        start = start or date.fromisoformat(first)
        end = end or date.fromisoformat(last or first)
    if start > end:
        raise UsageError(f"--from {start} 晚于 --to {end}")
    return start, end


def cmd_report(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from pipeline import scorecard
    from pipeline.report import data, html, load, metrics
    from pipeline.review.score import caps
    from pipeline.store import write_atomic

    try:
        if not (args.out / "calls").is_dir():
            raise UsageError(f"{args.out} 不是 callqa 的输出文件夹（没有 calls/）")
        parse_date(args.start, "--from"), parse_date(args.end, "--to")  # bad input first
        start, end = dates(args, *load.span(args.out))
    except UsageError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    card = scorecard.load(args.scorecard)
    loaded = load.load(args.out, start, end)
    report = data.build(loaded, caps(card), metrics.hold_spec(card), start, end, args.agent)
    name = f"{start}_{end}" + (f"_{_safe(args.agent)}" if args.agent else "")
    folder = args.out / "reports" / name
    written = []
    for table in TABLES:
        frame = getattr(report, table)
        path = folder / f"{table}.parquet"
        write_atomic(pa.Table.from_pandas(frame, preserve_index=False), path)
        written.append(path.name)
    page = args.html or folder / "report.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_name(f".{page.name}.tmp")
    tmp.write_text(html.render(report, args.out, written), encoding="utf-8")
    tmp.replace(page)
    print(summary(report, page, folder))
    return 0


def _safe(agent: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in agent)


def summary(r, page: Path, folder: Path) -> str:
    """What the command prints: where the files are and the headline numbers, in Chinese."""
    head = f"报告：{page}\n数据表：{folder}/"
    if r.empty:
        where = f"（存储中的通话日期为 {r.first} 至 {r.last}）" if r.first else ""
        who = f"坐席 {r.agent} " if r.agent else ""
        return f"{head}\n注意：{r.start} 至 {r.end} {who}没有已完成的通话{where}。"
    reviewed = (f"已审核 {r.reviewed_calls} 通" if r.reviewed_calls else "尚无质检员审核，确认扣分留空")
    return (f"{head}\n{r.start} 至 {r.end}：{len(r.calls)} 通通话，{r.agents.shape[0]} 名坐席，"
            f"中心通话均长 {r.centre_aht_s / 60:.1f} 分钟，平均得分 {r.calls['score'].mean():.1f}，"
            f"{reviewed}。")
