"""`callqa rescore` on 1,000 stored calls (issue 16: under 10 s on 2 cores), beside `callqa run`.

    .venv/bin/python bench/rescore.py [--calls 1000] [--out /tmp/rescore-bench] [--keep]

Builds an OUT the way `callqa run` leaves it (per-call Parquet parts of calls, turns with word
timings, findings, 30 date folders) from the truth turns of `data/sample_calls/*.labels.yaml`,
each copy varied (fillers, forbidden phrases, numbers and names inserted at random, times jittered)
so no two calls share a turn text and the rules' per-text caches do not flatter the figure.
Then times, in this order: a dry run (`rescore --dry-run`: read, score, diff, write nothing); a
real rescore with the shipped lexicons, which rewrites every call's findings and calls parts (the
store is stamped with another callqa version, as after an upgrade); the same again, which finds
nothing changed and writes no part; and a real rescore after deleting one forbidden-phrase entry
(what a QA lead does; the scorecard version is in every row and finding, so every call's parts are
rewritten). Each step runs as `callqa` would: a fresh process, its start, imports and the
rules' dictionaries included; the count of calls rewritten is the one it printed; beside each
wall time, the CPU seconds of the command and its processes (steadier on a shared machine). The
`callqa run` time for the same audio is an estimate: audio seconds ÷ the × real time measured by
bench/bench.py (README, "Performance"), not a measurement.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import emotion, rows, scorecard  # noqa: E402
from pipeline.model import Call, Role, Turn  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.testing import words  # noqa: E402
from pipeline.text import normalize  # noqa: E402

RUN_X_REALTIME = 17.9  # README "Performance": callqa end to end, 2-core AVX2, Whisper base int8, beam 2
INSERTS = ["那个", "嗯", "然后", "就是说", "好的", "不知道", "不清楚", "您稍等", "对吧", "啊"]
NAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
DIGITS = "零一二三四五六七八九"


def templates() -> list[tuple[float, list[tuple[Role, float, float, str]]]]:
    out = []
    for path in sorted((ROOT / "data" / "sample_calls").glob("*.labels.yaml")):
        lab = yaml.safe_load(path.read_text(encoding="utf-8"))
        turns = [(Role(t["role"]), float(t["start"]), float(t["end"]), t["text"]) for t in lab["turns"]]
        out.append((float(lab["duration"]), turns))
    return out


def vary(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.choice((0, 1, 1, 2))):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(INSERTS))
    if rng.random() < 0.5:
        amount = "".join(rng.choice(DIGITS) for _ in range(rng.randint(2, 3)))
        chars.append(f"{rng.choice(NAMES)}先生，{amount}元")
    return normalize("".join(chars))


def synthesize(out: Path, n: int, seed: int = 0) -> float:
    """Write n calls into OUT; returns their total audio seconds."""
    rng = random.Random(seed)
    card = scorecard.load(ROOT / "configs" / "scorecard.yaml")
    store = Store(out)
    store.recover()
    stamp = rows.Stamp("synthetic", "bench", card.version, "bench")
    cues = card.cues()  # what ingest annotates turns with
    base = templates()
    audio = 0.0
    for i in range(n):
        duration, spec = base[i % len(base)]
        shift = rng.uniform(-0.2, 0.2)
        turns = []
        for k, (role, s, e, text) in enumerate(spec):
            s, e = max(0.0, s + shift), e + shift
            t = vary(text, rng)
            turns.append(Turn(k, role, s, e, t, words(t, s, e, round(rng.uniform(0.6, 1.0), 2))))
        cid = f"{i:020x}"
        when = datetime(2026, 11, 1 + i % 30, 8 + rng.randrange(13), rng.randrange(60))
        agent = f"A{1 + i % 50:03d}"
        name = f"{when:%Y/%m/%d}/{agent}/{when:%Y%m%d_%H%M%S}_{rng.choice(('in', 'out'))}_{i}.wav"
        call = emotion.annotate(Call(cid, duration, tuple(turns), name), cues)  # as ingest stores it
        findings, failures = scorecard.evaluate(call, card)
        meta = {"agent_id": agent, "call_date": f"{when:%Y-%m-%d}", "call_time": when,
                "direction": "inbound" if "_in_" in name else "outbound"}
        row = rows.scored(rows.new(cid, name, meta, stamp), call, findings, failures)
        store.save_call(replace(row, duration_s=duration, channels=2, sample_rate=8000), call, findings)
        audio += duration
    return audio


def without_entry(tmp: Path, phrase: str) -> Path:
    """A copy of configs/ and lexicons/ with one forbidden-phrase line deleted."""
    shutil.copytree(ROOT / "configs", tmp / "configs", dirs_exist_ok=True)
    shutil.copytree(ROOT / "lexicons", tmp / "lexicons", dirs_exist_ok=True)
    lex = tmp / "lexicons" / "forbidden.txt"
    lines = lex.read_text(encoding="utf-8").splitlines()
    lex.write_text("\n".join(x for x in lines if x.split("|")[0].strip() != phrase) + "\n", encoding="utf-8")
    return tmp / "configs" / "scorecard.yaml"


def timed(argv: list[str]) -> tuple[float, str]:
    """One `callqa` command in a fresh process, as a person runs it: the interpreter's start,
    the imports and the rules' dictionaries (jieba, pinyin) are in the time. Progress lines go
    where a log would take them (here: nowhere)."""
    cmd = [sys.executable, "-c", CLI, *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its fork pool
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    assert done.returncode == 0, (argv, done.stdout[-2000:])
    return took, done.stdout


CPU: list[float] = []  # CPU seconds of each `timed` command, in order


CLI = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pipeline.cli import main; sys.exit(main(sys.argv[1:]))"


def written(text: str, n: int) -> str:
    """How many calls' parts the rescore rewrote, from its summary ("重写 N 通")."""
    import re

    m = re.search(r"重写 (\d+) 通", text)
    k = int(m.group(1)) if m else -1
    return "every call's findings and calls parts rewritten" if k == n else f"{k} calls rewritten"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/callqa-bench-rescore"))
    ap.add_argument("--keep", action="store_true", help="reuse an OUT an earlier run left")
    args = ap.parse_args()
    out = args.out
    if not args.keep or not (out / "calls").is_dir():
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        audio = synthesize(out, args.calls)
        print(f"wrote {args.calls} calls ({audio / 3600:.1f} h of audio) in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
    else:
        audio = sum(r.duration_s or 0 for r in Store(out).rows())
    dry, _ = timed(["rescore", str(out), "--dry-run"])
    # The store is stamped with callqa version "bench": the first real rescore rewrites every
    # call's findings and calls parts (as after an upgrade); the second finds nothing changed.
    full, text_full = timed(["rescore", str(out)])
    same, text_same = timed(["rescore", str(out)])
    edited = without_entry(out.parent / (out.name + "-configs"), "不知道")
    edit, text = timed(["rescore", str(out), "--scorecard", str(edited)])
    changed = text.splitlines()[0] if text else ""
    run_s = audio / RUN_X_REALTIME
    n = args.calls
    cpu = dict(zip(("dry", "full", "same", "edit"), CPU))
    print(f"| step | {n} calls | CPU s |\n|---|---:|---:|")
    print(f"| `rescore --dry-run` (read, score, diff; writes nothing) | {dry:.1f} s | {cpu['dry']:.1f} |")
    print(f"| `rescore`, shipped lexicons, store from another callqa version "
          f"({written(text_full, n)}) | {full:.1f} s | {cpu['full']:.1f} |")
    print(f"| `rescore` again, nothing changed ({written(text_same, n)}) | {same:.1f} s | {cpu['same']:.1f} |")
    print(f"| `rescore` after deleting 不知道 from forbidden.txt ({written(text, n)}) | {edit:.1f} s "
          f"| {cpu['edit']:.1f} |")
    print(f"| `callqa run` on the same {audio / 3600:.1f} h of audio (estimate: ÷ {RUN_X_REALTIME}× real time) "
          f"| ≈ {run_s / 60:.0f} min | |")
    print(f"\nfirst line of the output: {changed}", file=sys.stderr)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
          file=sys.stderr)


if __name__ == "__main__":
    main()
