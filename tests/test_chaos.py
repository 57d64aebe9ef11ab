"""Chaos: `callqa run` killed with SIGKILL at 5 random moments, restarted each time, ends with every
file exactly once in `calls`, every call's turns and findings exactly once, no temporary file left
and no callqa process alive (workers die with the run that started them). Real ASR: marked slow.

Only the run's own process is killed (never its process group), as `kill -9 PID` would: its workers
must notice by themselves. Set CALLQA_CHAOS_SEED to replay a failing sequence of moments.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, SAMPLE_CALLS

pytestmark = pytest.mark.slow
CALLS = ("c09_no_greeting_closing.wav", "c17_quiet_agent.mp3")  # short (~60 s), a WAV and an MP3


def tagged(tag: str) -> list[int]:
    """Live (not zombie) processes carrying this test's tag in their environment: the run, its
    workers, and anything they started."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f"CALLQA_CHAOS={tag}".encode() not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            if (proc / "stat").read_text().rsplit(") ", 1)[-1].split()[0] != "Z":
                pids.append(int(proc.name))
        except OSError:  # gone while we looked, or not ours to read
            continue
    return pids


def wait_gone(tag: str, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_killed_five_times_at_random_then_complete(tmp_path):
    src, out = tmp_path / "calls", tmp_path / "out"
    src.mkdir()
    for name in CALLS:
        shutil.copy(SAMPLE_CALLS / name, src / name)
    (src / "copies").mkdir()
    shutil.copy(SAMPLE_CALLS / CALLS[0], src / "copies" / CALLS[0])  # byte-identical
    files = {*CALLS, f"copies/{CALLS[0]}"}
    seed = int(os.environ.get("CALLQA_CHAOS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    tag = uuid.uuid4().hex
    env = os.environ | {"CALLQA_CHAOS": tag}
    cmd = [sys.executable, "-m", "pipeline.cli", "run", str(src), "--out", str(out), "--workers", "2"]
    moments = []
    for _ in range(5):
        # start-up (imports, lock, recovery, hashing) takes ~2 s, each call ~3–6 s on 2 cores
        moment = rng.uniform(0.2, 12.0)
        moments.append(round(moment, 2))
        run = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            run.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            os.kill(run.pid, signal.SIGKILL)
            run.wait()
        left = wait_gone(tag, 20)
        assert not left, f"seed {seed}, moments {moments}: still alive after the kill: {left}"
        # whatever a reader sees at this moment is whole: a committed call has all its parts
        for row in out.glob("calls/*/*.parquet"):
            for table in ("turns", "findings"):
                twin = out / table / row.parent.name / row.name
                status = pd.read_parquet(row)["status"].iloc[0]
                assert twin.exists() == (status == "ok"), f"seed {seed}, moments {moments}: {twin}"
    final = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, f"seed {seed}, moments {moments}\n{final.stderr}"
    assert not wait_gone(tag, 20), f"seed {seed}: a process outlived the last run"
    why = f"seed {seed}, moments {moments}"

    calls = pd.read_parquet(out / "calls")
    assert sorted(calls["source"]) == sorted(files), why
    assert calls["call_id"].is_unique, why
    by_source = calls.set_index("source")
    original = by_source.loc[CALLS[0], "call_id"]
    copy = by_source.loc[f"copies/{CALLS[0]}"]
    assert copy["status"] == "duplicate" and copy["duplicate_of"] == original, why
    scored = calls[calls["status"] == "ok"]
    assert sorted(scored["source"]) == sorted(CALLS), (why, calls[["source", "status", "error"]])

    turns = pd.read_parquet(out / "turns")
    assert set(turns["call_id"]) == set(scored["call_id"]), why
    assert not turns.duplicated(["call_id", "turn_id"]).any(), why
    assert turns.groupby("call_id").size().to_dict() == dict(zip(scored["call_id"], scored["n_turns"])), why
    findings = pd.read_parquet(out / "findings")
    assert findings["id"].is_unique, why
    assert set(findings["call_id"]) <= set(scored["call_id"]), why
    counts = findings.groupby("call_id").size()
    assert {c: int(counts.get(c, 0)) for c in scored["call_id"]} == dict(
        zip(scored["call_id"], scored["n_findings"])), why

    assert not list(out.rglob("*.tmp")), why
    assert "重复：copies/" in final.stdout, final.stdout
