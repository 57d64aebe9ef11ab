"""Per-entry and per-rule statistics from a decisions table (`callqa lexicon stats`)."""

from __future__ import annotations

import json

import pytest

from pipeline import cli, lexicon_stats, scorecard, stats
from pipeline.config import ROOT
from pipeline.lexicon import inline
from pipeline.review import db, decisions, index
from pipeline.review.testing import make_out

FORBIDDEN = inline(["不知道", "不清楚", "你错了"], "forbidden")
FILLERS = inline(["那个", "嗯 | kind=particle"], "fillers")
ITEMS = {"service.forbidden": ("W001", "forbidden_phrase"), "service.filler": ("W002", "filler_rate"),
         "flow.greeting": ("S001", "greeting")}
OF_RULE = {"forbidden_phrase": "forbidden", "filler_rate": "fillers"}


def f(id, entry, rule="W001", points=2.0, call="c1"):
    name = {"W001": "forbidden_phrase", "W002": "filler_rate", "S001": "greeting"}[rule]
    item = {"W001": "service.forbidden", "W002": "service.filler", "S001": "flow.greeting"}[rule]
    return {"id": id, "call_id": call, "source": f"{call}.wav", "rule": rule, "rule_name": name,
            "item": item, "points": points, "start_s": 1.0, "end_s": 2.0, "message": id, "quote": "",
            "entry": entry}


def d(finding, verdict, user="zhang", **kw):
    return {"finding_id": finding["id"] if isinstance(finding, dict) else finding, "user": user,
            "verdict": verdict, "fingerprint": index.fingerprint(finding) if isinstance(finding, dict) else "",
            "item": kw.pop("item", finding["item"] if isinstance(finding, dict) else ""),
            "comment": kw.pop("comment", ""), **kw}


