"""Parquet store: schemas, atomic parts, readable with pandas, turns round-trip for rescoring;
opening a Store changes nothing, recovering one (the coordinator's job) cleans up a killed run."""

import errno
import os
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.model import Finding
from pipeline.rows import CallRow, Status
from pipeline.store import Store, StoreError, finding_rows, read_parts
from pipeline.tables import CALLS, FINDINGS
from pipeline.testing import call


def row(cid, status=Status.OK, **kw):
    fields = {"duration_s": 12.0, "n_turns": 2, "n_findings": 1, "points": 1.0, "scorecard_version": "v1"}
    return CallRow(cid, f"{cid}.wav", status=status, **(fields | kw))


def finding(cid):
    return Finding("f1", cid, f"{cid}.wav", "T002", "silence_gap", "attitude.silence_gap", 1.0,
                   2.0, 6.5, "agent", "静默", "我的快递到哪了", 0.9)


def test_tables_read_with_pandas_and_turns_round_trip(tmp_path):
    store = Store(tmp_path)
    c = call("C 1.0 2.0 我的快递到哪了\nA 6.5 8.0 您好我帮您查一下", id="abc")
    store.save_call(row("abc", duration_s=c.duration), c, [finding("abc")])
    store.save_call(row("bad", status=Status.ERROR, error="bad.wav: 空文件（0 字节）", duration_s=None))
    calls = pd.read_parquet(tmp_path / "calls")
    assert sorted(calls["status"]) == ["error", "ok"]
    findings = pd.read_parquet(tmp_path / "findings")
    assert list(findings["rule_name"]) == ["silence_gap"] and findings["scorecard_version"][0] == "v1"
    turns = pd.read_parquet(tmp_path / "turns")
    assert list(turns["role"]) == ["customer", "agent"]
    ((stored_row, again),) = list(Store(tmp_path).load_calls())
    assert again == c and stored_row["call_id"] == "abc"
    # typed rows read back equal to what was written
    assert {r.call_id: r for r in Store(tmp_path).rows()}["abc"] == row("abc", duration_s=c.duration)


def test_opening_a_store_never_deletes_a_part_in_flight(tmp_path):
    """A late-starting worker opens the store while another worker is writing a part."""
    Store(tmp_path).save_call(row("abc"), call("A 1 2 您好", id="abc"), [])
    in_flight = tmp_path / "turns" / "call_date=unknown" / ".xyz.123.tmp"
    in_flight.write_bytes(b"half a file")
    late = Store(tmp_path)
    late.save_call(row("def"), call("A 1 2 您好", id="def"), [])
    assert late.calls() and in_flight.exists()


def test_recover_removes_temporary_parts_and_uncommitted_calls(tmp_path):
    store = Store(tmp_path)
    store.save_call(row("abc"), call("A 1 2 您好", id="abc"), [])
    (tmp_path / "calls" / "call_date=unknown" / ".abc.123.tmp").write_bytes(b"half a file")
    # a call killed between its turns and its `calls` row: turns without the commit mark
    store.write("turns", "zzz", [], "unknown")
    removed = Store(tmp_path).recover()
    assert len(removed) == 2
    assert not list(tmp_path.glob("*/*/.*"))
    assert not (tmp_path / "turns" / "call_date=unknown" / "zzz.parquet").exists()
    assert len(pd.read_parquet(tmp_path / "calls")) == 1


def test_rewriting_a_call_replaces_its_rows(tmp_path):
    store = Store(tmp_path)
    c = call("A 1 2 您好", id="abc")
    store.save_call(row("abc"), c, [finding("abc")])
    store.save_call(row("abc", n_findings=0), c, [])
    assert len(pd.read_parquet(tmp_path / "calls")) == 1
    assert len(pd.read_parquet(tmp_path / "findings")) == 0


def test_finding_rows_carry_every_column():
    (r,) = finding_rows([finding("abc")], "v9")
    for col in ("call_id", "source", "rule", "rule_name", "item", "points", "start_s", "end_s", "role",
                "message", "quote", "confidence", "status", "id", "scorecard_version"):
        assert col in r
    assert r["status"] == "suggested"


def test_calls_are_partitioned_by_date_and_move_when_their_date_changes(tmp_path):
    store = Store(tmp_path)
    c = call("A 1 2 您好", id="abc")
    store.save_call(row("abc", duration_s=c.duration), c, [finding("abc")])
    store.save_call(row("abc", duration_s=c.duration, call_date="2026-11-21"), c, [finding("abc")],
                    moved_from="unknown")
    calls = pd.read_parquet(tmp_path / "calls")
    assert list(calls["call_date"].astype(str)) == ["2026-11-21"]
    assert len(pd.read_parquet(tmp_path / "findings")) == 1
    assert sorted(p.parent.name for p in tmp_path.glob("*/*/abc.parquet")) == ["call_date=2026-11-21"] * 3
    # a kill between writing the new calls row and removing the old one leaves two: the newer wins
    old = tmp_path / "calls" / "call_date=2026-11-20" / "abc.parquet"
    old.parent.mkdir()
    old.write_bytes((tmp_path / "calls" / "call_date=2026-11-21" / "abc.parquet").read_bytes())
    os.utime(old, (1, 1))
    assert [r["call_date"] for r in Store(tmp_path).calls()] == ["2026-11-21"]
    assert old.exists()  # reading changes nothing
    Store(tmp_path).recover()
    assert not old.exists()


