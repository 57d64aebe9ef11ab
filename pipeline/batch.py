"""The nightly batch, as one import: every recording under a folder → turns, transcripts, findings.

The batch lives in the modules along its seams; this façade keeps `pipeline.batch` the one name to
import for running it:

    ingest.py       audio file → Call (decode, webrtcvad turns, faster-whisper transcripts)
    worker.py       one call → its parts in the store (Engine, Job, process, rescore_call)
    executors.py    jobs → worker, here or in a local process pool; ray_engine.py: in Ray actors
    coordinator.py  the run: lock, recover, discover, dedupe, plan, dispatch, manifest
    rows.py         the `calls` row (CallRow) and the only ways to make one
"""

from __future__ import annotations

from pipeline.coordinator import Progress, content_id, discover, plan, rescore, run
from pipeline.lock import BusyError
from pipeline.manifest import Summary
from pipeline.rows import CallRow, Status
from pipeline.store import StoreError
from pipeline.worker import Engine, Job, process, rescore_call

__all__ = ["BusyError", "CallRow", "Engine", "Job", "Progress", "Status", "StoreError", "Summary",
           "content_id", "discover", "plan", "process", "rescore", "rescore_call", "run"]
