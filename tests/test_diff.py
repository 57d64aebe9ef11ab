"""`callqa rescore` with a diff: the pure diff, dry runs that change no file, decisions flagged
for re-review, per-entry attribution, and stores written before the `entry` column."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import cli, rescoring, scorecard
from pipeline.config import ROOT
from pipeline.diff import diff, text
from pipeline.model import finding_id
from pipeline.review import db, decisions, index
from pipeline.review.testing import BUSY, make_out
from pipeline.store import Store
from pipeline.tables import FINDINGS
from pipeline.testing import call
from tests.conftest import edited_scorecard


def row(id, points=1.0, entry="不知道", rule="W001", **kw):
    return {"id": id, "call_id": "c1", "source": "a.wav", "rule": rule, "rule_name": "forbidden_phrase",
            "item": "service.forbidden", "points": points, "start_s": 16.0, "end_s": 17.0,
            "message": "m", "quote": "不知道，这个我不清楚", "entry": entry, **kw}


def test_diff_groups_by_rule_and_entry_and_flags_decided_findings():
    old = [row("a"), row("b", entry="不清楚"), row("c", points=1.0)]
    new = [row("b", entry="不清楚"), row("c", points=0.5), row("d", entry="你错了")]
    decided = [{"finding_id": "a", "verdict": "confirmed", "fingerprint": index.fingerprint(old[0])},
               {"finding_id": "a", "verdict": "rejected", "fingerprint": index.fingerprint(old[0])},
               {"finding_id": "c", "verdict": "confirmed", "fingerprint": index.fingerprint(old[2])},
               {"finding_id": "b", "verdict": "", "fingerprint": ""}]  # a comment only: no verdict
    d = diff(old, new, decided)
    assert (d.count("removed"), d.count("added"), d.count("changed"), d.unchanged) == (1, 1, 1, 1)
    by = {g.entry: g for g in d.groups}
    assert by["不知道"].count("removed") == 1 and by["你错了"].count("added") == 1
    assert by["不知道"].changes[0].stale == 2
    assert (d.stale, d.stale_findings, d.restored) == (3, 2, 0)
    shown = text(d, dry_run=True)
    assert "词条「不知道」：消失 1 条" in shown and "00:16.0–00:17.0" in shown
    assert "已复核的 2 条建议将消失或改变，其 3 条审核决定保留" in shown and "需重新复核" in shown


def test_a_finding_that_comes_back_unchanged_restores_its_decisions():
    f = row("a")
    back = diff([], [f], [{"finding_id": "a", "verdict": "confirmed", "fingerprint": index.fingerprint(f)}])
    assert back.restored == 1 and back.stale == 0 and "恢复有效" in text(back)


def test_entry_is_recorded_but_not_part_of_the_id():
    card = scorecard.load(ROOT / "configs" / "scorecard.yaml")
    c = call(BUSY, id="c" * 20)
    findings, _ = scorecard.evaluate(c, card)
    forbidden = [f for f in findings if f.rule == "W001"]
    assert {f.entry for f in forbidden} >= {"不知道", "不清楚"}
    for f in findings:
        detail = f"{f.role}|{f.severity}|{f.quote}|{f.message}"
        assert f.id.split("-")[0] == finding_id(c.id, f.item, f.rule, f.start_s, f.end_s, detail)
    # Pinned before `entry` existed: decisions key on ids, so they must never move.
    first = next(f for f in forbidden if f.entry == "不知道")
    assert first.id == finding_id(c.id, first.item, "W001", first.start_s, first.end_s,
                                  f"agent|{first.severity}|{first.quote}|{first.message}")




def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def decided_out(tmp_path):
    """OUT with two calls and a lead's decision on the 不知道 finding (review.db closed)."""
    out = tmp_path / "out"
    make_out(out)
    conn = db.connect(out)
    index.refresh(conn, out)
    f = dict(conn.execute("SELECT * FROM findings_index WHERE rule = 'W001' AND message LIKE '%不知道%'")
             .fetchone())
    decisions.decide(conn, "wang", f, "confirm")
    conn.close()
    return out, f


