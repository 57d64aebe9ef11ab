"""Parquet store: schemas, atomic parts, readable with pandas, turns round-trip for rescoring."""

import pandas as pd

from pipeline.model import Finding
from pipeline.store import Store, finding_rows
from pipeline.testing import call


def row(cid, status="ok", **kw):
    return {"call_id": cid, "source": f"{cid}.wav", "status": status, "error": "", "duration_s": 12.0,
            "n_turns": 2, "n_findings": 1, "points": 1.0, "scorecard_version": "v1"} | kw


def finding(cid):
    return Finding("f1", cid, f"{cid}.wav", "T002", "silence_gap", "attitude.silence_gap", 1.0,
                   2.0, 6.5, "agent", "静默", "我的快递到哪了", 0.9)


def test_tables_read_with_pandas_and_turns_round_trip(tmp_path):
    store = Store(tmp_path)
    c = call("C 1.0 2.0 我的快递到哪了\nA 6.5 8.0 您好我帮您查一下", id="abc")
    store.save_call(row("abc", duration_s=c.duration), c, [finding("abc")], "v1")
    store.save_call(row("bad", status="error", error="bad.wav: 空文件（0 字节）", duration_s=None), None, [], "v1")
    calls = pd.read_parquet(tmp_path / "calls")
    assert sorted(calls["status"]) == ["error", "ok"]
    findings = pd.read_parquet(tmp_path / "findings")
    assert list(findings["rule_name"]) == ["silence_gap"] and findings["scorecard_version"][0] == "v1"
    turns = pd.read_parquet(tmp_path / "turns")
    assert list(turns["role"]) == ["customer", "agent"]
    ((stored_row, again),) = list(store.load_calls())
    assert again == c and stored_row["call_id"] == "abc"


def test_no_temporary_files_are_left_and_stale_ones_are_cleaned(tmp_path):
    store = Store(tmp_path)
    store.save_call(row("abc"), call("A 1 2 您好", id="abc"), [], "v1")
    (tmp_path / "calls" / "call_date=unknown" / ".abc.123.tmp").write_bytes(b"half a file")
    Store(tmp_path)
    assert not list(tmp_path.glob("*/*/.*"))
    assert len(pd.read_parquet(tmp_path / "calls")) == 1


def test_rewriting_a_call_replaces_its_rows(tmp_path):
    store = Store(tmp_path)
    c = call("A 1 2 您好", id="abc")
    store.save_call(row("abc"), c, [finding("abc")], "v1")
    store.save_call(row("abc", n_findings=0), c, [], "v2")
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
    store.save_call(row("abc", duration_s=c.duration), c, [finding("abc")], "v1", "unknown")
    store.save_call(row("abc", duration_s=c.duration), c, [finding("abc")], "v1", "2026-11-21")
    calls = pd.read_parquet(tmp_path / "calls")
    assert list(calls["call_date"].astype(str)) == ["2026-11-21"]
    assert len(pd.read_parquet(tmp_path / "findings")) == 1
    assert sorted(p.parent.name for p in tmp_path.glob("*/*/abc.parquet")) == ["call_date=2026-11-21"] * 3
    # a kill between writing the new calls row and removing the old one leaves two: the newer wins
    old = tmp_path / "calls" / "call_date=2026-11-20" / "abc.parquet"
    old.parent.mkdir()
    old.write_bytes((tmp_path / "calls" / "call_date=2026-11-21" / "abc.parquet").read_bytes())
    import os
    os.utime(old, (1, 1))
    assert [r["call_date"] for r in Store(tmp_path).calls()] == ["2026-11-21"]
    assert not old.exists()
