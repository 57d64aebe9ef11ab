"""Decisions survive reruns, rescoring, scorecard changes and swaps; the index follows OUT; scores
are capped; calibration agreement; accounts from the command line."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace

import pandas as pd
import pytest

pytest.importorskip("argon2")

from pipeline import cli, scorecard  # noqa: E402
from pipeline.review import auth, calibration, db, decisions, export, index, queue  # noqa: E402
from pipeline.review.score import Caps, Category, score  # noqa: E402
from pipeline.review.swap import swap_call, swapped  # noqa: E402
from pipeline.review.testing import BUSY, SCORECARD, make_out  # noqa: E402
from pipeline.store import Store, read_parts  # noqa: E402
from pipeline.testing import call  # noqa: E402


@pytest.fixture
def out(tmp_path):
    o = tmp_path / "out"
    make_out(o, tmp_path / "audio")
    return o


def _conn(out) -> sqlite3.Connection:
    conn = db.connect(out)
    index.refresh(conn, out)
    return conn


def _findings(conn, call_id=None):
    sql = (
        "SELECT * FROM findings_index"
        + (" WHERE call_id = ?" if call_id else "")
        + " ORDER BY start_s, id"
    )
    return [dict(r) for r in conn.execute(sql, (call_id,) if call_id else ())]


def test_database_is_wal_and_events_append_only(out):
    conn = _conn(out)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    f = _findings(conn)[0]
    decisions.decide(conn, "zhang", f, "confirm")
    decisions.decide(conn, "zhang", f, "reject", reason="other", comment="再听一遍不是")
    hist = decisions.history(conn, f["call_id"], "zhang")
    assert [h.verdict for h in hist] == ["rejected", "confirmed"]  # both kept, newest first
    for sql in ("UPDATE events SET verdict = 'x'", "DELETE FROM events"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)


def test_reject_needs_a_known_reason_and_points_are_bounded(out):
    conn = _conn(out)
    f = _findings(conn)[0]
    with pytest.raises(ValueError):
        decisions.decide(conn, "zhang", f, "reject", reason="because")
    with pytest.raises(ValueError):
        decisions.decide(conn, "zhang", f, "points", points=-1)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


def test_index_follows_new_and_rescored_calls(out, tmp_path):
    conn = _conn(out)
    assert conn.execute("SELECT COUNT(*) FROM calls_index").fetchone()[0] == 2
    make_out(out, None, [("2026-11-22/A003_more.wav", BUSY, "2026-11-22", "A003")], first=2)
    index.refresh(conn, out)
    assert {r[0] for r in conn.execute("SELECT call_date FROM calls_index")} == {
        "2026-11-21",
        "2026-11-22",
    }
    assert index.refresh(conn, out) <= 1  # nothing changed: at most the just-written folder re-read


def test_rescore_keeps_decisions_unchanged_findings_and_flags_changed_ones(out, tmp_path):
    conn = _conn(out)
    fs = _findings(conn)
    for f in fs:
        decisions.decide(conn, "zhang", f, "confirm")
    assert cli.main(["rescore", str(out)]) == 0
    index.refresh(conn, out)
    assert export.export(conn, out)[1] == len(fs)
    assert not pd.read_parquet(out / "reviews")["needs_rereview"].any()

    # A scorecard change: forbidden phrases now cost 3, so those decisions need a second look.
    text = SCORECARD.read_text(encoding="utf-8").replace("      medium: 2 ", "      medium: 3 ")
    card_path = SCORECARD.parent / ".test_scorecard.yaml"
    card_path.write_text(text, encoding="utf-8")
    try:
        assert cli.main(["rescore", str(out), "--scorecard", str(card_path)]) == 0
    finally:
        card_path.unlink()
    index.refresh(conn, out)
    export.export(conn, out)
    df = pd.read_parquet(out / "reviews")
    stale = set(df[df["needs_rereview"]]["item"])
    assert stale == {"service.forbidden_phrase"} and len(df) == len(fs)  # none lost
    page = queue.page(conn, queue.Filters(), "zhang", "zhang")
    assert page.counts["stale"] == 1


def test_swap_rescores_from_stored_turns_and_keeps_decisions(out):
    conn = _conn(out)
    busy = conn.execute(
        "SELECT call_id, call_date FROM calls_index ORDER BY points DESC"
    ).fetchone()
    before = _findings(conn, busy["call_id"])
    for f in before:
        decisions.decide(conn, "zhang", f, "confirm")
    card = scorecard.load(SCORECARD)
    swap_call(out, busy["call_id"], busy["call_date"], card)
    index.refresh(conn, out)
    after = _findings(conn, busy["call_id"])
    assert {f["id"] for f in after} != {f["id"] for f in before}
    assert len(decisions.current(conn, busy["call_id"], "zhang")) == len(before)  # none deleted
    swap_call(out, busy["call_id"], busy["call_date"], card)  # and back: the same findings again
    index.refresh(conn, out)
    assert {f["id"] for f in _findings(conn, busy["call_id"])} == {f["id"] for f in before}
    export.export(conn, out)
    assert not pd.read_parquet(out / "reviews")["needs_rereview"].any()


def test_swapped_exchanges_roles_only():
    c = call("A 1 2 您好\nC 3 4 你好")
    s = swapped(c)
    assert [t.role.value for t in s.turns] == ["customer", "agent"]
    assert [(t.start, t.text) for t in s.turns] == [(t.start, t.text) for t in c.turns]


def test_score_caps_per_item_and_category():
    caps = Caps(
        100.0,
        {"service.a": 4.0, "service.b": None, "attitude.x": None},
        {},
        {"service": Category("service", "服务用语", 10.0)},
    )
    s = score(
        [("service.a", 3), ("service.a", 3), ("service.b", 5), ("service.b", 5), ("attitude.x", 2)],
        caps,
    )
    assert s.by_category == (
        ("attitude", "attitude", 2.0, None),
        ("service", "服务用语", 10.0, 10.0),
    )
    assert s.total == 88.0


def test_calibration_agreement_and_kappa(out):
    conn = _conn(out)
    for name, role in (("a", "inspector"), ("b", "inspector"), ("lead", "lead")):
        conn.execute(
            "INSERT INTO users (name, role, password_hash) VALUES (?, ?, 'x')", (name, role)
        )
    fs = _findings(conn)
    votes = {"a": [1, 1, 0, 0, 1, 0], "b": [1, 0, 0, 0, 1, 1], "lead": [1, 1, 0, 0, 1, 1]}
    for who, vs in votes.items():
        for f, v in zip(fs, vs):
            decisions.decide(conn, who, f, "confirm" if v else "reject", reason="wrong")
    rep = calibration.report(conn)
    vs_lead = {a.key: a for a in rep.by_inspector}
    assert vs_lead["a"].agreement == round(5 / 6, 3) and vs_lead["b"].agreement == round(5 / 6, 3)
    assert calibration.cohen_kappa([(1, 1), (0, 0), (1, 0), (0, 1)]) == 0.0
    assert calibration.cohen_kappa([(1, 1), (1, 1)]) is None  # chance agreement 1: undefined
    assert "kappa" in calibration.report_text(rep)


def test_users_add_reads_the_password_from_stdin_never_argv(out, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert cli.main(["users", "add", "zhang", "--role", "inspector", "--out", str(out)]) == 0
    conn = db.connect(out)
    assert auth.authenticate(conn, "zhang", "s3cret-password") == auth.User("zhang", "inspector")
    assert auth.authenticate(conn, "zhang", "wrong") is None
    assert "s3cret" not in conn.execute("SELECT password_hash FROM users").fetchone()[0]
    with pytest.raises(SystemExit):
        cli.main(
            ["users", "add", "li", "--role", "inspector", "--out", str(out), "--password", "x"]
        )


def test_reviews_export_command(out, capsys):
    conn = _conn(out)
    decisions.add_missed(
        conn, "zhang", _findings(conn)[0]["call_id"], "attitude.overtalk", 1, 2, 2, ""
    )
    assert cli.main(["reviews", "export", str(out)]) == 0
    df = pd.read_parquet(out / "reviews")
    assert list(df["kind"]) == ["missed"] and df["points"].iloc[0] == 2


def test_review_refuses_a_folder_that_is_not_an_output(tmp_path, capsys):
    assert cli.main(["review", str(tmp_path)]) == 2


def test_finding_views_of_an_unknown_call_are_empty(out):
    conn = _conn(out)
    assert decisions.current(conn, "nope", None) == []
    assert replace(auth.User("a", "lead")).is_lead


def test_rule_quality_from_decisions(out):
    from pipeline.review import quality

    conn = _conn(out)
    fs = [f for f in _findings(conn) if f["item"] == "service.forbidden_phrase"]
    decisions.decide(conn, "a", fs[0], "confirm")
    decisions.decide(conn, "a", fs[1], "reject", reason="wrong")
    decisions.add_missed(conn, "a", fs[0]["call_id"], "service.forbidden_phrase", 1, 2, 2, "")
    decisions.add_missed(conn, "a", fs[0]["call_id"], "service.forbidden_phrase", 3, 4, 2, "")
    (q,) = quality.by_item(conn)
    assert (q.confirmed, q.rejected, q.missed) == (1, 1, 2)
    assert q.precision == 0.5 and q.recall == pytest.approx(1 / 3)
    assert "召回率" in quality.text([q])


def test_swap_waits_for_no_batch(out):
    from pipeline.lock import BusyError, run_lock

    conn = _conn(out)
    busy = conn.execute("SELECT call_id, call_date FROM calls_index LIMIT 1").fetchone()
    with run_lock(out), pytest.raises(BusyError):
        swap_call(out, busy["call_id"], busy["call_date"], scorecard.load(SCORECARD))


def test_a_swap_moves_the_emotion_states_and_settles_a_mono_calls_roles(tmp_path):
    """After a swap the customer's per-turn states are the new customer's (the old agent's words),
    the risk follows; on a mixed (mono) call the roles count as settled and findings regain the
    confidence the role guess had cost them."""
    from pipeline import emotion
    from pipeline.tables import TURNS

    out = tmp_path / "out"
    spec = ("A 0.5 3.0 您好很高兴为您服务\nC 3.5 6.0 好的\n"
            "A 6.5 10.0 你们太过分了，我要投诉你们\nC 10.5 12.0 抱歉给您添麻烦了，我马上帮您处理")
    make_out(out, calls=[("2026-11-21/A009_swap.wav", spec, "2026-11-21", "A009")])
    store = Store(out)
    (row,) = store.rows()
    mono = replace(row, mixed=True, role_confidence=0.6, reliability=0.54)
    store.save_call(mono, store.load_call(row), [], turns=False)
    swap_call(out, row.call_id, row.call_date, scorecard.load(SCORECARD))
    (after,) = Store(out).rows()
    turns = read_parts(sorted((out / "turns").rglob("*.parquet")), TURNS).to_pylist()
    angry = next(t for t in turns if "投诉" in t["text"])
    assert angry["role"] == "customer" and angry["emotion"] >= emotion.Options.upset
    assert all(t["emotion"] is None for t in turns if t["role"] == "agent")
    assert after.complaint_risk and after.complaint_risk > 0.3
    assert after.role_confidence == 1.0 and after.reliability == 0.9 and after.role_reasons
