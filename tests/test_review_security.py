"""Issue #28: the workbench tried as an attacker would. One test per row of the issue's table
(file modes, logout, password change, behind HTTPS, lockout, one crafted POST, headers), then
the neighbours each row's fix brought along (disable, sign everyone out, timeouts, old rows)."""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import stat

import pandas as pd
import pytest

pytest.importorskip("starlette")
from itsdangerous import TimestampSigner  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from pipeline.cli import main as cli  # noqa: E402
from pipeline.review import app as app_module  # noqa: E402
from pipeline.review import auth, db, export  # noqa: E402
from pipeline.review.app import Listen, create_app  # noqa: E402
from pipeline.review.testing import SCORECARD, make_out  # noqa: E402

PASSWORD = "correct horse battery"
JSON = {"accept": "application/json"}


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
    a = create_app(out, SCORECARD, export_on_shutdown=False)
    a.state.review.now = Clock()
    return a


class Clock:
    """The app's `now`, moved by hand: waits and timeouts without sleeping."""

    def __init__(self, t: float = 1.8e9):
        self.t = t

    def __call__(self) -> float:
        return self.t


def browser(app, addr="10.0.0.7", https=False) -> TestClient:
    scheme = "https" if https else "http"
    return TestClient(app, base_url=f"{scheme}://127.0.0.1", client=(addr, 50000))


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def attempt(c: TestClient, name: str, password: str = PASSWORD):
    csrf = _csrf(c.get("/login").text)
    return c.post("/login", data={"name": name, "password": password, "csrf": csrf},
                  follow_redirects=False)


def signed_in(app, name="zhang", addr="10.0.0.7", https=False) -> TestClient:
    c = browser(app, addr, https)
    r = attempt(c, name)
    assert r.status_code == 303, r.text
    return c


def _top_call(c: TestClient) -> str:
    return re.search(r'href="/calls/([^"]+)"', c.get("/").text).group(1)


def _events(app) -> int:
    return app.state.review.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def _mode(p) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# --- row 1: file modes ------------------------------------------------------------------------


def test_files_are_owner_only_and_a_forged_cookie_signs_nobody_in(tmp_path, monkeypatch):
    old = os.umask(0o022)  # the usual umask, under which review.db used to be 0644
    try:
        o = tmp_path / "out"
        make_out(o, tmp_path / "audio")
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        assert cli(["users", "add", "wang", "--role", "lead", "--out", str(o)]) == 0
        made = [o / n for n in ("review.db", "review.db-wal", "review.db-shm") if (o / n).exists()]
        assert o / "review.db" in made
        assert {p.name: _mode(p) for p in made} == {p.name: 0o600 for p in made}
        app = create_app(o, SCORECARD, export_on_shutdown=False)
        assert _mode(o / "review.key") == 0o600
        conn = app.state.review.conn
        assert conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'secret_key'").fetchone()[0] == 0
        # the attacker of the issue: read every file, sign a cookie as the lead
        lead = signed_in(app, "wang")
        stored = conn.execute("SELECT id_hash FROM sessions").fetchone()[0]
        key = (o / "review.key").read_text().strip()
        for forged in ({"user": "wang"}, {"sid": stored, "user": "wang"}):
            payload = base64.b64encode(json.dumps(forged).encode())
            cookie = TimestampSigner(key).sign(payload).decode()
            c = browser(app, "10.0.0.66")
            c.cookies.set("callqa_session", cookie)
            r = c.get("/calibration", follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/login", forged
        assert lead.get("/calibration").status_code == 200
        path, _ = export.export(conn, o)
        assert _mode(path) == 0o600 and _mode(o / "review_events" / "events.parquet") == 0o600
        os.chmod(o / "review.db", 0o644)  # left wide by an older callqa
        said = app_module.warnings(o, Listen())
        assert any("review.db" in s and "0644" in s for s in said)
        assert _mode(o / "review.db") == 0o600
        assert app_module.warnings(o, Listen()) == []
    finally:
        os.umask(old)


# --- row 2: logout -----------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_dead_after_it(app):
    c = signed_in(app)
    cid = _top_call(c)
    csrf = _csrf(c.get(f"/calls/{cid}").text)
    copy = browser(app, "10.0.0.66")
    copy.cookies.set("callqa_session", c.cookies["callqa_session"])
    assert copy.get("/").status_code == 200  # the copy works while the session lives
    assert c.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    r = copy.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    fid = app.state.review.conn.execute(
        "SELECT id FROM findings_index WHERE call_id = ?", (cid,)).fetchone()[0]
    r = copy.post(f"/calls/{cid}/findings/{fid}",
                  data={"csrf": csrf, "action": "comment", "comment": "冒名评论"}, headers=JSON)
    assert r.status_code == 401 and _events(app) == 0
    outcomes = [r["outcome"] for r in app.state.review.conn.execute("SELECT * FROM auth_events")]
    assert outcomes == ["ok", "logout"]


# --- row 3: password change (and disable, sign everyone out, timeouts) -------------------------


def test_a_new_password_ends_the_accounts_sessions(app, out, monkeypatch):
    li, zhang = signed_in(app, "li"), signed_in(app, "zhang")
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))
    assert cli(["users", "add", "li", "--role", "inspector", "--out", str(out)]) == 0
    r = li.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert zhang.get("/").status_code == 200  # only li's sessions ended
    assert attempt(browser(app), "li").status_code == 401
    assert attempt(browser(app), "li", "a brand new password").status_code == 303


