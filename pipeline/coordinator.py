"""The run: one coordinator plans it, cleans up after the last one, hands out calls, and records it.

    lock OUT → wait for stray writers → recover the store → discover + hash → plan → rescore here,
    process in workers → duplicates → manifest

Only the coordinator decides anything and only it touches more than one call: workers
(pipeline/worker.py, run by pipeline/executors.py or pipeline/ray_engine.py) each write their own
call's parts. Every input file ends with exactly one `calls` row: byte-identical copies are scored
once and the others get status `duplicate`, naming the call they duplicate; a row that a file no
longer deserves (its content changed, it stopped being a copy) is removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipeline import manifest, rows
from pipeline.lock import no_stray_writers, run_lock
from pipeline.manifest import Summary
from pipeline.rows import CallRow, Stamp, Status
from pipeline.store import Store
from pipeline.worker import Engine, Job, new_row, rescore_call

log = logging.getLogger("callqa")

Progress = Callable[[int, int, CallRow, str], None]  # (done, total, row, what happened)


class Action(StrEnum):
    PROCESS = "process"  # new, changed, failed before, or other engine settings: decode + ASR
    RESCORE = "rescore"  # transcribed with these settings; scorecard, lexicons or name changed
    SKIP = "skip"  # done with exactly these settings
    DUPLICATE = "duplicate"  # same bytes as another file of this run


@dataclass(frozen=True, slots=True)
class Found:
    path: Path
    rel: str
    content: str | None  # content id; None when the file could not be read


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    job: Job
    prev: CallRow | None = None  # the stored row for job.call_id, if any
    duplicate_of: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]  # one per file found, in discovery order
    obsolete: tuple[CallRow, ...]  # stored rows of these files under ids that are no longer theirs


def discover(root: Path, extensions: tuple[str, ...]) -> Iterator[Path]:
    """Audio files under root, sorted, following symlinks but never around a loop."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a second path to the same folder
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in extensions:
                yield Path(dirpath) / name


def content_id(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:20]


def survey(root: Path, paths: Iterable[Path]) -> list[Found]:
    found = []
    for path in paths:
        try:
            cid: str | None = content_id(path)
        except OSError:  # the worker reports why, naming the file
            cid = None
        found.append(Found(path, path.relative_to(root).as_posix(), cid))
    return found


def plan(found: list[Found], stored: list[CallRow], stamp: Stamp) -> Plan:
    """Decide what happens to every file (pure: files already hashed, rows already read)."""
    done = {r.call_id: r for r in stored}
    copies: dict[str, list[Found]] = {}
    for f in found:
        if f.content is not None:
            copies.setdefault(f.content, []).append(f)
    # The copy that carries the call: the one stored before if it is still here (so a rerun
    # neither moves the call nor re-scores it), otherwise the first in discovery order.
    primary = {cid: next((f.rel for f in fs if cid in done and f.rel == done[cid].source), fs[0].rel)
               for cid, fs in copies.items()}
    steps = []
    for f in found:
        if f.content is None:
            cid = rows.path_id("unreadable", f.rel)
            prev = done.get(cid)
            steps.append(Step(Action.PROCESS, Job(f.path, f.rel, cid, _date(prev)), prev))
        elif primary[f.content] != f.rel:
            did = rows.path_id("dup", f.rel)  # its own key, so it gets its own part
            prev = done.get(did)
            steps.append(Step(Action.DUPLICATE, Job(f.path, f.rel, did, _date(prev)), prev, f.content))
        else:
            prev = done.get(f.content)
            job = Job(f.path, f.rel, f.content, _date(prev))
            if prev is None or not prev.ok or prev.config_hash != stamp.config_hash:
                steps.append(Step(Action.PROCESS, job, prev))
            elif prev.scorecard_version == stamp.scorecard_version and prev.source == f.rel:
                steps.append(Step(Action.SKIP, job, prev))
            else:
                steps.append(Step(Action.RESCORE, job, prev))
    planned = {s.job.call_id for s in steps}
    rels = {f.rel for f in found}
    obsolete = tuple(r for r in stored if r.source in rels and r.call_id not in planned)
    return Plan(tuple(steps), obsolete)


