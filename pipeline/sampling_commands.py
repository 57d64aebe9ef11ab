"""`callqa sample OUT --per-agent N --month YYYY-MM`: draw the month's review sample (see
pipeline/sampling.py), put it in the review queue and record the draw for audit.

The draw goes into OUT/review.db: `sample_runs` (when, seed, month, parameters, busy hours, median
length, how many) and `samples` (each call drawn with its strata); the queue's 抽样 filter shows the
sampled calls, clean ones included, and `--assign` shares them out to inspectors (assignments, so
"只看分配给我的" works too). The same seed on the same calls draws the same sample.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sqlite3
import sys
from pathlib import Path

from pipeline import sampling

HELP = """\
Pick calls for the review queue the way seed 002 samples (5–15 calls per agent per month,
balanced by time of day 忙时/闲时, length 长/短 and direction 呼入/呼出), weighted toward calls with
suggested deductions but always with some clean calls, so the queue also measures recall. The
seed, parameters and every call drawn are recorded in OUT/review.db (table sample_runs/samples);
without --seed a random seed is chosen and printed, so the draw can be repeated and audited.

examples:
  callqa sample /data/qa --per-agent 10 --month 2026-11
  callqa sample /data/qa --per-agent 8 --month 2026-11 --seed 20261201 --assign zhang,li
  callqa sample /data/qa --per-agent 10 --month 2026-11 --dry-run     show the draw, record nothing
Then in the workbench: 审核队列 → tick 只看抽样 (or 只看分配给我的).
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS sample_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    month TEXT NOT NULL,
    per_agent INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    clean_share REAL NOT NULL,
    params TEXT NOT NULL,          -- JSON: every parameter, busy hours, median length, assignees
    n INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
    run INTEGER NOT NULL REFERENCES sample_runs(id),
    call_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    time_band TEXT NOT NULL,
    length_band TEXT NOT NULL,
    kind TEXT NOT NULL,
    flagged INTEGER NOT NULL,
    points REAL NOT NULL,
    PRIMARY KEY (run, call_id)
);
CREATE INDEX IF NOT EXISTS samples_call ON samples (call_id);
"""


def ensure_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sample", help="draw the month's review sample per agent (seed 002), balanced",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("out", type=Path, help="output folder of `callqa run`")
    s.add_argument("--month", required=True, help="YYYY-MM: calls of this month (by call date)")
    s.add_argument("--per-agent", type=int, default=10, help="calls per agent (seed 002: 5–15; default 10)")
    s.add_argument("--seed", type=int, help="random seed (default: a new one, printed and recorded)")
    s.add_argument("--clean-share", type=float, default=0.3,
                   help="share of calls without suggested deductions (at least one; default 0.3)")
    s.add_argument("--assign", default="", help="inspectors to share the sample out to, comma-separated")
    s.add_argument("--dry-run", "-n", action="store_true", help="print the draw, record nothing")
    s.set_defaults(func=cmd_sample)


def candidates(out: Path) -> list[sampling.Candidate]:
    from pipeline.store import Store

    return [sampling.Candidate(r.call_id, r.agent_id or "", r.call_date,
                               r.call_time.hour if r.call_time else None, r.duration_s or 0.0,
                               r.direction or "", r.points, r.n_findings)
            for r in Store(out).rows() if r.ok]


def record(conn: sqlite3.Connection, d: sampling.Draw, assignees: list[str]) -> int:
    from pipeline.review.db import transaction

    ensure_schema(conn)
    params = {"month": d.params.month, "per_agent": d.params.per_agent, "seed": d.params.seed,
              "clean_share": d.params.clean_share, "busy_hours": list(d.busy_hours),
              "median_s": d.median_s, "assign": assignees, "agents": d.agents,
              "agents_short": list(d.short)}
    with transaction(conn):
        run = conn.execute(
            "INSERT INTO sample_runs (month, per_agent, seed, clean_share, params, n) VALUES (?, ?, ?, ?, ?, ?)",
            (d.params.month, d.params.per_agent, d.params.seed, d.params.clean_share,
             json.dumps(params, ensure_ascii=False), len(d.calls))).lastrowid
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [(run, c.call_id, c.agent_id, c.time_band, c.length_band, c.kind, int(c.flagged),
                           c.points) for c in d.calls])
        if assignees:
            conn.executemany(
                "INSERT OR IGNORE INTO assignments (call_id, user, assigned_by) VALUES (?, ?, ?)",
                [(c.call_id, assignees[i % len(assignees)], f"sample#{run}") for i, c in enumerate(d.calls)])
    return int(run or 0)


def cmd_sample(args: argparse.Namespace) -> int:
    from pipeline.cliargs import output_folder
    from pipeline.review import auth, db

    if (why := output_folder(args.out)) is not None:
        print(why, file=sys.stderr)
        return 2
    lo, hi = sampling.PER_AGENT
    if not (len(args.month) == 7 and args.month[4] == "-" and args.month.replace("-", "").isdigit()):
        print(f"错误：--month 应为 YYYY-MM（如 2026-11），不是 {args.month!r}", file=sys.stderr)
        return 2
    if not lo <= args.per_agent <= hi:
        print(f"注意：质检标准（seed 002）建议每位坐席每月 {lo}–{hi} 通，本次为 {args.per_agent} 通", file=sys.stderr)
    seed = args.seed if args.seed is not None else secrets.randbelow(10**8)
    d = sampling.draw(candidates(args.out), sampling.Params(args.month, args.per_agent, seed, args.clean_share))
    print(summary(d))
    if not d.calls or args.dry_run:
        return 0 if d.calls or args.dry_run else 1
    conn = db.connect(args.out)
    assignees = [a.strip() for a in args.assign.split(",") if a.strip()]
    unknown = [a for a in assignees if auth.get_user(conn, a) is None]
    if unknown:
        print(f"错误：没有账号 {'、'.join(unknown)}（先运行 callqa users add）", file=sys.stderr)
        return 2
    run = record(conn, d, assignees)
    print(f"已记录为抽样 #{run}（OUT/review.db：sample_runs、samples）；审核队列勾选“只看抽样”即可查看"
          + (f"；已分配给 {'、'.join(assignees)}" if assignees else ""))
    return 0


def summary(d: sampling.Draw) -> str:
    p = d.params
    if not d.calls:
        return f"{p.month} 没有可抽样的通话（需要 status=ok、带坐席工号和日期的通话）"
    lines = [f"抽样 {p.month}：{d.agents} 位坐席，每位 {p.per_agent} 通，共抽出 {len(d.calls)} 通（随机种子 {p.seed}，"
             f"无建议扣分的通话占比 ≥ {p.clean_share:.0%}）",
             f"  忙时：{', '.join(f'{h}点' for h in d.busy_hours) or '—'}；长/短通话分界：{d.median_s:.0f} 秒（当月中位数）"]
    for dim, label in (("time", "时段"), ("length", "时长"), ("kind", "类型"), ("flagged", "建议扣分")):
        counts = sampling.balance(d.calls)[dim]
        lines.append(f"  {label}：" + "，".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if d.short:
        more = f" 等 {len(d.short)} 位" if len(d.short) > 12 else ""
        lines.append(f"  当月通话不足 {p.per_agent} 通、已全部抽取的坐席：{'、'.join(d.short[:12])}{more}")
    return "\n".join(lines)
