"""Parquet output: tables `calls`, `turns`, `findings`, one part file per call per table.

    OUT/calls/call_date=D/<call_id>.parquet      one row (rows.CallRow): status, error, versions
    OUT/turns/call_date=D/<call_id>.parquet      one row per turn, with its words (rescore w/o ASR)
    OUT/findings/call_date=D/<call_id>.parquet   one row per suggested deduction

Each table reads whole with `pandas.read_parquet(OUT / "findings")`. Parts are written to a hidden
temporary file and renamed into place (atomic on POSIX; readers skip names starting with "."), and a
call's `calls` row is written last: a call is done exactly when its `calls` part exists.

Opening a Store changes nothing on disk, so any number of workers (and readers) may open one while
others write. Cleaning up after a killed run (`recover`) deletes other writers' temporary files and
is therefore done once, by the run's coordinator, under the output lock, before any worker starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.model import Call, Finding, Role, Turn, Word
from pipeline.parts import PART, StoreError, output_error, read_parts, write_atomic
from pipeline.rows import CallRow, Status
from pipeline.tables import CALLS, FINDINGS, TABLES, TURNS, finding_rows, turn_rows

class Store:
    """The output folder. Parts live under `<table>/call_date=<YYYY-MM-DD|unknown>/<call_id>.parquet`
    (Hive partitioning: readers get a `call_date` column and can prune by date)."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self._dates: dict[str, str] | None = None  # call_id → date of its newest `calls` part

    @property
    def dates(self) -> dict[str, str]:
        if self._dates is None:
            self._dates = {cid: parts[-1][1] for cid, parts in self._calls_parts().items()}
        return self._dates

    def _calls_parts(self) -> dict[str, list[tuple[float, str]]]:
        """call_id → [(mtime, date)] of its `calls` parts, oldest first."""
        found: dict[str, list[tuple[float, str]]] = {}
        for part in (self.out / "calls").glob("call_date=*/*.parquet"):
            try:
                mtime = part.stat().st_mtime
            except FileNotFoundError:  # moved by a writer while we looked
                continue
            found.setdefault(part.stem, []).append((mtime, part.parent.name.split("=", 1)[1]))
        return {cid: sorted(parts) for cid, parts in found.items()}

    def recover(self) -> list[Path]:
        """Undo what a killed run left half done; return what was removed. Only safe while nobody
        writes (the coordinator calls it under the output lock, before starting workers):
        temporary parts are deleted; a call saved under a new date and killed before its old date
        was removed keeps the newer; turns/findings parts with no `calls` row (a call killed before
        its commit mark) are deleted."""
        removed: list[Path] = []
        try:
            for name in TABLES:
                (self.out / name).mkdir(parents=True, exist_ok=True)
            for stale in [*self.out.glob("*/*/.*.tmp"), *self.out.glob("runs/.*.tmp")]:
                stale.unlink(missing_ok=True)
                removed.append(stale)
            parts = self._calls_parts()
            for cid, dated in parts.items():
                for _, date in dated[:-1]:
                    removed += self.remove(cid, date)
            self._dates = {cid: dated[-1][1] for cid, dated in parts.items()}
            for table in ("turns", "findings"):
                for part in (self.out / table).glob("call_date=*/*.parquet"):
                    if self._dates.get(part.stem) != part.parent.name.split("=", 1)[1]:
                        part.unlink(missing_ok=True)
                        removed.append(part)
        except OSError as e:
            raise output_error(getattr(e, "filename", None) or self.out, e) from e
        return removed

    def part(self, table: str, call_id: str, call_date: str | None = None) -> Path:
        date = call_date or self.dates.get(call_id, "unknown")
        return self.out / table / f"call_date={date}" / f"{call_id}.parquet"

    def remove(self, call_id: str, call_date: str) -> list[Path]:
        """Delete one call's parts under one date, its `calls` row first (so it reads as not done
        rather than as done without turns)."""
        gone = []
        for table in ("calls", "turns", "findings"):
            p = self.part(table, call_id, call_date)
            try:
                p.unlink()
                gone.append(p)
            except FileNotFoundError:
                pass
            except OSError as e:
                raise output_error(p, e) from e
        if self._dates is not None and self._dates.get(call_id) == call_date:
            del self._dates[call_id]
        return gone

    def write(self, table: str, call_id: str, rows: list[dict[str, Any]], call_date: str) -> None:
        data = pa.Table.from_pylist(rows, schema=TABLES[table])
        write_atomic(data, self.part(table, call_id, call_date), **PART)

    def save_call(self, row: CallRow, call: Call | None = None, findings: Iterable[Finding] = (),
                  moved_from: str | None = None, turns: bool = True) -> None:
        """Write one call: turns and findings first, the `calls` row last (the commit mark).
        `moved_from`: the date the call was stored under before, removed once the new row is in.
        `turns=False`: the stored turns part is the call's already (a rescore in place)."""
        cid, date = row.call_id, row.call_date
        if call is not None:
            if turns or (moved_from is not None and moved_from != date):
                self.write("turns", cid, turn_rows(call), date)
            self.write("findings", cid, finding_rows(findings, row.scorecard_version), date)
        else:  # an error or duplicate row: clear anything a previous attempt left for this id
            for table in ("turns", "findings"):
                p = self.part(table, cid, date)
                try:
                    p.unlink(missing_ok=True)
                except OSError as e:
                    raise output_error(p, e) from e
        self.write("calls", cid, [row.record()], date)
        if moved_from is not None and moved_from != date:
            self.remove(cid, moved_from)
        if self._dates is not None:
            self._dates[cid] = date

    def save_rescored(self, results: list[tuple[CallRow, list[Finding]]], threads: int = 4,
                      turns: Mapping[str, Call] | None = None) -> None:
        """Rewrite the findings and `calls` parts of calls re-scored where they are (same date),
        as `save_call(row, call, findings, turns=False)` does one by one, each call's `calls` part
        after its findings; each table is built once for all of them and `threads` write the parts
        (encoding and fsync let go of the GIL). `turns`: calls whose turns changed (new emotion
        states after a lexicon edit), by id; their turns part is written first."""
        turns = turns or {}
        found = [finding_rows(fs, r.scorecard_version) for r, fs in results]
        calls = pa.Table.from_pylist([r.record() for r, _ in results], schema=CALLS)
        findings = pa.Table.from_pylist([f for fs in found for f in fs], schema=FINDINGS)
        starts = [0]
        for fs in found:
            starts.append(starts[-1] + len(fs))

        def one(i: int) -> None:
            cid, date = results[i][0].call_id, results[i][0].call_date
            if cid in turns:
                self.write("turns", cid, turn_rows(turns[cid]), date)
            write_atomic(findings.slice(starts[i], len(found[i])), self.part("findings", cid, date), **PART)
            write_atomic(calls.slice(i, 1), self.part("calls", cid, date), **PART)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(len(results))))
        for r, _ in results:
            if self._dates is not None:
                self._dates[r.call_id] = r.call_date

    def calls(self) -> list[dict[str, Any]]:
        """Every `calls` row as a dict, with its `call_date` partition (one multi-threaded scan).
        A call found under two dates (a kill mid-move) is read from the newer."""
        import pyarrow.dataset as ds

        if not self.dates:
            return []
        part = pa.schema([("call_date", pa.string())])
        table = ds.dataset(self.out / "calls", format="parquet", schema=CALLS.append(part.field(0)),
                           partitioning=ds.partitioning(part, flavor="hive")).to_table()
        return [r for r in table.to_pylist() if self.dates.get(r["call_id"]) == r["call_date"]]

    def rows(self) -> list[CallRow]:
        """Every `calls` row, typed."""
        return [CallRow.from_record(r) for r in self.calls()]

    def load_calls(self) -> Iterator[tuple[dict[str, Any], Call]]:
        """Stored calls rebuilt from their turns, for re-scoring without audio or ASR."""
        for row in self.calls():
            call = self.load_call(row)
            if call is not None:
                yield row, call

    def load_call(self, row: dict[str, Any] | CallRow) -> Call | None:
        """The Call behind a `calls` row (a dict from `calls()` or a CallRow); None unless ok."""
        r = row if isinstance(row, CallRow) else CallRow.from_record(row)
        dated = isinstance(row, CallRow) or row.get("call_date")  # a bare dict: where it is stored
        part = self.part("turns", r.call_id, r.call_date if dated else None)
        if r.status != Status.OK or not part.exists():
            return None
        turns = pq.read_table(part).to_pylist()
        return Call(
            r.call_id,
            r.duration_s or 0.0,
            tuple(
                Turn(t["turn_id"], Role(t["role"]), t["start_s"], t["end_s"], t["text"],
                     tuple(Word(w["text"], w["start"], w["end"], w["probability"]) for w in t["words"]),
                     t.get("level_db"), t.get("language") or "", t.get("language_prob") or 0.0,
                     t.get("pitch_hz"), t.get("pitch_range_st"), t.get("emotion"), t.get("emotion_cues") or "")
                for t in sorted(turns, key=lambda t: (t["start_s"], t["turn_id"]))
            ),
            r.source,
            bool(r.mixed),
            r.reliability if r.reliability is not None else 1.0,
        )


__all__ = ["CALLS", "FINDINGS", "PART", "TABLES", "TURNS", "Store", "StoreError", "finding_rows",
           "output_error", "read_parts", "turn_rows", "write_atomic"]
