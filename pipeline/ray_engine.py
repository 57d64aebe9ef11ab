"""Scale-out: the same per-call function as the local engine, run by Ray actors (one model each).

    callqa run DIR --out OUT --engine ray --workers 8                    # a local Ray, started here
    callqa run DIR --out OUT --engine ray --ray-address ray://head:10001  # an existing cluster

Every actor must see DIR and OUT at the same paths (shared storage: NFS, a mounted bucket). Results
are the same rows the local engine writes: each actor writes its calls' parts atomically, so a
killed cluster job resumes like a local one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.batch import Engine, process_file
from pipeline.store import Store


class CallWorker:
    """A Ray actor: loads the engine (and its Whisper model, on first call) once, then serves calls."""

    def __init__(self, engine: Engine, out: str):
        self.engine, self.store = engine, Store(out)

    def process(self, path: str, root: str, call_id: str | None) -> dict[str, Any]:
        return process_file(Path(path), Path(root), self.engine, self.store, call_id)


def process_ray(jobs: list[tuple[Path, str | None]], root: Path, out: Path, engine: Engine,
                workers: int, address: str | None = None) -> Iterator[dict[str, Any]]:
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
    try:
        actor = ray.remote(num_cpus=1)(CallWorker)
        shipped = engine.for_workers(workers)
        pool = ActorPool([actor.remote(shipped, str(out)) for _ in range(max(1, workers))])
        jobs_ = [(str(p), str(root), cid) for p, cid in jobs]
        yield from pool.map_unordered(lambda a, job: a.process.remote(*job), jobs_)
    finally:
        if started_here:
            ray.shutdown()
