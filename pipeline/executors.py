"""Run planned jobs through the worker: in this process, or in a local pool of processes.

(Ray actors, the third way, are in pipeline/ray_engine.py.) Executors know how to get `worker.process`
called, once per job, and yield its rows; they decide nothing about what to process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO

from pipeline import rows
from pipeline.lifeline import die_with_parent
from pipeline.lock import hold_as_writer
from pipeline.rows import CallRow
from pipeline.store import Store
from pipeline.worker import Engine, Job, new_row, process

log = logging.getLogger("callqa")

# One engine per worker process, set by the pool's initializer (the model loads on first use).
_worker: tuple[Engine, Store, IO[str]] | None = None


def _init_worker(engine: Engine, out: Path, parent_pid: int) -> None:
    global _worker
    die_with_parent(parent_pid)  # before anything slow: a killed run must leave no worker behind
    _worker = (engine, Store(out), hold_as_writer(out))


def _process_in_worker(job: Job) -> CallRow:
    assert _worker is not None
    engine, store, _ = _worker
    return process(job, engine, store)


def run_here(jobs: list[Job], out: Path, engine: Engine) -> Iterator[CallRow]:
    store = Store(out)
    for job in jobs:
        yield process(job, engine, store)


def run_pool(jobs: list[Job], out: Path, engine: Engine, workers: int) -> Iterator[CallRow]:
    """Process jobs in a pool of processes, one model each; in this process when one would do.

    A worker that dies (killed, out of memory, a crash in native code) breaks the pool: its calls
    are retried once in a fresh pool, and a call that kills a worker twice becomes an error row.
    A StoreError from any worker (the output cannot be written) stops the pool and is re-raised.
    """
    if workers <= 1 or len(jobs) <= 1:
        yield from run_here(jobs, out, engine)
        return
    ctx = multiprocessing.get_context("spawn")  # CTranslate2's threads and fork do not mix
    pending, crashed = list(jobs), dict[str, int]()
    while pending:
        pool = ProcessPoolExecutor(min(workers, len(pending)), mp_context=ctx, initializer=_init_worker,
                                   initargs=(engine.for_workers(workers), out, os.getpid()))
        try:
            futures = {pool.submit(_process_in_worker, job): job for job in pending}
            pending = []
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = futures.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        crashed[job.call_id] = crashed.get(job.call_id, 0) + 1
                        if crashed[job.call_id] < 2:
                            pending.append(job)
                        else:
                            yield _crash_row(job, engine, out)
        finally:
            # On an error (or the consumer stopping) cancel what has not started; what has started
            # finishes its call: every part it writes is atomic, so there is nothing to undo.
            pool.shutdown(wait=True, cancel_futures=True)


def _crash_row(job: Job, engine: Engine, out: Path) -> CallRow:
    row = rows.failed(new_row(job.call_id, job.rel, engine),
                      f"{job.rel}: 处理进程意外退出（两次），可能是内存不足或文件触发了解码器崩溃")
    Store(out).save_call(row, moved_from=job.stored_date)
    return row
