"""The coordinator: every file exactly one `calls` row (duplicates included), one run per output
folder, stale locks taken over, workers that cannot clean up under each other, a full disk that
stops the run cleanly. No file here reaches the ASR, so the model is never loaded."""

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import executors
from pipeline.coordinator import Found, plan, run
from pipeline.lock import BusyError, no_stray_writers, run_lock
from pipeline.rows import CallRow, Stamp, Status
from pipeline.store import Store, StoreError
from pipeline.worker import Job, process
from tests.conftest import ROOT, write_audio

STAMP = Stamp("base", "cfg1", "card1", "0.1.0")


def silent(path: Path) -> Path:
    """A file the batch rejects before any ASR (no speech): an error row, quickly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_audio(path, np.zeros((2, 8000 * 3), np.float32), 8000)


def calls(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "calls").set_index("source")


def test_byte_identical_copies_get_their_own_rows_naming_the_original(tmp_path, engine):
    src = tmp_path / "in"
    silent(src / "a.wav")
    shutil.copy(src / "a.wav", src / "b.wav")
    (src / "sub").mkdir()
    shutil.copy(src / "a.wav", src / "sub" / "c.wav")
    summary = run(src, tmp_path / "out", engine)
    rows = calls(tmp_path / "out")
    assert sorted(rows.index) == ["a.wav", "b.wav", "sub/c.wav"] and rows["call_id"].is_unique
    original = rows.loc["a.wav", "call_id"]
    for copy in ("b.wav", "sub/c.wav"):
        assert rows.loc[copy, "status"] == "duplicate" and rows.loc[copy, "duplicate_of"] == original
    assert [r.source for r in summary.duplicates] == ["b.wav", "sub/c.wav"]
    manifest = json.loads(next((tmp_path / "out" / "runs").glob("*.json")).read_text("utf-8"))
    assert manifest["duplicates"][0] == {"source": "b.wav", "duplicate_of": original, "original": "a.wav"}
    # the original goes away: the first copy carries the call, and no file keeps two rows
    (src / "a.wav").unlink()
    run(src, tmp_path / "out", engine)
    rows = calls(tmp_path / "out")
    assert sorted(rows.index) == ["b.wav", "sub/c.wav"]
    assert rows.loc["b.wav", "call_id"] == original and rows.loc["b.wav", "status"] == "error"
    assert rows.loc["sub/c.wav", "duplicate_of"] == original


def test_plan_keeps_the_stored_copy_as_the_original_and_rescored_renames():
    found = [Found(Path("/in/a.wav"), "a.wav", "h1"), Found(Path("/in/b.wav"), "b.wav", "h1"),
             Found(Path("/in/n.wav"), "n.wav", "h2"), Found(Path("/in/x.wav"), "x.wav", None)]
    stored = [CallRow("h1", "b.wav", status=Status.OK, config_hash="cfg1", scorecard_version="card1"),
              CallRow("h2", "old_name.wav", status=Status.OK, config_hash="cfg1", scorecard_version="card1"),
              CallRow("h9", "n.wav", status=Status.OK)]  # n.wav's former content
    p = plan(found, stored, STAMP)
    actions = {s.job.rel: (s.action.value, s.job.call_id) for s in p.steps}
    assert actions["b.wav"] == ("skip", "h1")  # stored under b.wav: it stays the original
    assert actions["a.wav"][0] == "duplicate" and actions["a.wav"][1].startswith("dup-")
    assert actions["n.wav"] == ("rescore", "h2")  # renamed: re-scored (no ASR) under its new name
    assert actions["x.wav"][0] == "process" and actions["x.wav"][1].startswith("unreadable-")
    assert [r.call_id for r in p.obsolete] == ["h9"]


def hold_lock(out):
    """Another process holding OUT's run lock for a minute (it prints "held" once it has it)."""
    return subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from pipeline.lock import run_lock\n"
        "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"), str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_a_second_run_on_the_same_folder_is_refused_naming_the_first(tmp_path, engine):
    src = tmp_path / "in"
    silent(src / "a.wav")
    out = tmp_path / "out"
    holder = hold_lock(out)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(BusyError) as e:
            run(src, out, engine)
        assert time.monotonic() - t0 < 2  # refused at once, not after a wait
        assert f"进程 {holder.pid}" in str(e.value) and "开始于 20" in str(e.value)
        cli = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(src), "--out", str(out)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 2 and f"进程 {holder.pid}" in cli.stderr, cli.stderr
        assert not (out / "calls").exists() or not list((out / "calls").rglob("*.parquet"))
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_is_taken_over(tmp_path, engine):
    src = tmp_path / "in"
    silent(src / "a.wav")
    out = tmp_path / "out"
    # killed with SIGKILL while holding the lock: its pid and start time stay in the file
    holder = hold_lock(out)
    assert holder.stdout.readline().strip() == "held"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert json.loads((out / ".lock").read_text())["pid"] == holder.pid
    summary = run(src, out, engine)
    assert summary.files == 1 and len(calls(out)) == 1
    with run_lock(out) as me:  # and the lock is free again once the run is over
        assert json.loads((out / ".lock").read_text())["pid"] == me["pid"] == os.getpid()


