"""Who may read what the workbench keeps on disk: its owner, and nobody else on the machine.

`review.db` holds password hashes, the login audit and every decision; `review.key` signs the
cookies. Both are created 0600 before anything is written into them (never created wider and
narrowed later, which would leave a window), SQLite's `-wal` and `-shm` follow the database's
mode, and the exports (`reviews/`, `review_events/`) are written 0600 on purpose. A file found
wider (made by an older callqa, or copied) is narrowed and reported, so the server can warn.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

PRIVATE = 0o600  # owner read/write: the service account that runs `callqa review`
KEY_NAME = "review.key"
JOURNALS = ("-wal", "-shm", "-journal")


def create_private(path: Path) -> None:
    """Make `path` as an empty 0600 file if it does not exist (O_EXCL: never follow a planted
    link, never widen a file someone else made)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
    except FileExistsError:
        return
    os.close(fd)


def narrow(paths: list[Path]) -> list[tuple[Path, int]]:
    """chmod each existing file that group or others may use to 0600; returns (path, old mode)."""
    widened = []
    for p in paths:
        try:
            mode = stat.S_IMODE(p.lstat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077 and not p.is_symlink():
            os.chmod(p, PRIVATE)
            widened.append((p, mode))
    return widened


def db_files(db: Path) -> list[Path]:
    """The database and the journal files SQLite keeps beside it."""
    return [db] + [db.with_name(db.name + j) for j in JOURNALS]


def secret_key(out: Path) -> str:
    """The cookie-signing key in OUT/review.key (0600), made on the server's first start.

    Kept out of review.db so a copy of the database (for a report, a bug) carries no key; and
    the key alone signs nothing useful: a cookie names a server-side session (sessions.py)."""
    path = Path(out) / KEY_NAME
    create_private(path)
    narrow([path])
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        key = secrets.token_urlsafe(48)
        with open(path, "w", encoding="ascii") as f:
            f.write(key + "\n")
    return key


def write_private(table: pa.Table, path: Path) -> None:
    """Write a Parquet file readers see whole or not at all, mode 0600 from its first byte
    (mkstemp makes 0600 files; the rename keeps the mode)."""
    import pyarrow.parquet as pq  # here, so `callqa users` and `--help` never load pyarrow

    from pipeline.parts import output_error
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            pq.write_table(table, f, compression="zstd")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, PRIVATE)  # mkstemp's 0600 already; said again so a change there cannot widen it
        os.replace(tmp, path)
    except OSError as e:
        raise output_error(path, e) from e
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