def test_parts_without_newer_columns_still_read(tmp_path):
    """Parts written before `duplicate_of` existed read back with it empty."""
    store = Store(tmp_path)
    store.save_call(row("abc"), call("A 1 2 您好", id="abc"), [])
    part = tmp_path / "calls" / "call_date=unknown" / "abc.parquet"
    pq.write_table(pq.read_table(part).drop_columns(["duplicate_of"]), part)
    (r,) = Store(tmp_path).rows()
    assert r.call_id == "abc" and r.duplicate_of == ""


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "磁盘已满"), (errno.EROFS, "文件系统只读")])
def test_a_failed_write_names_the_path_and_leaves_no_partial_part(tmp_path, monkeypatch, code, reason):
    real = pq.write_table

    def half_then_fail(table, where, **kw):
        real(table.slice(0, 0), where, **kw)  # some bytes are encoded, then the disk is full
        raise OSError(code, os.strerror(code), where)

    store = Store(tmp_path)
    monkeypatch.setattr(pq, "write_table", half_then_fail)
    with pytest.raises(StoreError) as e:
        store.save_call(row("abc"), call("A 1 2 您好", id="abc"), [])
    assert "abc.parquet" in str(e.value) and reason in str(e.value)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing half-written, visible or not


def test_a_write_that_fails_on_the_disk_leaves_no_temporary_part(tmp_path, monkeypatch):
    """Parts are encoded in memory and written in one go: a disk that fills up after the bytes
    went out (at fsync) still leaves nothing behind, and the old part stays as it was."""
    store = Store(tmp_path)
    c = call("A 1 2 您好", id="abc")
    store.save_call(row("abc"), c, [finding("abc")])
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")}

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StoreError, match="磁盘已满"):
        store.save_call(row("abc", n_findings=0), c, [])
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")} == before
    assert not list(tmp_path.rglob(".*"))


def test_parts_are_snappy_without_statistics_and_read_back_typed(tmp_path):
    store = Store(tmp_path)
    store.save_call(row("abc", call_time=datetime(2026, 11, 21, 9, 30)), call("A 1 2 您好", id="abc"),
                    [finding("abc")])
    part = tmp_path / "calls" / "call_date=unknown" / "abc.parquet"
    meta = pq.read_metadata(part)
    assert meta.row_group(0).column(0).compression == "SNAPPY"
    assert meta.row_group(0).column(0).statistics is None
    (r,) = read_parts([part], CALLS).to_pylist()
    assert r["call_time"] == datetime(2026, 11, 21, 9, 30) and r["status"] == "ok"


def test_read_parts_conforms_old_and_new_parts_to_the_schema(tmp_path):
    """A zstd part from before a column existed, with a column the schema no longer knows, reads
    beside a new one: missing as null, unknown dropped, seconds kept as seconds."""
    store = Store(tmp_path)
    for cid in ("abc", "def"):
        store.save_call(row(cid), call("A 1 2 您好", id=cid), [finding(cid)])
    old = tmp_path / "calls" / "call_date=unknown" / "abc.parquet"
    t = pq.read_table(old).drop_columns(["risk_reasons", "complaint_risk"])
    pq.write_table(t.append_column("retired", pa.array(["x"])), old, compression="zstd")
    both = read_parts([old, tmp_path / "calls" / "call_date=unknown" / "def.parquet"], CALLS)
    assert both.schema == CALLS
    a, d = both.to_pylist()
    assert a["risk_reasons"] is None and d["risk_reasons"] == "" and a["n_findings"] == 1
    assert read_parts([], FINDINGS).schema == FINDINGS


def test_save_rescored_writes_what_save_call_does(tmp_path):
    one, many = Store(tmp_path / "one"), Store(tmp_path / "many")
    results = []
    for i, cid in enumerate(("abc", "def", "ghi")):
        c = call("A 1 2 您好", id=cid)
        fs = [finding(cid)] * i  # none, one, two
        r = row(cid, n_findings=i, call_date="2026-11-21")
        one.save_call(r, c, fs)
        many.save_call(row(cid, n_findings=0, call_date="2026-11-21"), c, [])
        results.append((r, fs))
    many.save_rescored(results, threads=2)
    for table, schema in (("calls", CALLS), ("findings", FINDINGS)):
        for cid in ("abc", "def", "ghi"):
            a, b = (read_parts([s.part(table, cid, "2026-11-21")], schema) for s in (one, many))
            assert a.equals(b), (table, cid)
