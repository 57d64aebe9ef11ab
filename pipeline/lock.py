"""Who may write an output folder: one run at a time, and no writer left over from a killed run.

    OUT/.lock      held (flock, exclusive) by the run's coordinator; holds its pid and start time
    OUT/.writers   held (flock, shared) by every worker process for as long as it lives

flock locks belong to the open file, so the kernel drops them when the process dies however it
dies (kill -9 included): a lock file left by a killed run is just a file, and the next run takes it
over. The coordinator checks `.writers` before it cleans up and starts workers: if a worker of an
earlier run still holds it, that worker could still write, and the run waits for it to go.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pipeline.errors import CallqaError
from pipeline.store import output_error

log = logging.getLogger("callqa")


class BusyError(CallqaError):
    """The output folder is in use by another run (or by workers an earlier run left behind)."""


def _open(path: Path) -> IO[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+", encoding="utf-8")  # a+: create if missing, never truncate on open
    except OSError as e:
        raise output_error(path, e) from e


def _holder(f: IO[str]) -> str:
    f.seek(0)
    try:
        who = json.loads(f.read() or "{}")
    except ValueError:
        who = {}
    pid, started = who.get("pid", "?"), who.get("started", "?")
    host = who.get("host")
    return f"进程 {pid}" + (f"（{host}）" if host and host != socket.gethostname() else "") + \
        f"，开始于 {started}"


@contextmanager
def run_lock(out: Path) -> Iterator[dict[str, object]]:
    """Hold OUT/.lock for the duration of a run; refuse at once if another run holds it."""
    path = Path(out) / ".lock"
    f = _open(path)
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(f"{out} 正在被另一个 callqa 运行使用（{_holder(f)}）；"
                            "请等它结束后再运行，或换一个输出文件夹") from None
        f.seek(0)
        if f.read().strip():  # the kernel released a killed run's lock; its file stays behind
            log.info("%s: taking over the lock of a run that is gone (%s)", path, _holder(f))
        me = {"pid": os.getpid(), "started": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
              "host": socket.gethostname(), "argv": sys.argv}
        try:
            f.seek(0)
            f.truncate()
            f.write(json.dumps(me, ensure_ascii=False))
            f.flush()
        except OSError as e:
            raise output_error(path, e) from e
        yield me
    finally:
        f.close()  # releases the lock; the stale contents are harmless (see the module doc)


def no_stray_writers(out: Path, wait_s: float = 15.0) -> None:
    """Wait until no worker process of an earlier run can still write to OUT.

    Workers die with their parent (pipeline.lifeline) within about a second; waiting covers that
    second and a slow shutdown, and a worker that outlives it is reported rather than raced."""
    f = _open(Path(out) / ".writers")
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BusyError(f"{out} 仍有上一次运行遗留的处理进程在写入（等待 {wait_s:g} 秒后仍未退出）；"
                                    f"请用 fuser {Path(out) / '.writers'} 找到并结束它们后再运行") from None
                time.sleep(0.2)
    finally:
        f.close()


def hold_as_writer(out: Path) -> IO[str]:
    """Mark this process as a writer of OUT until it exits (the returned file must stay open)."""
    f = _open(Path(out) / ".writers")
    fcntl.flock(f, fcntl.LOCK_SH)
    return f
