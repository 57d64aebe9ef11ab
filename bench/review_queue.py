"""Review queue latency on a large synthetic OUT (issue 14: first page < 300 ms at 100,000).

    .venv/bin/python bench/review_queue.py [--findings 100000] [--per-call 4] [--out /tmp/q]

Writes per-call `calls` and `findings` parts the way the batch lays them out (one part per call
per table, 30 date folders), builds the review index once (cold), then times over HTTP, logged
in: the queue's first page, a deep page, a rule filter, a status filter, and a refresh that finds
nothing new. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.tables import CALLS, FINDINGS  # noqa: E402

RULES = [
    ("T001", "no_answer", "attitude.no_answer"),
    ("T002", "silence_gap", "attitude.silence_gap"),
    ("W001", "forbidden_phrase", "service.forbidden_phrase"),
    ("S001", "greeting", "flow.greeting"),
    ("S002", "closing", "flow.closing"),
    ("V001", "speech_rate", "voice.speech_rate"),
]


def synthesize(out: Path, n_findings: int, per_call: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    n_calls = -(-n_findings // per_call)
    left = n_findings
    for i in range(n_calls):
        cid = f"{i:020x}"
        date = f"2026-11-{1 + i % 30:02d}"
        k = min(left, rng.randint(1, 2 * per_call - 1) if i < n_calls - 1 else left)
        k = max(k, 1)
        left -= k
        fs = []
        for j in range(k):
            code, name, item = rng.choice(RULES)
            start = rng.uniform(0, 200)
            fs.append(
                {
                    "id": f"{cid}{j:04d}",
                    "call_id": cid,
                    "source": f"{date}/{cid}.wav",
                    "rule": code,
                    "rule_name": name,
                    "item": item,
                    "points": float(rng.choice([1, 1.5, 2])),
                    "start_s": start,
                    "end_s": start + 3,
                    "role": "agent",
                    "message": "合成建议",
                    "quote": "",
                    "confidence": round(rng.uniform(0.4, 1.0), 2),
                    "severity": "",
                    "status": "suggested",
                    "scorecard_version": "bench",
                }
            )
        row = {
            "call_id": cid,
            "source": f"{date}/{cid}.wav",
            "agent_id": f"A{rng.randint(1, 200):03d}",
            "call_time": datetime(2026, 11, 1 + i % 30, 9),
            "status": "ok",
            "duration_s": 240.0,
            "n_findings": k,
            "points": sum(f["points"] for f in fs),
        }
        for table, schema, rows in (("findings", FINDINGS, fs), ("calls", CALLS, [row])):
            path = out / table / f"call_date={date}" / f"{cid}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        if left <= 0:
            return i + 1
    return n_calls


def synthesize_index(out: Path, n_calls: int, per_call: int, seed: int = 0) -> int:
    """Rows straight into review.db's index (no parts): queue latency at sizes whose part files
    would take an hour to write on 2 cores. Measures the queries, not the refresh."""
    from pipeline.review import db

    rng = random.Random(seed)
    conn = db.connect(out)
    calls, findings = [], []
    for i in range(n_calls):
        cid = f"{i:020x}"
        k = rng.randint(1, 2 * per_call - 1)
        fs = []
        for j in range(k):
            code, name, item = rng.choice(RULES)
            start = rng.uniform(0, 200)
            fs.append((f"{cid}{j:04d}", cid, item, code, name, float(rng.choice([1, 1.5, 2])), start,
                       start + 3, "agent", "合成建议", "", round(rng.uniform(0.4, 1.0), 2), "", "x"))
        findings += fs
        calls.append((cid, f"2026-11-{1 + i % 30:02d}", f"{cid}.wav", f"A{rng.randint(1, 200):03d}", "",
                      240.0, k, sum(f[5] for f in fs), min(f[11] for f in fs), 0))
    with db.transaction(conn):
        conn.executemany("INSERT INTO calls_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", calls)
        conn.executemany("INSERT INTO findings_index VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         findings)
    return len(findings)


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--per-call", type=int, default=4, help="mean findings per call")
    ap.add_argument("--out", type=Path, default=Path("/tmp/callqa-review-bench"))
    ap.add_argument("--reuse", action="store_true",
                    help="keep the parts already in --out (only the review index is rebuilt, cold)")
    ap.add_argument("--index-only", type=int, metavar="CALLS",
                    help="skip the parts: put CALLS synthetic calls straight into the index")
    args = ap.parse_args()

    from starlette.testclient import TestClient

    from pipeline.review import auth, db
    from pipeline.review.app import create_app

    t0 = time.perf_counter()
    if args.reuse and (args.out / "calls").is_dir():
        for p in args.out.glob("review.db*"):
            p.unlink()
        n_calls = len(list((args.out / "calls").glob("*/*.parquet")))
    elif args.index_only:
        shutil.rmtree(args.out, ignore_errors=True)
        (args.out / "calls").mkdir(parents=True)
        n_calls = args.index_only
        synthesize_index(args.out, n_calls, args.per_call)
    else:
        shutil.rmtree(args.out, ignore_errors=True)
        n_calls = synthesize(args.out, args.findings, args.per_call)
    write_s = time.perf_counter() - t0
    conn = db.connect(args.out)
    auth.add_user(conn, "bench", "lead", "bench-password")
    t0 = time.perf_counter()
    app = create_app(args.out, ROOT / "configs" / "scorecard.yaml", export_on_shutdown=False)
    build_s = time.perf_counter() - t0
    n = app.state.review.conn.execute("SELECT COUNT(*) FROM findings_index").fetchone()[0]
    c = TestClient(app, base_url="http://127.0.0.1")
    html = c.get("/login").text
    csrf = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    c.post("/login", data={"name": "bench", "password": "bench-password", "csrf": csrf})
    st = app.state.review

    def get(url: str):
        def run():
            r = c.get(url)
            assert r.status_code == 200 and "审核队列" in r.text, r.status_code

        return run

    rows = [
        ("queue, first page (50 calls, counts per status)", timed(get("/"))),
        ("queue, page 200", timed(get("/?page=200"))),
        ("queue, filtered by rule W001", timed(get("/?rule=W001"))),
        ("queue, filtered by status 未审核", timed(get("/?status=todo"))),
        (
            "queue, filtered by agent and date",
            timed(get("/?agent=A007&date_from=2026-11-10&date_to=2026-11-20")),
        ),
        ("index refresh, nothing changed", timed(lambda: st.refresh(every_s=0))),
    ]
    if args.index_only:
        what = "index rows only, no parts"
    else:
        folders = len(list((args.out / "calls").iterdir()))
        wrote = "parts reused" if args.reuse else f"parts written in {write_s:.0f} s"
        what = f"{folders} date folders; {wrote}; cold index build {build_s:.1f} s"
    print(f"{n:,} findings in {n_calls:,} calls ({what})\n")
    print("| request | median of 5 (ms) |\n|---|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