def test_disable_and_sign_out_end_sessions_at_once(app, out, capsys):
    zhang, li, lead = signed_in(app, "zhang"), signed_in(app, "li"), signed_in(app, "wang")
    assert cli(["users", "disable", "zhang", "--out", str(out)]) == 0
    assert zhang.get("/", follow_redirects=False).status_code == 303
    r = attempt(browser(app), "zhang")
    assert r.status_code == 403 and "停用" in r.text
    assert attempt(browser(app), "zhang", "wrong password").status_code == 401  # tells nothing
    assert cli(["users", "list", "--out", str(out)]) == 0
    assert "zhang\tinspector\tdisabled" in capsys.readouterr().out
    assert cli(["users", "enable", "zhang", "--out", str(out)]) == 0
    zhang = signed_in(app, "zhang")
    # the lead's 全部退出 on the 登录会话 page: everyone but the lead's own session
    page = lead.get("/sessions").text
    assert "zhang" in page and "li" in page and "登录成功" in page
    assert li.get("/sessions").status_code == 403
    assert li.post("/sessions/end", data={"csrf": _csrf(li.get("/").text)}).status_code == 403
    r = lead.post("/sessions/end", data={"csrf": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303
    for c in (zhang, li):
        assert c.get("/", follow_redirects=False).status_code == 303
    assert lead.get("/").status_code == 200
    assert cli(["users", "sign-out", "--all", "--out", str(out)]) == 0
    assert lead.get("/", follow_redirects=False).status_code == 303


def test_idle_and_absolute_timeouts(app):
    clock, opts = app.state.review.now, app.state.review.session_options
    c = signed_in(app)
    clock.t += opts.idle_s - 120
    assert c.get("/").status_code == 200  # still in use: the idle clock starts again
    clock.t += opts.idle_s - 120
    assert c.get("/").status_code == 200
    clock.t += opts.idle_s + 1
    assert c.get("/", follow_redirects=False).status_code == 303
    c = signed_in(app)
    for _ in range(int(opts.absolute_s // (opts.idle_s / 2)) + 1):
        clock.t += opts.idle_s / 2
        c.get("/")
    assert c.get("/", follow_redirects=False).status_code == 303  # busy, but 7 days are up


# --- row 4: behind HTTPS -----------------------------------------------------------------------


def test_cookies_are_secure_over_https_and_no_proxy_header_is_trusted_by_default(
    app, out, monkeypatch
):
    r = attempt(browser(app, https=True), "zhang")
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()
    assert r.headers["strict-transport-security"].startswith("max-age=")
    r = attempt(browser(app), "li")
    assert "secure" not in r.headers["set-cookie"].lower()
    assert "strict-transport-security" not in r.headers
    # behind a proxy uvicorn was told to trust, X-Forwarded-Proto: https makes the cookie Secure
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    proxied = ProxyHeadersMiddleware(app, trusted_hosts="10.0.0.1")
    via_proxy = TestClient(proxied, base_url="http://127.0.0.1", client=("10.0.0.1", 1))
    csrf = _csrf(via_proxy.get("/login").text)
    r = via_proxy.post("/login", data={"name": "wang", "password": PASSWORD, "csrf": csrf},
                       headers={"x-forwarded-proto": "https"}, follow_redirects=False)
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()
    # serve(): no proxy header trusted unless asked, and then only from the named proxy
    seen = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: seen.update(kw))
    app_module.serve(out, SCORECARD, Listen())
    assert seen["proxy_headers"] is False and seen["ssl_certfile"] is None
    app_module.serve(out, SCORECARD, Listen(proxy_headers=True, forwarded_allow_ips="10.0.0.1"))
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.1"
    for bad in (Listen(proxy_headers=True), Listen(proxy_headers=True, forwarded_allow_ips="*"),
                Listen(cert=out / "c.pem")):
        with pytest.raises(ValueError):
            app_module.serve(out, SCORECARD, bad)
    # so a spoofed X-Forwarded-For from this host moves nothing: 127.0.0.1 is throttled as such
    local = browser(app, "127.0.0.1")
    csrf = _csrf(local.get("/login").text)
    codes = [
        local.post("/login", data={"name": f"nobody{i}", "password": "x", "csrf": csrf},
                   headers={"x-forwarded-for": f"203.0.113.{i}"}).status_code
        for i in range(7)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]


# --- row 5: lockout ----------------------------------------------------------------------------


def test_others_failures_slow_a_name_but_never_lock_its_owner_out(app, out):
    clock = app.state.review.now
    signed_in(app, "zhang", addr="10.0.0.7")  # zhang's usual desk
    attacker = browser(app, "10.0.0.66")
    codes = []
    for _ in range(12):
        r = attempt(attacker, "zhang", "guess")
        codes.append(r.status_code)
        clock.t += 31  # the attacker waits out the name's wait each time
    assert codes[:5] == [401] * 5 and 429 in codes  # the attacker's own address slows down
    wait = int(attempt(attacker, "zhang", "guess").headers["retry-after"])
    assert wait > 30  # per address: doubling, up to 15 minutes
    # zhang at the usual desk: in at once; zhang at a new desk: a few seconds at most
    assert attempt(browser(app, "10.0.0.7"), "zhang").status_code == 303
    for _ in range(5):
        attempt(browser(app, "10.0.0.99"), "zhang", "guess")  # the name fails again elsewhere
    r = attempt(browser(app, "10.0.0.8"), "zhang")
    assert r.status_code == 429 and "秒后再试" in r.text
    assert int(r.headers["retry-after"]) <= 30
    clock.t += int(r.headers["retry-after"])
    assert attempt(browser(app, "10.0.0.8"), "zhang").status_code == 303
    # the counts are in review.db: a restarted server still makes the attacker wait
    again = create_app(out, SCORECARD, export_on_shutdown=False)
    again.state.review.now = clock
    assert attempt(browser(again, "10.0.0.66"), "zhang", "guess").status_code == 429
    rows = app.state.review.conn.execute("SELECT address, outcome FROM auth_events").fetchall()
    assert ("10.0.0.66", "failed") in [tuple(r) for r in rows]
    assert [tuple(r) for r in rows].count(("10.0.0.8", "ok")) == 1


# --- row 6: one crafted POST -------------------------------------------------------------------


BAD_SPANS = [("1", "inf"), ("nan", "2"), ("1e308", "1e308"), ("-1", "2"), ("5", "4"),
             ("1", "99999"), ("", "2"), ("1_0", "20"), ("0x10", "20"), ("1e1", "20")]


def test_a_crafted_value_is_a_400_in_chinese_and_never_stored(app):
    c = signed_in(app)
    cid = _top_call(c)
    csrf = _csrf(c.get(f"/calls/{cid}").text)
    for start, end in BAD_SPANS:
        r = c.post(f"/calls/{cid}/missed", headers=JSON, data={
            "csrf": csrf, "item": "attitude.overtalk", "start_s": start, "end_s": end})
        assert r.status_code == 400, (start, end, r.text)
        assert re.search(r"[\u4e00-\u9fff]", r.json()["error"]), r.text
    for pts in ("inf", "nan", "-1", "6.5", "1e3"):  # attitude.overtalk: at most 6 a call
        r = c.post(f"/calls/{cid}/missed", headers=JSON, data={
            "csrf": csrf, "item": "attitude.overtalk", "start_s": "1", "end_s": "2", "points": pts})
        assert r.status_code == 400 and "扣分" in r.json()["error"], pts
    fid = app.state.review.conn.execute(
        "SELECT id FROM findings_index WHERE call_id = ?", (cid,)).fetchone()[0]
    for pts in ("inf", "nan", "101", "-0.5", ""):
        r = c.post(f"/calls/{cid}/findings/{fid}", headers=JSON,
                   data={"csrf": csrf, "action": "points", "points": pts})
        assert r.status_code == 400 and "扣分" in r.json()["error"], pts
    r = c.post(f"/calls/{cid}/findings/{fid}", headers=JSON, data={"csrf": csrf, "action": "x"})
    assert r.status_code == 400 and r.json()["error"] == "未知的操作"
    for path in (f"/calls/{cid}/missed/m-../withdraw", f"/calls/{cid}/findings/a.b",
                 f"/calls/{cid}/missed/{'m-' + 'z' * 16}/withdraw"):
        r = c.post(path, data={"csrf": csrf, "action": "confirm"}, headers=JSON)
        assert r.status_code in (400, 404) and "error" in r.json(), path
    lead = signed_in(app, "wang")
    r = lead.post("/calibration/assign", data={"csrf": _csrf(lead.get("/calibration").text),
                                               "top": "²", "inspector": "zhang"})
    assert r.status_code in (200, 303)  # '²'.isdigit() is True; int('²') used to raise: a 500
    assert _events(app) == 0
    assert c.get(f"/calls/{cid}").status_code == 200
    ok = c.post(f"/calls/{cid}/missed", headers=JSON, data={
        "csrf": csrf, "item": "attitude.overtalk", "start_s": "20", "end_s": "22.5"})
    assert ok.status_code == 200 and _events(app) == 1


def test_pages_and_exports_survive_bad_rows_stored_before_the_fix(app, out):
    c, lead = signed_in(app), signed_in(app, "wang")
    cid = _top_call(c)
    conn = app.state.review.conn
    fid = conn.execute("SELECT id FROM findings_index WHERE call_id = ?", (cid,)).fetchone()[0]
    bad = [(float("inf"), float("inf"), 1.0), (float("nan"), 1.0, float("nan")),
           (1e308, 1e308, 1e308), (-5.0, 2.0, float("-inf"))]
    for i, (s, e, p) in enumerate(bad):  # as the old handler stored them
        seq = conn.execute(
            "INSERT INTO events (user, call_id, finding_id, action, verdict, points, item, start_s,"
            " end_s) VALUES ('zhang', ?, ?, 'missed', 'missed', ?, 'attitude.overtalk', ?, ?)",
            (cid, f"m-{i:016x}", p, s, e)).lastrowid
        conn.execute("INSERT INTO decisions VALUES (?, 'zhang', ?, ?)", (f"m-{i:016x}", cid, seq))
    seq = conn.execute(
        "INSERT INTO events (user, call_id, finding_id, action, verdict, points, start_s, end_s)"
        " VALUES ('zhang', ?, ?, 'points', 'confirmed', ?, 0, 1)", (cid, fid, float("inf"))
    ).lastrowid
    conn.execute("INSERT INTO decisions VALUES (?, 'zhang', ?, ?)", (fid, cid, seq))
    for who in (c, lead):
        page = who.get(f"/calls/{cid}")
        assert page.status_code == 200 and "—" in page.text
        assert len(max(re.findall(r"\d+", page.text), key=len)) < 40  # no 300-digit clock
        assert who.get("/").status_code == 200
    assert lead.get("/calibration").status_code == 200
    export.export(conn, out)
    for table in ("reviews", "review_events"):
        df = pd.read_parquet(out / table)
        for col in ("start_s", "end_s", "points"):
            assert all(v is None or math.isnan(v) or math.isfinite(v) for v in df[col]), col
        assert not df[["start_s", "end_s"]].abs().gt(1e6).any().any()


# --- row 7: headers ----------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(app, monkeypatch):
    c = signed_in(app)
    cid = _top_call(c)
    anon = browser(app, "10.0.0.9")
    answers = {
        "redirect": anon.get("/", follow_redirects=False),
        "login page": anon.get("/login"),
        "static": anon.get("/static/review.js"),
        "audio": c.get(f"/audio/{cid}", headers={"range": "bytes=0-99"}),
        "404 route": c.get("/no/such/page"),
        "404 static": anon.get("/static/nope.js"),
        "404 call": c.get("/calls/nope"),
        "405": c.get("/logout"),
        "403 json": c.post(f"/calls/{cid}/swap", data={}),
        "401 json": anon.get(f"/audio/{cid}"),
    }
    from pipeline.review import pages

    monkeypatch.setattr(pages.queue, "page", lambda *a, **k: 1 / 0)
    answers["500"] = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False,
                                cookies=c.cookies).get("/")
    assert answers["500"].status_code == 500 and "服务器内部错误" in answers["500"].text
    assert "ZeroDivisionError" not in answers["500"].text
    assert answers["405"].status_code == 405 and answers["404 route"].status_code == 404
    for what, r in answers.items():
        h = r.headers
        assert "frame-ancestors 'none'" in h.get("content-security-policy", ""), what
        assert h.get("x-content-type-options") == "nosniff", what
        assert h.get("x-frame-options") == "DENY", what
        assert h.get("referrer-policy") == "same-origin", what
        assert h.get("cache-control") in ("no-store", "no-cache"), what
        assert "server" not in h or "uvicorn" not in h["server"], what


def test_a_review_db_from_before_the_fix_keeps_its_accounts_and_loses_its_key(tmp_path):
    import sqlite3

    o = tmp_path / "out"
    make_out(o, tmp_path / "audio")
    old = sqlite3.connect(o / "review.db")  # the tables as callqa made them before issue #28
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,"
        " created_at TEXT NOT NULL DEFAULT '');"
        "INSERT INTO meta VALUES ('secret_key', 'leaked');")
    old.execute("INSERT INTO users (name, role, password_hash) VALUES ('wang', 'lead', ?)",
                (auth._HASHER.hash(PASSWORD),))
    old.commit()
    old.close()
    os.chmod(o / "review.db", 0o644)
    app = create_app(o, SCORECARD, export_on_shutdown=False)
    assert _mode(o / "review.db") == 0o600
    conn = app.state.review.conn
    assert conn.execute("SELECT * FROM meta WHERE key = 'secret_key'").fetchone() is None
    lead = signed_in(app, "wang")
    assert lead.get("/sessions").status_code == 200
