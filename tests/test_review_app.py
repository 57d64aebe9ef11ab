"""The review workbench over HTTP (Starlette TestClient): pages, decisions, security."""

from __future__ import annotations

import re

import pandas as pd
import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from pipeline.review import auth, db, export  # noqa: E402
from pipeline.review.app import create_app  # noqa: E402
from pipeline.review.testing import SCORECARD, make_out  # noqa: E402

PASSWORD = "correct horse battery"


@pytest.fixture
def out(tmp_path):
    o = tmp_path / "out"
    make_out(o, tmp_path / "audio")
    conn = db.connect(o)
    for name, role in (("zhang", "inspector"), ("li", "inspector"), ("wang", "lead")):
        auth.add_user(conn, name, role, PASSWORD)
    return o


@pytest.fixture
def app(out):
    return create_app(out, SCORECARD, export_on_shutdown=False)


def client(app, name: str | None = "zhang") -> TestClient:
    c = TestClient(app, base_url="http://127.0.0.1")
    if name:
        csrf = _csrf(c.get("/login").text)
        r = c.post(
            "/login",
            data={"name": name, "password": PASSWORD, "csrf": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    return c


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _top_call(c: TestClient) -> str:
    return re.search(r'href="/calls/([^"]+)"', c.get("/").text).group(1)


def _findings(app, call_id):
    return [
        dict(r)
        for r in app.state.review.conn.execute(
            "SELECT * FROM findings_index WHERE call_id = ? ORDER BY start_s, id", (call_id,)
        )
    ]


def test_queue_orders_by_points_and_counts_statuses(app):
    c = client(app)
    html = c.get("/").text
    assert "审核队列" in html and "未审核 2" in html
    assert html.index("A001_busy") < html.index("A002_calm")


def test_call_page_shows_audio_timeline_transcript(app):
    c = client(app)
    cid = _top_call(c)
    html = c.get(f"/calls/{cid}").text
    assert f'src="/audio/{cid}"' in html and "<svg" in html and "转写文本" in html
    assert "<mark" in html  # evidence highlighted


def test_script_in_transcript_is_inert(app):
    c = client(app)
    r = c.get(f"/calls/{_top_call(c)}")
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_decisions_score_export_and_audit(app, out):
    c = client(app)
    cid = _top_call(c)
    csrf = _csrf(c.get(f"/calls/{cid}").text)
    fs = _findings(app, cid)
    machine = 100 - sum(f["points"] for f in fs)  # no category cap reached in this call
    j = {"accept": "application/json"}
    r = c.post(
        f"/calls/{cid}/findings/{fs[0]['id']}", data={"csrf": csrf, "action": "confirm"}, headers=j
    )
    assert r.status_code == 200 and "确认扣分" in r.json()["findings"]
    assert f'id="human-score">{100 - fs[0]["points"]:g}<' in r.json()["score"]
    c.post(
        f"/calls/{cid}/findings/{fs[1]['id']}",
        data={"csrf": csrf, "action": "reject", "reason": "wrong"},
    )
    c.post(
        f"/calls/{cid}/findings/{fs[2]['id']}",
        data={"csrf": csrf, "action": "points", "points": "0.5"},
    )
    r = c.post(
        f"/calls/{cid}/missed",
        data={
            "csrf": csrf,
            "item": "attitude.overtalk",
            "start_s": "20",
            "end_s": "22",
            "comment": "抢话",
        },
        headers=j,
    )
    assert r.status_code == 200
    html = c.get(f"/calls/{cid}").text
    assert f'id="machine-score">{machine:g}<' in html
    assert f'id="human-score">{100 - fs[0]["points"] - 0.5 - 2:g}<' in html  # overtalk: 2 points
    path, n = export.export(app.state.review.conn, out)
    df = pd.read_parquet(out / "reviews")
    assert n == 4 and set(df["verdict"]) == {"confirmed", "rejected", "missed"}
    joined = df.merge(pd.read_parquet(out / "findings"), left_on="finding_id", right_on="id")
    assert len(joined) == 3
    changed = df[df["finding_id"] == fs[2]["id"]].iloc[0]
    assert changed["human_points"] == 0.5 and changed["machine_points"] == fs[2]["points"]
    events = pd.read_parquet(out / "review_events")
    assert list(events["action"]) == ["confirm", "reject", "points", "missed"]
    with pytest.raises(Exception, match="append-only"):
        app.state.review.conn.execute("DELETE FROM events")


def test_anonymous_is_refused_everywhere(app):
    anon = client(app, None)
    cid = _top_call(client(app))
    for path in ("/", f"/calls/{cid}", "/calibration"):
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    assert anon.get(f"/audio/{cid}").status_code == 401
    for route in app.routes:
        if "POST" in (getattr(route, "methods", None) or ()) and route.path not in (
            "/login",
            "/logout",
        ):
            path = route.path.format(call_id=cid, finding_id="x", missed_id="m-x")
            assert anon.post(path, data={}).status_code in (401, 403), path


def test_every_post_without_csrf_is_refused(app):
    c = client(app)
    cid = _top_call(c)
    fid = _findings(app, cid)[0]["id"]
    for route in app.routes:
        if "POST" in (getattr(route, "methods", None) or ()):
            path = route.path.format(call_id=cid, finding_id=fid, missed_id="m-x")
            r = c.post(path, data={"action": "confirm", "name": "zhang", "password": PASSWORD})
            assert r.status_code == 403, path
    assert app.state.review.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    r = c.post(f"/calls/{cid}/findings/{fid}", data={"action": "confirm", "csrf": "forged"})
    assert r.status_code == 403


def test_audio_range_and_path_refusal(app):
    c = client(app)
    cid = _top_call(c)
    r = c.get(f"/audio/{cid}", headers={"range": "bytes=100-199"})
    assert (
        r.status_code == 206 and len(r.content) == 100 and r.headers["content-type"] == "audio/wav"
    )
    for bad in (
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "nope",
    ):
        r = c.get(f"/audio/{bad}")
        assert r.status_code == 404, bad
        assert b"root:" not in r.content


def test_audio_refuses_a_stored_path_outside_the_folder(app):
    st = app.state.review
    cid = _top_call(client(app))
    from pipeline.review import media

    st.conn.execute(
        "UPDATE calls_index SET source = '../../../../etc/passwd' WHERE call_id = ?", (cid,)
    )
    assert media.audio_path(st.conn, st.audio_root, cid) is None
    st.conn.execute("UPDATE calls_index SET source = '/etc/passwd' WHERE call_id = ?", (cid,))
    assert media.audio_path(st.conn, st.audio_root, cid) is None


def test_inspector_cannot_read_another_inspectors_decisions(app, out):
    zhang, li, lead = client(app, "zhang"), client(app, "li"), client(app, "wang")
    cid = _top_call(zhang)
    csrf = _csrf(zhang.get(f"/calls/{cid}").text)
    fid = _findings(app, cid)[0]["id"]
    zhang.post(
        f"/calls/{cid}/findings/{fid}",
        data={"csrf": csrf, "action": "comment", "comment": "张的秘密评论"},
    )
    assert "张的秘密评论" in zhang.get(f"/calls/{cid}").text
    assert "张的秘密评论" not in li.get(f"/calls/{cid}").text
    assert "张的秘密评论" in lead.get(f"/calls/{cid}").text
    assert "其他质检员得分：zhang 100" in lead.get(f"/calls/{cid}").text
    assert "其他质检员得分" not in li.get(f"/calls/{cid}").text
    assert li.get("/calibration").status_code == 403


def test_login_is_rate_limited(app):
    c = client(app, None)
    csrf = _csrf(c.get("/login").text)
    codes = [
        c.post("/login", data={"name": "zhang", "password": "wrong", "csrf": csrf}).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    r = c.post(
        "/login", data={"name": "zhang", "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 429  # even the right password waits out the window


def test_session_cookie_is_httponly_and_samesite(app):
    c = TestClient(app, base_url="http://127.0.0.1")
    r = c.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_queue_filters_and_paging(app, out):
    c = client(app)
    assert "A002_calm" not in c.get("/?rule=W001").text
    assert "A001_busy" in c.get("/?rule=W001").text
    assert "A001_busy" not in c.get("/?agent=A002").text
    assert "没有符合条件的通话" in c.get("/?date_from=2027-01-01").text
    assert "没有符合条件的通话" in c.get("/?status=done").text
    from pipeline.review import queue

    p = queue.page(app.state.review.conn, queue.Filters(), "zhang", "zhang", n=2, size=1)
    assert p.pages == 2 and p.page == 2 and p.rows[0]["source"].endswith("A002_calm.wav")


def test_swap_over_http(app):
    c = client(app)
    cid = _top_call(c)
    csrf = _csrf(c.get(f"/calls/{cid}").text)
    before = {f["id"] for f in _findings(app, cid)}
    r = c.post(f"/calls/{cid}/swap", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert {f["id"] for f in _findings(app, cid)} != before
    assert "交换声道" in c.get(f"/calls/{cid}").text  # in the audit list


def test_binding_beyond_localhost_warns(out, monkeypatch, capsys):
    import uvicorn

    from pipeline.review import app as app_module

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    app_module.serve(out, SCORECARD, app_module.Listen("0.0.0.0", 8000))
    assert "警告" in capsys.readouterr().err
    app_module.serve(out, SCORECARD, app_module.Listen("127.0.0.1", 8000))
    assert "警告" not in capsys.readouterr().err


def test_lead_assigns_calls_and_sees_calibration(app):
    lead, zhang = client(app, "wang"), client(app, "zhang")
    html = lead.get("/calibration").text
    assert "校准" in html and "规则质量" in html
    r = lead.post("/calibration/assign", data={"csrf": _csrf(html), "top": "1", "inspector": ["zhang", "li"]},
                  follow_redirects=False)
    assert r.status_code == 303
    assert "A001_busy" in zhang.get("/?assigned=1").text
    assert "A002_calm" not in zhang.get("/?assigned=1").text
    r = zhang.post("/calibration/assign", data={"csrf": _csrf(zhang.get("/").text), "top": "1",
                                                "inspector": "zhang"})
    assert r.status_code == 403


def test_changed_and_vanished_findings_show_as_needing_rereview(app, out):
    c = client(app)
    cid = _top_call(c)
    csrf = _csrf(c.get(f"/calls/{cid}").text)
    fs = _findings(app, cid)
    for f in fs[:2]:
        c.post(f"/calls/{cid}/findings/{f['id']}", data={"csrf": csrf, "action": "confirm"})
    conn = app.state.review.conn
    conn.execute("UPDATE findings_index SET points = 9, fingerprint = 'new' WHERE id = ?", (fs[0]["id"],))
    conn.execute("DELETE FROM findings_index WHERE id = ?", (fs[1]["id"],))
    html = c.get(f"/calls/{cid}").text
    assert "需复核：建议已变化" in html and "需复核：原建议已消失" in html
    assert "需复核 1" in c.get("/").text
    rows = export.review_rows(conn)
    assert len(rows) == 2 and all(r["needs_rereview"] for r in rows)


def test_call_page_links_the_next_call_that_needs_review(app):
    c = client(app)
    ids = re.findall(r'href="/calls/([^"]+)"', c.get("/").text)
    assert f'id="next-call" href="/calls/{ids[1]}"' in c.get(f"/calls/{ids[0]}").text
    assert 'id="next-call"' not in c.get(f"/calls/{ids[1]}").text