def test_dry_run_changes_no_file_and_names_the_decisions_to_rereview(decided_out, tmp_path, capsys):
    out, f = decided_out
    before = _hashes(out)
    card = edited_scorecard(tmp_path)
    assert cli.main(["rescore", str(out), "--dry-run", "--scorecard", str(card)]) == 0
    shown = capsys.readouterr().out
    assert _hashes(out) == before
    assert "W001 forbidden_phrase · 词条「不知道」：消失 1 条" in shown
    assert "A001_busy.wav" in shown and "已复核的 1 条建议将消失或改变，其 1 条审核决定保留" in shown


def test_rescore_writes_and_prints_the_same_diff_and_the_workbench_flags_it(decided_out, tmp_path, capsys):
    out, f = decided_out
    card = edited_scorecard(tmp_path)
    assert cli.main(["rescore", str(out), "--dry-run", "--json", "--scorecard", str(card)]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert cli.main(["rescore", str(out), "--json", "--scorecard", str(card)]) == 0
    real = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and not real["dry_run"]
    assert dry["groups"] == real["groups"] and real["removed"] == 1 and real["decisions"]["needs_rereview"] == 1
    assert [c["id"] for g in real["groups"] for c in g["changes"]] == [f["id"]]
    conn = db.connect(out)
    index.refresh(conn, out)
    now = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM findings_index")}
    (mine,) = decisions.current(conn, f["call_id"], "wang")
    assert decisions.needs_rereview(mine, now)  # kept, and flagged
    # Again with the same lexicons: nothing changes.
    assert cli.main(["rescore", str(out), "--dry-run", "--scorecard", str(card)]) == 0
    assert "没有任何建议扣分发生变化" in capsys.readouterr().out


def test_batched_reads_equal_the_per_call_reads(tmp_path):
    out = tmp_path / "out"
    make_out(out)
    store = Store(out)
    rows = store.rows()
    calls = rescoring.load_calls(store, rows)
    assert calls == {r.call_id: store.load_call(r) for r in rows}
    found = rescoring.read_findings(store, rows)
    assert len(found) == sum(r.n_findings for r in rows) and all(isinstance(f["entry"], str) for f in found)


def test_findings_parts_written_before_the_entry_column_still_read(tmp_path):
    out = tmp_path / "out"
    make_out(out)
    store = Store(out)
    r = next(r for r in store.rows() if r.n_findings)
    part = store.part("findings", r.call_id, r.call_date)
    old = pq.read_table(part).drop(["entry"])
    old = old.cast(pa.schema([f for f in FINDINGS if f.name != "entry"]))
    pq.write_table(old, part)
    found = rescoring.read_findings(store, [r])
    assert len(found) == r.n_findings and {f["entry"] for f in found} == {""}
    assert cli.main(["rescore", str(out), "--dry-run"]) == 0  # old parts diff against new ones


def test_serial_and_pooled_rescore_agree(tmp_path):
    out = tmp_path / "out"
    specs = [(f"2026-11-2{i % 3}/A00{i % 4}_{i}.wav", BUSY if i % 2 else BUSY.replace("不知道", "好的"),
              f"2026-11-2{i % 3}", f"A00{i % 4}") for i in range(60)]
    make_out(out, calls=specs)
    card = scorecard.load(ROOT / "configs" / "scorecard.yaml")
    from pipeline.worker import Engine
    from pipeline.config import load as load_config

    engine = Engine(load_config(ROOT / "configs" / "run.yaml"), card)
    one = rescoring.rescore(out, engine, dry_run=True, workers=1)
    two = rescoring.rescore(out, engine, workers=2)
    assert one.diff == two.diff and two.summary.rescored == 60
    again = rescoring.rescore(out, engine, dry_run=True, workers=2)
    assert again.diff.unchanged == sum(asdict(r)["n_findings"] for r in Store(out).rows())
