"""`callqa rescore`: every stored call re-scored from its turns, with the diff of what changed.

    per chunk of calls: read rows, turns and findings → score → write the findings and `calls`
    row of each call whose results changed (not in a dry run); then diff old against new findings

Reading a chunk's parts together, scoring chunks on every core, and writing only what changed
(never the turns) is what keeps 1,000 calls near 10 s or under (bench/rescore.py). A dry run
takes no lock, recovers nothing and opens review.db read-only: no file under OUT changes.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from pipeline.diff import Diff, diff
from pipeline.lifeline import die_with_parent
from pipeline.lock import hold_as_writer, no_stray_writers, run_lock
from pipeline.manifest import Summary
from pipeline.model import Call, Finding, Role, Turn, Word
from pipeline.rows import CallRow
from pipeline.store import Store, read_parts
from pipeline.tables import CALLS, FINDINGS, TURNS, finding_rows
from pipeline.worker import Engine, rescore_findings

log = logging.getLogger("callqa")
Progress = Callable[[int, int, CallRow, str], None]
CHUNK = 25  # calls per task: small enough to balance two workers, large enough to amortise
WRITERS = 4  # threads per process writing a chunk's parts


@dataclass(frozen=True)
class Outcome:
    summary: Summary
    diff: Diff
    findings: tuple[dict[str, Any], ...] = ()  # every call's new findings, as rows
    written: int = 0  # calls whose parts were rewritten (the others came out the same)


def rescore(out: Path, engine: Engine, progress: Progress | None = None, *, dry_run: bool = False,
            workers: int = 0) -> Outcome:
    """Re-score every stored call with the current scorecard and lexicons; `workers` processes
    (0: one per core). `dry_run`: compute the diff, write nothing."""
    t0 = time.perf_counter()
    if dry_run:
        outcome = _rescore(Store(out), engine, progress, None, workers)
    else:
        with run_lock(out):
            no_stray_writers(out)
            store = Store(out)
            store.recover()
            outcome = _rescore(store, engine, progress, store, workers)
    outcome.summary.wall_s = time.perf_counter() - t0
    return outcome


def _rescore(store: Store, engine: Engine, progress: Progress | None, writer: Store | None,
             workers: int) -> Outcome:
    ids = sorted(store.dates.items())  # (call_id, date) of every `calls` part: no part read yet
    summary = Summary()
    old: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    written = 0
    for got_old, done, wrote in _chunks(store.out, ids, engine, writer is not None, workers):
        old += got_old
        written += wrote
        for row, findings in done:
            summary.rescored += 1
            summary.findings += row.n_findings
            new += [asdict(f) for f in findings]
            if progress:
                progress(summary.rescored, len(ids), row, "rescored")
    summary.files = summary.rescored
    return Outcome(summary, diff(old, new, decisions(store.out)), tuple(new), written)


# old findings, new results, calls written
Done = tuple[list[dict[str, Any]], list[tuple[CallRow, list[Finding]]], int]

# The fork pool's state: set in the parent before forking, so children inherit it unpickled.
_job: tuple[Path, Engine] | None = None
_writer: tuple[Store | None, IO[str] | None] = (None, None)


def _chunks(out: Path, ids: list[tuple[str, str]], engine: Engine, write: bool,
            workers: int) -> Iterator[Done]:
    """Each chunk of calls read, scored (and written) by one process: reading a part costs about
    as much as scoring its call, so the reads are shared out between the processes too."""
    global _job, _writer
    workers = workers or len(os.sched_getaffinity(0))
    if not ids:
        return
    here = Store(out) if write else None
    # The first call here: jieba's dictionaries and the pinyin tables load once, before the fork,
    # with the collector off (a million objects that live as long as the process: no use scanning
    # them as they come), and frozen before forking so that no child's collections scan them.
    gc.disable()
    try:
        first = score_chunk(Store(out), ids[:1], engine, here)
    finally:
        gc.enable()
    yield first
    rest = [ids[i : i + CHUNK] for i in range(1, len(ids), CHUNK)]
    if workers <= 1 or len(rest) < 4:
        for chunk in rest:
            yield score_chunk(Store(out), chunk, engine, here)
        return
    _job = (out, engine)
    ctx = multiprocessing.get_context("fork")  # rules only: no model, no native threads to break
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init,
                                 initargs=(out if write else None, os.getpid())) as pool:
            yield from pool.map(_score_chunk, rest)
    finally:
        _job = None
        gc.unfreeze()


def _init(out: Path | None, parent: int) -> None:
    global _writer
    die_with_parent(parent)
    _writer = (Store(out), hold_as_writer(out)) if out is not None else (None, None)


def _score_chunk(ids: list[tuple[str, str]]) -> Done:
    assert _job is not None
    out, engine = _job
    return score_chunk(Store(out), ids, engine, _writer[0])


def score_chunk(store: Store, ids: list[tuple[str, str]], engine: Engine, writer: Store | None) -> Done:
    """Read these calls (rows, turns, findings), score them, and write the calls whose findings or
    row came out different (unless `writer` is None)."""
    rows, stored = read_rows(store, ids, raw=True)
    calls = load_calls(store, rows)
    rows = [r for r in rows if r.call_id in calls]
    old = read_findings(store, rows, raw=True)  # before anything is rewritten
    results = [rescore_findings(r, calls[r.call_id], engine, None) for r in rows]
    done = [(row, findings) for row, findings, _ in results]
    moved = {row.call_id: call for row, _, call in results if call is not None}  # new turn states
    mine: dict[str, list[dict[str, Any]]] = {}
    for f in old:
        mine.setdefault(f["call_id"], []).append(f)
    todo = [] if writer is None else [
        x for r, x in zip(rows, done)
        if r.call_id in moved or changed(stored[r.call_id], *x, mine.get(r.call_id, []))]
    if writer is not None and todo:
        writer.save_rescored(todo, WRITERS, moved)
    for f in old:
        f["entry"] = f["entry"] or ""
    return old, done, len(todo)


def changed(stored: dict[str, Any], row: CallRow, findings: list[Finding],
            old: list[dict[str, Any]]) -> bool:
    """Whether a rescore's row and findings differ from what is stored, as Parquet values (a null
    left by a part from before a column existed counts as a difference). A call whose results are
    the same is not rewritten: its parts keep their bytes and mtime (the review index re-reads
    nothing), and `processed_at` stays the time its results were made."""
    if {**row.record(), "processed_at": stored.get("processed_at")} != stored:
        return True
    return finding_rows(findings, row.scorecard_version) != old


def read_rows(store: Store, ids: list[tuple[str, str]], raw: bool = False):
    """The ok `calls` rows of (call_id, date) pairs, one scan; `raw`: also every stored record by
    call_id, as read (nulls and all)."""
    paths = [str(p) for cid, date in ids if (p := store.part("calls", cid, date)).exists()]
    found = read_parts(paths, CALLS).to_pylist()
    dates = dict(ids)
    rows = [r for r in (CallRow.from_record(f | {"call_date": dates[f["call_id"]]}) for f in found)
            if r.ok]
    return (rows, {f["call_id"]: f for f in found}) if raw else rows


def parts(store: Store, table: str, rows: list[CallRow]) -> list[str]:
    return [str(p) for r in rows if (p := store.part(table, r.call_id, r.call_date)).exists()]


def load_calls(store: Store, rows: list[CallRow]) -> dict[str, Call]:
    """The Calls behind ok rows, from one scan of their turns parts (what `Store.load_call` builds
    one part at a time). Parts written before a column existed read it as null."""
    paths = parts(store, "turns", rows)
    if not paths:
        return {}
    t = read_parts(paths, TURNS).combine_chunks()
    words = t.column("words").chunk(0) if t.num_rows else pa.array([], TURNS.field("words").type)
    offsets = words.offsets.to_pylist()
    flat = words.flatten()
    every = list(map(Word, *(flat.field(k).to_pylist() for k in ("text", "start", "end", "probability"))))
    cols = {k: t.column(k).to_pylist() for k in ("call_id", "turn_id", "role", "start_s", "end_s", "text",
                                                 "level_db", "language", "language_prob", "pitch_hz",
                                                 "pitch_range_st", "emotion", "emotion_cues")}
    by_call: dict[str, list[Turn]] = {}
    for i, cid in enumerate(cols["call_id"]):
        a, b = offsets[i], offsets[i + 1]
        turn = Turn(cols["turn_id"][i], Role(cols["role"][i]), cols["start_s"][i], cols["end_s"][i],
                    cols["text"][i], tuple(every[a:b]),
                    cols["level_db"][i], cols["language"][i] or "", cols["language_prob"][i] or 0.0,
                    cols["pitch_hz"][i], cols["pitch_range_st"][i], cols["emotion"][i],
                    cols["emotion_cues"][i] or "")
        by_call.setdefault(cid, []).append(turn)
    return {r.call_id: _call(r, by_call[r.call_id]) for r in rows if r.call_id in by_call}


# Call fields the `calls` row carries as well (beyond id, duration, turns, source): copied as
# Store.load_call does, so a field added to both reaches a rescore without an edit here.
_FROM_ROW = tuple(f.name for f in fields(Call) if f.name in {g.name for g in fields(CallRow)}
                  and f.name != "source")


def _call(r: CallRow, turns: list[Turn]) -> Call:
    extra = {k: v for k in _FROM_ROW if (v := getattr(r, k)) is not None}
    return Call(r.call_id, r.duration_s or 0.0, tuple(sorted(turns, key=lambda t: (t.start, t.id))),
                r.source, **extra)


def read_findings(store: Store, rows: list[CallRow], raw: bool = False) -> list[dict[str, Any]]:
    """The stored findings of these calls, one scan (`entry` is "" in parts from before it; with
    `raw`, null as stored)."""
    paths = parts(store, "findings", rows)
    if not paths:
        return []
    found = read_parts(paths, FINDINGS).to_pylist()
    for f in () if raw else found:
        f["entry"] = f["entry"] or ""
    return found


def decisions(out: Path) -> list[dict[str, Any]]:
    """Every inspector's latest decision per finding, read without changing review.db: opened
    read-only, and as an immutable file when no server has it open (no -wal file beside it)."""
    path = Path(out) / "review.db"
    if not path.exists():
        return []
    wal = path.with_name(path.name + "-wal").exists()
    uri = f"file:{path}?mode=ro" + ("" if wal else "&immutable=1")
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(
            "SELECT d.finding_id, d.user, e.verdict, e.fingerprint, e.item, e.comment FROM decisions d "
            "JOIN events e ON e.seq = d.seq")]
    except sqlite3.DatabaseError:  # an old or foreign review.db: no decisions to speak of
        return []
    finally:
        conn.close()
