"""Issue #18 in the workbench: the queue puts high complaint risk first (with a badge), and the call
page draws the customer's emotion curve on the timeline."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from pipeline.review import auth, db, queue, view  # noqa: E402
from pipeline.review.app import create_app  # noqa: E402
from pipeline.review.testing import BUSY, CALM, SCORECARD, make_out  # noqa: E402

PASSWORD = "correct horse battery"
ROWS = "SELECT c.*, r.complaint_risk FROM calls_index c JOIN calls_risk r USING (call_id)"

# Upset (negative words, a complaint threat) and neither soothed nor handled: E001 + E003, few
# points next to BUSY's late answer, dead air and 忌语.
ANGRY = """
A 0.5 3.0 您好很高兴为您服务请问有什么可以帮您
C 3.5 7.0 你们这什么服务太差了我要投诉你们
A 7.5 10.0 系统显示还在配送中
C 10.5 12.0 那怎么办
A 12.5 15.0 您再等等吧
C 15.5 16.5 好的
A 17.0 20.0 感谢您的来电祝您生活愉快再见
"""


@pytest.fixture
def out(tmp_path):
    o = tmp_path / "out"
    make_out(
        o,
        tmp_path / "audio",
        [
            ("2026-11-21/A001_busy.wav", BUSY, "2026-11-21", "A001"),
            ("2026-11-21/A002_angry.wav", ANGRY, "2026-11-21", "A002"),
            ("2026-11-21/A003_calm.wav", CALM, "2026-11-21", "A003"),
        ],
    )
    auth.add_user(db.connect(o), "wang", "lead", PASSWORD)
    return o


def _client(out) -> TestClient:
    c = TestClient(create_app(out, SCORECARD, export_on_shutdown=False), base_url="http://127.0.0.1")
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": "wang", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    return c


def _order(html: str) -> list[str]:
    return re.findall(r'class="open" href="/calls/[^"]+">([^<]+)<', html)


def test_risk_levels():
    assert [queue.risk_level(r) for r in (None, 0.0, 0.24, 0.25, 0.49, 0.5, 1.0)] == [
        "", "low", "low", "medium", "medium", "high", "high"
    ]


def test_queue_puts_high_risk_first_with_a_badge_and_sorts_by_points_on_request(out):
    conn = db.connect(out)
    c = _client(out)
    html = c.get("/").text
    rows = {r["source"]: dict(r) for r in conn.execute(ROWS)}
    angry, busy = rows["2026-11-21/A002_angry.wav"], rows["2026-11-21/A001_busy.wav"]
    assert angry["complaint_risk"] >= queue.HIGH_RISK > (busy["complaint_risk"] or 0)
    assert angry["points"] < busy["points"]  # so only the risk can put it first
    assert _order(html)[:2] == ["2026-11-21/A002_angry.wav", "2026-11-21/A001_busy.wav"]
    badge = re.search(r'<span class="risk risk-high"\s+title="([^"]+)">高 (\d\.\d\d)</span>', html)
    assert badge and "投诉" in badge.group(1) and float(badge.group(2)) == round(angry["complaint_risk"], 2)
    assert '<select name="sort" id="sort">' in html and "投诉风险优先" in html

    by_points = c.get("/?sort=points").text
    assert _order(by_points)[:2] == ["2026-11-21/A001_busy.wav", "2026-11-21/A002_angry.wav"]
    assert 'href="/calls/' + angry["call_id"] + '?sort=points"' in by_points
    assert _order(c.get("/?sort=nonsense").text) == _order(html)  # unknown: the default


def test_next_call_follows_the_chosen_order(out):
    conn = db.connect(out)
    _client(out).get("/")  # the index is built on the first page
    rows = {r["source"]: dict(r) for r in conn.execute(ROWS)}
    angry, busy = rows["2026-11-21/A002_angry.wav"], rows["2026-11-21/A001_busy.wav"]
    assert queue.next_call(conn, angry, None, "wang") == busy["call_id"]
    assert queue.next_call(conn, busy, None, "wang", "points") == angry["call_id"]
    order = [r["call_id"] for r in queue.page(conn, queue.Filters(), None, "wang").rows]
    assert [queue.next_call(conn, rows_by_id(conn)[i], None, "wang") for i in order] == order[1:] + [None]


def rows_by_id(conn) -> dict[str, dict]:
    return {r["call_id"]: dict(r) for r in conn.execute(ROWS)}


def test_call_page_draws_the_emotion_curve_and_the_risk(out):
    conn = db.connect(out)
    c = _client(out)
    c.get("/")
    ids = {r["source"]: r["call_id"] for r in conn.execute("SELECT source, call_id FROM calls_index")}
    html = c.get(f"/calls/{ids['2026-11-21/A002_angry.wav']}").text
    assert "客户情绪" in html and 'class="emotion-line"' in html
    dots = re.findall(r'<circle class="emotion( upset)?" cx="[\d.]+" cy="[\d.]+" r="3.5" data-start="([\d.]+)">'
                      r"<title>([^<]+)</title>", html)
    assert [float(s) for _, s, _ in dots] == [3.5, 10.5, 15.5]  # one per customer turn
    assert dots[0][0] == " upset" and "表示要投诉" in dots[0][2] and not dots[2][0]
    assert 'id="risk"' in html and "risk-high" in html
    calm = c.get(f"/calls/{ids['2026-11-21/A003_calm.wav']}").text
    assert "客户情绪" in calm and 'class="emotion upset"' not in calm


def test_timeline_without_emotion_scores_has_no_curve():
    turns = [{"turn_id": 0, "role": "customer", "start_s": 1.0, "end_s": 2.0, "text": "好的"}]
    svg = view.timeline(turns, [], 10.0)
    assert "客户情绪" not in svg and "emotion" not in svg
    turns[0]["emotion"], turns[0]["emotion_cues"] = 0.9, "threat,loud"
    svg = view.timeline(turns, [], 10.0)
    assert "表示要投诉、音量升高" in svg and 'viewBox="0 0 1000 144"' in svg  # 4 lanes + 40 px + ticks


def test_a_review_db_from_before_the_risk_table_is_reindexed(out):
    from pipeline.review import index

    conn = db.connect(out)
    index.refresh(conn, out)
    before = dict(conn.execute("SELECT call_id, complaint_risk FROM calls_risk").fetchall())
    assert len(before) == 3 and max(before.values()) >= queue.HIGH_RISK
    conn.execute("DROP TABLE calls_risk")  # as made before issue #18
    conn.close()
    conn = db.connect(out)
    assert conn.execute("SELECT COUNT(*) FROM calls_risk").fetchone()[0] == 0
    assert index.refresh(conn, out) == 3  # every part read again
    assert dict(conn.execute("SELECT call_id, complaint_risk FROM calls_risk").fetchall()) == before


def test_calls_parts_from_before_the_risk_columns_index_as_no_risk(out):
    import pyarrow.parquet as pq

    from pipeline.review import index

    part = next((out / "calls").glob("call_date=*/*.parquet"))
    table = pq.read_table(part)
    pq.write_table(table.drop(["complaint_risk", "risk_reasons"]), part)
    conn = db.connect(out)
    index.refresh(conn, out)
    risk = dict(conn.execute("SELECT call_id, complaint_risk FROM calls_risk").fetchall())
    assert risk[part.stem] is None and sum(v is not None for v in risk.values()) == 2
    html = _client(out).get("/?all=1").text
    assert html.count('title="没有客户情绪数据">—</span>') == 1


@pytest.mark.parametrize("sort", ["risk", "points"])
def test_pages_and_next_call_walk_the_same_order_across_the_risk_band(out, sort):
    conn = db.connect(out)
    _client(out).get("/")
    whole = [r["call_id"] for r in queue.page(conn, queue.Filters(sort=sort), None, "wang").rows]
    paged = [r["call_id"] for k in (1, 2, 3)
             for r in queue.page(conn, queue.Filters(sort=sort), None, "wang", k, size=1).rows]
    assert paged == whole and len(whole) == 3
    by_id = rows_by_id(conn)
    assert [queue.next_call(conn, by_id[i], None, "wang", sort) for i in whole] == whole[1:] + [None]
    assert (whole[0] == by_id[whole[0]]["call_id"]) and (
        (by_id[whole[0]]["complaint_risk"] >= queue.HIGH_RISK) == (sort == "risk"))
