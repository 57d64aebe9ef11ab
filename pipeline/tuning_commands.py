"""The QA lead's tuning loop on the command line: `rescore` (with the diff of an edit),
`lexicon stats` (which entries and rules earn their keep) and `sample` (the month's review draw)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.cliargs import common, engine, output_folder

RESCORE = """\
Re-score every call stored in OUT from its turns and words with the current scorecard and
lexicons (no audio, no ASR: seconds for a day of calls), and print what changed, per rule and per
lexicon entry: each finding added or removed, with its call, time and quote. Inspectors' decisions
are never lost: a decided finding that goes or changes keeps its decision, shown as 需复核 in the
workbench; the diff says how many. Customer emotion per turn (and each call's complaint risk) is
derived again too, so edits to lexicons/emotion.txt and deescalation.txt reach the review queue.

examples:
  callqa rescore /data/qa/2026-11 --dry-run        what deleting a line of lexicons/forbidden.txt
                                                   would do; writes nothing under OUT
  callqa rescore /data/qa/2026-11                  re-score for real, print the same diff
  callqa rescore OUT --dry-run --json > diff.json  every change, machine-readable
  callqa rescore OUT --scorecard /tmp/try/configs/scorecard.yaml --dry-run
                                                   try a copied scorecard + lexicons first
"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    rs = sub.add_parser("rescore", help="re-run the rules on stored transcripts (no ASR), print the diff",
                        description=RESCORE, formatter_class=argparse.RawDescriptionHelpFormatter)
    rs.add_argument("out", type=Path, help="output folder of a previous `callqa run`")
    rs.add_argument("--dry-run", "-n", action="store_true", help="compute and print the diff, write nothing")
    rs.add_argument("--json", action="store_true", help="print the diff as JSON (stdout) instead of text")
    rs.add_argument("--limit", type=int, default=20, help="findings listed per rule/entry and kind (default 20)")
    rs.add_argument("--workers", "-j", type=int, default=0, help="processes (default: one per core)")
    common(rs)
    rs.set_defaults(func=cmd_rescore)

    from pipeline import lexicon_stats, sampling_commands

    lexicon_stats.add_commands(sub)
    sampling_commands.add_commands(sub)


def cmd_rescore(args: argparse.Namespace) -> int:
    from pipeline import diff, progress, rescoring

    if (why := output_folder(args.out)) is not None:
        print(why, file=sys.stderr)
        return 2
    bar = None if args.json else progress.Progress()
    outcome = rescoring.rescore(args.out, engine(args), bar, dry_run=args.dry_run, workers=args.workers)
    if args.json:
        doc = {"dry_run": args.dry_run, "calls": outcome.summary.rescored, "written": outcome.written,
               "seconds": round(outcome.summary.wall_s, 2), **diff.as_json(outcome.diff)}
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    print(summary(outcome, args.out, args.dry_run))
    print(diff.text(outcome.diff, args.limit, args.dry_run))
    return 0


def summary(outcome, out: Path, dry_run: bool) -> str:
    """Calls and findings per rule after the rescore (from the findings just made: no re-read)."""
    from collections import Counter

    s, found = outcome.summary, outcome.findings
    by = Counter(f["rule_name"] for f in found)
    lines = [f"{'试算' if dry_run else '重新评分'} {s.rescored} 通（用时 {s.wall_s:.1f} 秒），建议扣分共 "
             f"{len(found)} 条，合计 {sum(f['points'] for f in found):g} 分："]
    lines += [f"    {rule:<18}{n:>5} 条" for rule, n in sorted(by.items())]
    if not dry_run:
        same = s.rescored - outcome.written
        lines.append(f"  结果：{out}/findings、{out}/calls（Parquet）：重写 {outcome.written} 通"
                     + (f"，其余 {same} 通结果不变，未重写" if same else ""))
    return "\n".join(lines)