def test_a_late_starting_worker_cannot_delete_a_part_in_flight(tmp_path, engine):
    src, out = tmp_path / "in", tmp_path / "out"
    silent(src / "a.wav")
    run(src, out, engine)  # the coordinator has recovered the store; workers are running
    in_flight = out / "turns" / "call_date=unknown" / ".someone-else.123.tmp"
    in_flight.parent.mkdir(parents=True, exist_ok=True)
    in_flight.write_bytes(b"another worker's half-written part")
    job = Job(src / "a.wav", "a.wav", "late-worker-test")
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=executors._init_worker,
                             initargs=(engine, out, os.getpid())) as pool:  # a real worker start
        row = pool.submit(executors._process_in_worker, job).result(timeout=120)
    assert row.status == Status.ERROR and in_flight.exists()


def test_workers_die_with_a_killed_parent(tmp_path):
    script = (
        "import os, sys, time, multiprocessing\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from pathlib import Path\n"
        "from pipeline import config, executors, scorecard\n"
        "from pipeline.cli import DEFAULT_SCORECARD\n"
        "from pipeline.worker import Engine\n"
        "engine = Engine(config.load(), scorecard.load(DEFAULT_SCORECARD))\n"
        "pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('spawn'),\n"
        "    initializer=executors._init_worker, initargs=(engine, Path(sys.argv[1]), os.getpid()))\n"
        "pids = [f.result() for f in [pool.submit(os.getpid) for _ in range(8)]]\n"
        "print(' '.join(map(str, set(pids))), flush=True)\n"
        "time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "out")], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert workers and all(Path(f"/proc/{p}").exists() for p in workers)
    os.kill(parent.pid, signal.SIGKILL)  # the parent only, not its process group
    parent.wait()
    deadline = time.monotonic() + 5
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if alive(p)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_full_disk_stops_the_run_naming_the_path_and_leaves_no_partial_part(tmp_path, engine,
                                                                             monkeypatch):
    src, out = tmp_path / "in", tmp_path / "out"
    silent(src / "a.wav")
    real = pq.write_table

    def full(table, where, **kw):
        real(table, where, **kw)  # the bytes went out, then the disk filled up (e.g. at close)
        raise OSError(28, "No space left on device", where)

    monkeypatch.setattr(pq, "write_table", full)
    with pytest.raises(StoreError) as e:
        run(src, out, engine)
    assert "磁盘已满" in str(e.value) and str(out) in str(e.value)
    assert not [p for p in out.rglob("*.parquet")] and not list(out.rglob("*.tmp"))
    monkeypatch.undo()  # space freed: the same command goes on
    run(src, out, engine)
    assert list(calls(out).index) == ["a.wav"]


def test_a_file_that_vanishes_before_its_turn_is_an_error_row_naming_it(tmp_path, engine):
    row = process(Job(tmp_path / "gone.wav", "2026/gone.wav", "abc"), engine, Store(tmp_path / "out"))
    assert row.status == Status.ERROR and row.error.startswith("2026/gone.wav: 文件已不存在")


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 64 KiB tmpfs (root only: skipped where mounting is not allowed)."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_really_full_disk_stops_the_run_and_every_visible_part_is_whole(tmp_path, engine, tiny_disk):
    src, out = tmp_path / "in", tiny_disk / "out"
    for i in range(40):  # 40 error rows need more than 64 KiB
        silent(src / f"{i:02d}.wav").write_bytes(b"")  # empty files: error rows, no decoding
    with pytest.raises(StoreError) as e:
        run(src, out, engine)
    assert "磁盘已满" in str(e.value) and str(out) in str(e.value)
    parts = list(out.rglob("*.parquet"))
    assert parts and len(parts) < 40
    for part in parts:  # whatever readers can see is whole
        assert pq.read_table(part).num_rows == 1
    assert not list(out.rglob("*.tmp"))
    subprocess.run(["mount", "-o", "remount,size=16m", str(tiny_disk)], check=True)
    run(src, out, engine)  # space freed: the same command finishes the job
    assert len(calls(out)) == 40


def test_a_read_only_output_is_refused_naming_it(tmp_path, engine, tiny_disk):
    src = tmp_path / "in"
    silent(src / "a.wav")
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    with pytest.raises(StoreError) as e:
        run(src, tiny_disk / "out", engine)
    assert "文件系统只读" in str(e.value) and str(tiny_disk / "out") in str(e.value)


def test_a_new_run_waits_for_writers_of_a_killed_run_and_refuses_if_they_stay(tmp_path):
    out = tmp_path / "out"
    code = ("import sys, time; from pathlib import Path; from pipeline.lock import hold_as_writer\n"
            "f = hold_as_writer(Path(sys.argv[1])); print('writing', flush=True); time.sleep(float(sys.argv[2]))")
    stray = subprocess.Popen([sys.executable, "-c", code, str(out), "60"], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert stray.stdout.readline().strip() == "writing"
        with pytest.raises(BusyError) as e:
            no_stray_writers(out, wait_s=0.5)
        assert "遗留的处理进程" in str(e.value)
    finally:
        stray.kill()
        stray.wait()
    brief = subprocess.Popen([sys.executable, "-c", code, str(out), "1"], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
    assert brief.stdout.readline().strip() == "writing"
    no_stray_writers(out, wait_s=10)  # returns once the writer has gone
    assert brief.wait(timeout=5) == 0
