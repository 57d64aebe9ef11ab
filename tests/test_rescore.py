"""`callqa rescore` writes only what changed: a rescore with the same scorecard and lexicons
rewrites no part, an edit rewrites every call whose row or findings differ (the scorecard version
is in both, so: all of them), and what it writes is what a dry run computes."""

from __future__ import annotations

import hashlib

import pyarrow.parquet as pq
import pytest

from pipeline import cli, rescoring, scorecard
from pipeline.config import ROOT
from pipeline.config import load as load_config
from pipeline.review.testing import BUSY, CALM, make_out
from pipeline.store import Store, read_parts
from pipeline.tables import CALLS, FINDINGS
from pipeline.worker import Engine
from tests.conftest import edited_scorecard


def engine(card=ROOT / "configs" / "scorecard.yaml") -> Engine:
    return Engine(load_config(ROOT / "configs" / "run.yaml"), scorecard.load(card))


def parts(out):
    """Every part of the three tables: its bytes' hash and its mtime."""
    return {p.relative_to(out).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for table in ("calls", "turns", "findings") for p in sorted((out / table).rglob("*.parquet"))}


def stored_findings(out):
    found = read_parts(sorted((out / "findings").rglob("*.parquet")), FINDINGS).to_pylist()
    return sorted(({k: v for k, v in f.items() if k != "scorecard_version"} for f in found),
                  key=lambda f: f["id"])




@pytest.fixture
def out(tmp_path):
    out = tmp_path / "out"
    make_out(out)  # stamped with callqa version "test": the first rescore rewrites every call
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_a_rescore_that_changes_nothing_rewrites_nothing(tmp_path, capsys, monkeypatch, workers):
    out = tmp_path / "out"
    make_out(out, calls=[(f"2026-11-2{i % 3}/A00{i % 4}_{i}.wav", BUSY if i % 2 else CALM,
                          f"2026-11-2{i % 3}", f"A00{i % 4}") for i in range(9)])
    monkeypatch.setattr(rescoring, "CHUNK", 2)  # 4 chunks after the first call: the fork pool
    first = rescoring.rescore(out, engine(), workers=workers)
    assert first.written == first.summary.rescored == 9
    before = parts(out)
    again = rescoring.rescore(out, engine(), workers=workers)
    assert again.written == 0 and again.summary.rescored == 9 and parts(out) == before
    assert again.diff.unchanged == len(again.findings) > 0
    assert cli.main(["rescore", str(out), "-j", str(workers)]) == 0
    assert "重写 0 通，其余 9 通结果不变，未重写" in capsys.readouterr().out
    assert parts(out) == before


def test_an_edit_rewrites_every_call_with_what_the_dry_run_computed(out, tmp_path):
    rescoring.rescore(out, engine(), workers=1)
    turns = {k: v for k, v in parts(out).items() if k.startswith("turns/")}
    card = edited_scorecard(tmp_path)
    dry = rescoring.rescore(out, engine(card), dry_run=True)
    real = rescoring.rescore(out, engine(card), workers=1)
    assert real.written == 2 and real.diff == dry.diff and dry.diff.count("removed") >= 1
    assert stored_findings(out) == sorted(dry.findings, key=lambda f: f["id"])
    version = scorecard.load(card).version
    assert {r.scorecard_version for r in Store(out).rows()} == {version}
    assert {k: v for k, v in parts(out).items() if k.startswith("turns/")} == turns  # never rewritten


def test_a_part_from_before_a_column_is_rewritten_though_its_results_are_the_same(out):
    rescoring.rescore(out, engine(), workers=1)
    row = Store(out).rows()[0]
    part = Store(out).part("calls", row.call_id, row.call_date)
    pq.write_table(pq.read_table(part).drop_columns(["risk_reasons", "emotion_trend"]), part)
    again = rescoring.rescore(out, engine(), workers=1)
    assert again.written == 1 and again.diff.count("added") == again.diff.count("removed") == 0
    assert {"risk_reasons", "emotion_trend"} <= set(pq.read_schema(part).names)
    assert rescoring.rescore(out, engine(), workers=1).written == 0


def test_a_failed_write_stops_the_rescore_and_leaves_only_whole_parts(out, tmp_path, monkeypatch):
    """Each call's findings part goes in before its `calls` part, each by rename: a rescore that
    dies part way leaves every part whole, old or new, and a rerun finishes the job."""
    import pipeline.store as store_module

    rescoring.rescore(out, engine(), workers=1)
    card = edited_scorecard(tmp_path)
    real, seen = store_module.write_atomic, []

    def third_fails(table, path, **kw):
        seen.append(path)
        if len(seen) == 3:
            raise store_module.StoreError(path, "磁盘已满")
        real(table, path, **kw)

    monkeypatch.setattr(store_module, "write_atomic", third_fails)
    with pytest.raises(store_module.StoreError):
        rescoring.rescore(out, engine(card), workers=1)
    monkeypatch.undo()
    assert not list(out.rglob(".*.tmp"))
    for table, schema in (("calls", CALLS), ("findings", FINDINGS)):
        assert len(read_parts(sorted((out / table).rglob("*.parquet")), schema)) > 0  # all readable
    assert rescoring.rescore(out, engine(card), workers=1).written >= 1
    assert rescoring.rescore(out, engine(card), workers=1).written == 0


def test_an_emotion_lexicon_edit_rewrites_the_turn_states_and_risk_of_the_calls_it_touches(out, tmp_path):
    """Per-turn emotion is derived again from the stored text with the scorecard's lexicons: a
    new `emotion.txt` entry that fires in one call rewrites that call's turns part (its states)
    and its risk; the other call's turns part keeps its bytes; a dry run writes nothing."""
    import shutil

    rescoring.rescore(out, engine(), workers=1)  # settle the store on the shipped lexicons
    shutil.copytree(ROOT / "configs", tmp_path / "cfg" / "configs")
    shutil.copytree(ROOT / "lexicons", tmp_path / "cfg" / "lexicons")
    lex = tmp_path / "cfg" / "lexicons" / "emotion.txt"
    lex.write_text(lex.read_text(encoding="utf-8") + "查一下我的账单 | kind=negative\n", encoding="utf-8")
    card = tmp_path / "cfg" / "configs" / "scorecard.yaml"

    def turns(name):
        path = next(p for p in (out / "turns").rglob("*.parquet") if pq.read_table(p)["source"][0].as_py() == name)
        return path, {t["turn_id"]: (t["emotion"], t["emotion_cues"]) for t in pq.read_table(path).to_pylist()}

    calm, before = turns("2026-11-21/A002_calm.wav")
    busy, busy_before = turns("2026-11-21/A001_busy.wav")
    snapshot = parts(out)
    rescoring.rescore(out, engine(card), dry_run=True)
    assert parts(out) == snapshot
    rescoring.rescore(out, engine(card), workers=1)
    _, after = turns("2026-11-21/A002_calm.wav")
    changed = {k: v for k, v in after.items() if v != before[k]}
    assert len(changed) == 1 and "negative" in next(iter(changed.values()))[1].split(",")
    assert parts(out)[busy.relative_to(out).as_posix()] == snapshot[busy.relative_to(out).as_posix()]
    risk = {r.source: r.complaint_risk for r in Store(out).rows()}
    assert risk["2026-11-21/A002_calm.wav"] > 0
