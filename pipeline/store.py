"""Parquet output: tables `calls`, `turns`, `findings`, one part file per call per table.

    OUT/calls/<call_id>.parquet      one row: status, error, duration, model, versions, timings
    OUT/turns/<call_id>.parquet      one row per turn, with its words (so rules re-run without ASR)
    OUT/findings/<call_id>.parquet   one row per suggested deduction

Each table reads whole with `pandas.read_parquet(OUT / "findings")`. Parts are written to a hidden
temporary file and renamed into place (atomic on POSIX; readers skip names starting with "."), and a
call's `calls` row is written last: a call is done exactly when its `calls` part exists, so a batch
killed at any moment resumes without losing or duplicating a call.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.model import Call, Finding, Role, Turn, Word

WORD = pa.struct([("text", pa.string()), ("start", pa.float64()), ("end", pa.float64()),
                  ("probability", pa.float64())])

CALLS = pa.schema([
    ("call_id", pa.string()),
    ("source", pa.string()),
    ("agent_id", pa.string()),  # from the file name (configs/run.yaml → metadata.pattern)
    ("call_time", pa.timestamp("s")),  # local time, as the recorder wrote it
    ("direction", pa.string()),  # inbound | outbound
    ("caller", pa.string()),  # masked by default
    ("status", pa.string()),  # ok | error
    ("error", pa.string()),  # why, naming the file; empty when ok
    ("duration_s", pa.float64()),
    ("sample_rate", pa.int32()),  # the file's own rate
    ("codec", pa.string()),
    ("channels", pa.int32()),
    ("n_turns", pa.int32()),
    ("n_findings", pa.int32()),
    ("points", pa.float64()),  # sum of suggested deductions
    ("model", pa.string()),
    ("config_hash", pa.string()),  # audio + VAD + ASR settings the turns were made with
    ("scorecard_version", pa.string()),
    ("callqa_version", pa.string()),
    ("rule_errors", pa.string()),  # JSON list of rules that crashed on this call
    ("timings", pa.string()),  # JSON {stage: seconds}
    ("processed_at", pa.timestamp("s", tz="UTC")),
])

TURNS = pa.schema([
    ("call_id", pa.string()),
    ("source", pa.string()),
    ("turn_id", pa.int32()),
    ("role", pa.string()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("text", pa.string()),
    ("words", pa.list_(WORD)),
    ("level_db", pa.float64()),
    ("language", pa.string()),
    ("language_prob", pa.float64()),
])

FINDINGS = pa.schema([
    ("id", pa.string()),
    ("call_id", pa.string()),
    ("source", pa.string()),
    ("rule", pa.string()),
    ("rule_name", pa.string()),
    ("item", pa.string()),
    ("points", pa.float64()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("role", pa.string()),
    ("message", pa.string()),
    ("quote", pa.string()),
    ("confidence", pa.float64()),
    ("severity", pa.string()),
    ("status", pa.string()),
    ("scorecard_version", pa.string()),
])

TABLES = {"calls": CALLS, "turns": TURNS, "findings": FINDINGS}


def write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def turn_rows(call: Call) -> list[dict[str, Any]]:
    return [
        {"call_id": call.id, "source": call.source, "turn_id": t.id, "role": t.role.value,
         "start_s": t.start, "end_s": t.end, "text": t.text,
         "words": [{"text": w.text, "start": w.start, "end": w.end, "probability": w.probability}
                   for w in t.words],
         "level_db": t.level_db, "language": t.language, "language_prob": t.language_prob}
        for t in call.turns
    ]


def finding_rows(findings: Iterable[Finding], scorecard_version: str) -> list[dict[str, Any]]:
    return [asdict(f) | {"scorecard_version": scorecard_version} for f in findings]


class Store:
    """The output folder. Parts live under `<table>/call_date=<YYYY-MM-DD|unknown>/<call_id>.parquet`
    (Hive partitioning: readers get a `call_date` column and can prune by date)."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        for name in TABLES:
            (self.out / name).mkdir(parents=True, exist_ok=True)
        for stale in self.out.glob("*/*/.*.tmp"):  # left by a killed run
            stale.unlink(missing_ok=True)
        self.dates: dict[str, str] = {}
        # A call saved under a new date is removed from its old one after its new `calls` row is in
        # place; a kill in between leaves two: keep the newer.
        for part in sorted((self.out / "calls").glob("call_date=*/*.parquet"), key=lambda p: p.stat().st_mtime):
            cid, date = part.stem, part.parent.name.split("=", 1)[1]
            if cid in self.dates:
                self._remove(cid, self.dates[cid])
            self.dates[cid] = date

    def part(self, table: str, call_id: str, call_date: str | None = None) -> Path:
        date = call_date or self.dates.get(call_id, "unknown")
        return self.out / table / f"call_date={date}" / f"{call_id}.parquet"

    def _remove(self, call_id: str, call_date: str) -> None:
        for table in TABLES:
            self.part(table, call_id, call_date).unlink(missing_ok=True)

    def write(self, table: str, call_id: str, rows: list[dict[str, Any]], call_date: str) -> None:
        write_atomic(pa.Table.from_pylist(rows, schema=TABLES[table]), self.part(table, call_id, call_date))

    def save_call(self, row: dict[str, Any], call: Call | None, findings: list[Finding],
                  scorecard_version: str, call_date: str = "unknown") -> None:
        """Write one call: turns and findings first, the `calls` row last (the commit mark)."""
        cid = row["call_id"]
        if call is not None:
            self.write("turns", cid, turn_rows(call), call_date)
            self.write("findings", cid, finding_rows(findings, scorecard_version), call_date)
        else:  # an error row: clear anything a previous attempt left for this id
            for table in ("turns", "findings"):
                self.part(table, cid, call_date).unlink(missing_ok=True)
        self.write("calls", cid, [{k: v for k, v in row.items() if k != "call_date"}], call_date)
        old = self.dates.get(cid)
        if old is not None and old != call_date:
            self._remove(cid, old)
        self.dates[cid] = call_date

    def calls(self) -> list[dict[str, Any]]:
        """Every `calls` row, with its `call_date` partition (one multi-threaded scan)."""
        import pyarrow.dataset as ds

        if not self.dates:
            return []
        table = ds.dataset(self.out / "calls", format="parquet", partitioning="hive").to_table()
        rows = [r | {"call_date": str(r["call_date"])} for r in table.to_pylist()]
        return [r for r in rows if self.dates.get(r["call_id"]) == r["call_date"]]

    def load_calls(self) -> Iterator[tuple[dict[str, Any], Call]]:
        """Stored calls rebuilt from their turns, for re-scoring without audio or ASR."""
        for row in self.calls():
            call = self.load_call(row)
            if call is not None:
                yield row, call

    def load_call(self, row: dict[str, Any]) -> Call | None:
        part = self.part("turns", row["call_id"], row.get("call_date"))
        if row["status"] != "ok" or not part.exists():
            return None
        turns = pq.read_table(part).to_pylist()
        return Call(
            row["call_id"],
            row["duration_s"],
            tuple(
                Turn(t["turn_id"], Role(t["role"]), t["start_s"], t["end_s"], t["text"],
                     tuple(Word(w["text"], w["start"], w["end"], w["probability"]) for w in t["words"]),
                     t.get("level_db"), t.get("language") or "", t.get("language_prob") or 0.0)
                for t in sorted(turns, key=lambda t: (t["start_s"], t["turn_id"]))
            ),
            row["source"],
        )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
