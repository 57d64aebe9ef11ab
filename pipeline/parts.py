"""One part file: written so that readers see all of it or nothing, read back typed.

Every table under OUT is a folder of small Parquet files (pipeline/store.py lays them out); this
module is how one is encoded, put in place (a hidden temporary file, fsync, rename: atomic on
POSIX, and readers skip names starting with ".") and read back, many at a time, conformed to the
table's current schema. Errors name the path, in Chinese, for the operator.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import CallqaError

_WHY = {errno.ENOSPC: "磁盘已满", errno.EDQUOT: "磁盘配额已用完", errno.EROFS: "文件系统只读",
        errno.EACCES: "没有写权限", errno.EPERM: "没有写权限"}


class StoreError(CallqaError):
    """The output cannot be written (disk full, read-only, gone): the run stops, naming the path."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"无法写入 {path}：{reason}")

    def __reduce__(self):  # raised in pool workers, re-raised in the coordinator
        return StoreError, (self.path, self.reason)


def output_error(path: str | Path, e: OSError) -> StoreError:
    return StoreError(path, _WHY.get(e.errno or 0, e.strerror or str(e)))


# A part holds one call: one `calls` row of 36 columns, a few findings, a call's turns. At that
# size zstd's per-column contexts, dictionary pages and min/max statistics cost more to write and
# read than the bytes they save (a `calls` part: 9.8 KB with zstd, 2.1 ms to encode, 1.6 ms to
# decode; snappy without them: 7 KB, 0.6 ms, 0.7 ms). Nothing prunes parts by statistics (folders
# prune by date), and parts written with zstd before read the same.
PART = {"compression": "snappy", "use_dictionary": False, "write_statistics": False}


def write_atomic(table: pa.Table, path: Path, **options: Any) -> None:
    """Write a part so that readers see the whole file or nothing, whatever fails when.
    `options`: pyarrow.parquet.write_table's (default: zstd, for tables larger than a part)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sink = pa.BufferOutputStream()  # encoded in memory: one write, no file-system layer
        pq.write_table(table, sink, **(options or {"compression": "zstd"}))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(sink.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise output_error(path, e) from e
    finally:
        if tmp is not None and os.path.exists(tmp):
            Path(tmp).unlink(missing_ok=True)


def read_parts(paths: Iterable[str | Path], schema: pa.Schema) -> pa.Table:
    """Parts read one by one into one table (for a few dozen small files a dataset scan's set-up
    costs more than the decoding), conformed to `schema`: a column a part was written without
    reads as nulls, one `schema` does not know is dropped. (Parquet keeps no seconds: timestamps
    come back in ms and are cast back, once for the table.)"""
    tables = [pq.ParquetFile(p).read(use_threads=False) for p in paths]
    if not tables:
        return schema.empty_table()
    t = pa.concat_tables(tables, promote_options="permissive")
    for f in schema:
        if t.schema.get_field_index(f.name) < 0:
            t = t.append_column(f.name, pa.nulls(len(t), f.type))
    t = t.select(schema.names)
    return t if t.schema.equals(schema) else t.cast(schema)
