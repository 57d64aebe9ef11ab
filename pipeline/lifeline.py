"""Worker processes die with the run that started them.

A pool worker blocked on its task pipe never notices that its parent was killed with SIGKILL: it
stays alive, holding its model (~700 MB), and could still write to the output. On Linux the kernel
can send the worker SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG); a watchdog thread that
polls the parent covers other systems, and Ray actors, whose parent is Ray's raylet, not the run.

The kernel sends the signal when the *thread* that started the worker ends, not the process: pool
workers are started by the coordinator's thread as it submits calls, and it outlives the pool.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_POLL_S = 0.5


def _pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def die_with_parent(parent_pid: int) -> None:
    """Called first thing in a pool worker: exit as soon as `parent_pid` (our parent) is gone."""
    _pdeathsig()
    # The parent may have died before prctl took effect; the kernel would then never signal us.
    if os.getppid() != parent_pid:
        os._exit(1)
    _watch(lambda: os.getppid() == parent_pid)


def die_with(pid: int) -> None:
    """Exit as soon as process `pid` (not our parent: e.g. the driver of a local Ray) is gone."""
    if not _alive(pid):
        os._exit(1)
    _watch(lambda: _alive(pid))


def _watch(alive) -> None:
    def loop() -> None:
        while alive():
            time.sleep(_POLL_S)
        # os._exit, not sys.exit: no cleanup that could block (pipes, model threads) or write.
        os._exit(1)

    threading.Thread(target=loop, name="callqa-lifeline", daemon=True).start()
