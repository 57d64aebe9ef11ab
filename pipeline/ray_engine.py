"""Scale-out: the same worker as the local pool, run by Ray actors (one model each).

    callqa run DIR --out OUT --engine ray --workers 8                    # a local Ray, started here
    callqa run DIR --out OUT --engine ray --ray-address ray://head:10001  # an existing cluster

Every actor must see DIR and OUT at the same paths (shared storage: NFS, a mounted bucket). Results
are the same rows the local engine writes: each actor writes its calls' parts atomically, so a
killed cluster job resumes like a local one. Actors of a local Ray die with the run that started
them (a watchdog on its pid); on a cluster Ray itself ends a dead driver's actors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.lifeline import die_with
from pipeline.lock import hold_as_writer
from pipeline.rows import CallRow
from pipeline.store import Store
from pipeline.worker import Engine, Job, process


class CallWorker:
    """A Ray actor: loads the engine (and its Whisper model, on first call) once, then serves calls."""

    def __init__(self, engine: Engine, out: str, driver_pid: int | None):
        if driver_pid is not None:  # same machine as the run: go when it goes, even by kill -9
            die_with(driver_pid)
        self.engine, self.store = engine, Store(out)
        self._writer = hold_as_writer(Path(out))

    def process(self, job: Job) -> CallRow:
        return process(job, self.engine, self.store)


def run_ray(jobs: list[Job], out: Path, engine: Engine, workers: int,
            address: str | None = None) -> Iterator[CallRow]:
    import ray
    from ray.util import ActorPool

    started_here = not ray.is_initialized()
    if started_here:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no telemetry
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=workers, **kwargs)
    local = started_here and not address
    try:
        options: dict[str, Any] = {"num_cpus": 1}
        if local:
            # Ray starts its workers with OMP_NUM_THREADS=1, which numpy's OpenBLAS reads on import,
            # and the mel features (hence a few words) come out differently with another thread
            # count: give the actors what a local pool worker gets, so both engines agree.
            threads = os.environ.get("OMP_NUM_THREADS") or str(len(os.sched_getaffinity(0)))
            options["runtime_env"] = {"env_vars": {"OMP_NUM_THREADS": threads}}
        actor = ray.remote(**options)(CallWorker)
        shipped = engine.for_workers(workers)
        pid = os.getpid() if local else None
        pool = ActorPool([actor.remote(shipped, str(out), pid) for _ in range(max(1, workers))])
        yield from pool.map_unordered(lambda a, job: a.process.remote(job), jobs)
    finally:
        if started_here:
            ray.shutdown()