def _date(prev: CallRow | None) -> str | None:
    return prev.call_date if prev is not None else None


def run(root: Path, out: Path, engine: Engine, progress: Progress | None = None, workers: int = 1,
        engine_name: str = "local", ray_address: str | None = None) -> Summary:
    """Process every recording under root into out; resumable and safe to kill at any moment.

    Raises lock.BusyError when another run holds OUT, store.StoreError when OUT cannot be
    written (the run stops; no partial part is left visible)."""
    t_start, started = time.perf_counter(), rows.now()
    with run_lock(out):
        no_stray_writers(out)
        store = Store(out)
        for gone in store.recover():
            log.warning("%s: left by an interrupted run, removed", gone)
        found = survey(root, discover(root, engine.cfg.audio.extensions))
        the_plan = plan(found, store.rows(), engine.stamp)
        for row in the_plan.obsolete:
            log.warning("%s: stored as %s, which it no longer is; row removed", row.source, row.call_id)
            store.remove(row.call_id, row.call_date)
        summary = Summary(files=len(found))
        tick = _ticker(progress, len(found))
        jobs: list[Job] = []
        for step in the_plan.steps:
            if step.action is Action.SKIP:
                summary.skipped += 1
                tick(step.prev, "skipped")
            elif step.action is Action.RESCORE and (call := store.load_call(step.prev)) is not None:
                row = rescore_call(step.prev, call, engine, store, source=step.job.rel)
                summary.rescored += 1
                summary.findings += row.n_findings
                tick(row, "rescored")
            elif step.action is not Action.DUPLICATE:
                jobs.append(step.job)
        for row in _execute(jobs, out, engine, workers, engine_name, ray_address):
            summary.add(row)
            tick(row, row.status)
        # After the originals: a duplicate row never points at a call that was never tried.
        for step in the_plan.steps:
            if step.action is Action.DUPLICATE:
                row = _duplicate(step, engine, store)
                summary.duplicates.append(row)
                tick(row, "duplicate")
        summary.wall_s = time.perf_counter() - t_start
        sources = {s.job.call_id: s.job.rel for s in the_plan.steps}
        manifest.write(out, summary, _about(engine, root, out, workers, engine_name), started, sources)
    return summary


def _duplicate(step: Step, engine: Engine, store: Store) -> CallRow:
    prev = step.prev
    if prev is not None and prev.status == Status.DUPLICATE and prev.duplicate_of == step.duplicate_of:
        return prev
    row = rows.duplicate(new_row(step.job.call_id, step.job.rel, engine), step.duplicate_of)
    store.save_call(row, moved_from=step.job.stored_date)
    return row


def _execute(jobs: list[Job], out: Path, engine: Engine, workers: int, engine_name: str,
             ray_address: str | None) -> Iterator[CallRow]:
    if not jobs:
        return iter(())
    if engine_name == "ray":
        from pipeline.ray_engine import run_ray  # imported here: Ray is an optional extra

        return run_ray(jobs, out, engine, workers, ray_address)
    from pipeline.executors import run_pool

    return run_pool(jobs, out, engine, workers)


def _ticker(progress: Progress | None, total: int) -> Callable[[Any, str], None]:
    count = 0

    def tick(row: CallRow, what: str) -> None:
        nonlocal count
        count += 1
        if progress:
            progress(count, total, row, what)

    return tick


def _about(engine: Engine, root: Path, out: Path, workers: int, engine_name: str) -> dict[str, Any]:
    asr = engine.cfg.asr
    return {"input": str(root), "output": str(out), "engine": engine_name, "workers": workers,
            "run_config": engine.cfg.path, "config_hash": engine.config_hash,
            "model": str(asr.model_path()), "device": asr.device, "compute_type": asr.compute_type,
            "scorecard": engine.card.path, "scorecard_version": engine.card.version}


def rescore(out: Path, engine: Engine, progress: Progress | None = None) -> Summary:
    """Re-score every stored call from its turns with the current scorecard and lexicons (see
    pipeline/rescoring.py, which also returns the diff and does dry runs)."""
    from pipeline import rescoring

    return rescoring.rescore(out, engine, progress).summary