def test_wilson_interval_known_values():
    assert stats.wilson(0, 0) is None
    low, high = stats.wilson(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = stats.wilson(8, 10)
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    assert stats.wilson(10, 10)[1] == 1.0


def test_entries_rules_and_recall_from_a_decisions_table():
    a, b, c = f("a", "不知道"), f("b", "不知道", call="c2"), f("c", "不清楚")
    filler = f("e", "那个|嗯", rule="W002")
    greet = f("g", "", rule="S001", points=4.0)
    changed = dict(a, points=1.0)  # the lead decided on `a` when it was worth 1: now 需复核
    table = [d(a, "confirmed"), d(a, "rejected", user="li"), d(b, "confirmed"), d(c, "rejected"),
             d(filler, "rejected"), d(greet, "confirmed"), d(changed, "confirmed", user="wang"),
             d("m-1", "missed", item="service.forbidden", comment="说了「你这人」"),
             d("m-2", "missed", item="flow.greeting"), d("m-3", "withdrawn", item="flow.greeting")]
    r = stats.compute([a, b, c, filler, greet], table, {"forbidden": FORBIDDEN, "fillers": FILLERS},
                      ITEMS, OF_RULE)
    by = {(e.lexicon, e.phrase): e for e in r.entries}
    know = by[("forbidden", "不知道")]
    assert (know.hits, know.calls, know.confirmed, know.rejected) == (2, 2, 2, 1)
    assert know.precision.value == pytest.approx(2 / 3) and know.precision.interval == stats.wilson(2, 3)
    assert know.share == pytest.approx(4 / 12)
    assert by[("fillers", "那个")].points == 1.0 and by[("fillers", "嗯")].rejected == 1  # split, both
    assert [e.phrase for e in r.silent] == ["你错了"]
    rules = {q.rule: q for q in r.rules}
    assert (rules["W001"].confirmed, rules["W001"].rejected, rules["W001"].missed) == (2, 2, 1)
    assert rules["W001"].recall.value == pytest.approx(2 / 3)
    assert (rules["S001"].precision.value, rules["S001"].recall.value) == (1.0, 0.5)
    assert r.decisions == 8  # the stale one and the withdrawn one do not count
    assert [(x.phrase, x.why, x.near) for x in r.candidates] == [("你这人", "comment", "service.forbidden")]


def test_candidates_that_sound_like_an_entry_but_are_not_matched():
    lex = inline(["不行 | pinyin=no"], "forbidden")
    texts = ["这个补行的", "补行啊", "那就补行", "不行"] + ["四八块"] * 5
    (c,) = stats.sounds_like(texts, {"forbidden": lex}, min_count=3)
    assert (c.phrase, c.count, c.near, c.why) == ("补行", 3, "不行", "sound")
    assert stats.sounds_like(texts, {"forbidden": inline(["不行"], "forbidden")}) == []  # pinyin matches it


def test_report_from_an_export_without_review_db():
    x = f("x", "不知道")
    r = stats.compute([x], [{"finding_id": "x", "verdict": "confirmed", "needs_rereview": False, "item": ""}],
                      {"forbidden": FORBIDDEN}, ITEMS, OF_RULE)
    assert r.entries[0].confirmed == 1


def test_lexicon_stats_command_reads_out_and_review_db(tmp_path, capsys):
    out = tmp_path / "out"
    make_out(out)
    conn = db.connect(out)
    index.refresh(conn, out)
    row = dict(conn.execute("SELECT * FROM findings_index WHERE rule = 'W001' AND message LIKE '%不知道%'")
               .fetchone())
    decisions.decide(conn, "zhang", row, "confirm")
    decisions.add_missed(conn, "zhang", row["call_id"], "service.forbidden_phrase", 1.0, 2.0, 2, "“你等着吧”")
    conn.close()
    assert cli.main(["lexicon", "stats", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "不知道" in shown and "从未命中的词条" in shown and "你等着吧（1 次" in shown
    assert cli.main(["lexicon", "stats", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    know = next(e for e in doc["entries"] if e["phrase"] == "不知道")
    assert know["confirmed"] == 1 and know["precision"]["value"] == 1.0
    w001 = next(q for q in doc["rules"] if q["rule"] == "W001")
    assert w001["missed"] == 1 and w001["recall"]["value"] == 0.5
    card = scorecard.load(ROOT / "configs" / "scorecard.yaml")
    names = {e.phrase for e in lexicon_stats.gather(out, card).entries}
    forbidden = (ROOT / "lexicons" / "forbidden.txt").read_text(encoding="utf-8")
    assert "你烦不烦" in names and "你烦不烦" in forbidden  # every entry, fired or not


def test_stats_page_for_leads_linked_from_the_queue(tmp_path):
    pytest.importorskip("starlette")
    import re

    from starlette.testclient import TestClient

    from pipeline.review import auth
    from pipeline.review.app import create_app
    from pipeline.review.testing import SCORECARD

    out = tmp_path / "out"
    make_out(out, tmp_path / "audio")
    conn = db.connect(out)
    auth.add_user(conn, "wang", "lead", "correct horse battery")
    auth.add_user(conn, "zhang", "inspector", "correct horse battery")
    app = create_app(out, SCORECARD, export_on_shutdown=False)

    def login(name):
        c = TestClient(app, base_url="http://127.0.0.1")
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"name": name, "password": "correct horse battery", "csrf": csrf})
        return c

    lead, inspector = login("wang"), login("zhang")
    assert 'href="/stats"' in lead.get("/").text and 'href="/stats"' not in inspector.get("/").text
    page = lead.get("/stats")
    assert page.status_code == 200 and "词条统计" in page.text
    assert "不知道" in page.text and "从未命中的词条" in page.text and "你烦不烦" in page.text
    assert "W001" in page.text and "forbidden_phrase" in page.text
    assert inspector.get("/stats").status_code == 403
    assert TestClient(app, base_url="http://127.0.0.1").get("/stats", follow_redirects=False).status_code == 303
