"""The acceptance flow of issue 14 in a real browser, on a synthetic OUT (no ASR: seconds)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import cli
from pipeline.review import auth, db, export
from pipeline.review.app import create_app
from pipeline.review.testing import SCORECARD, make_out

PASSWORD = "correct horse battery"


@pytest.fixture
def served(tmp_path, serve):
    out = tmp_path / "out"
    make_out(out, tmp_path / "audio")
    auth.add_user(db.connect(out), "zhang", "inspector", PASSWORD)
    return serve(create_app(out, SCORECARD)), out


def _human(page) -> float:
    return float(page.inner_text("#human-score"))


def test_review_flow(browser, served, login):
    s, out = served
    # bypass_csp: Playwright evaluates its wait predicates with eval, which our CSP forbids.
    page = browser.new_page(
        viewport={"width": 1400, "height": 1000}, locale="zh-CN", bypass_csp=True
    )
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    login(page, s.url, "zhang", PASSWORD)
    page.click("table.queue a.open >> nth=0")
    page.wait_for_selector("li.finding")
    page.wait_for_function("document.getElementById('player').readyState >= 1")

    # Click a finding: the player jumps to within 2 s before the finding's start.
    cards = page.locator("li.finding")
    target = cards.nth(1)
    start = float(target.get_attribute("data-start"))
    target.locator("button.play").click()
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {start - 1}) < 0.6"
    )
    t = page.evaluate("document.getElementById('player').currentTime")
    assert start - 2 <= t <= start + 0.5, (t, start)

    # Clicking a transcript line plays from 1 s before it too.
    line = page.locator("li.line").nth(2)
    line_start = float(line.get_attribute("data-start"))
    line.locator(".text").click()
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {max(line_start - 1, 0)}) < 0.6"
    )

    # The transcript's <script> is shown as text and never runs (no dialog, see `errors`).
    assert "<script>alert(1)</script>" in page.inner_text(".transcript")
    # Space pauses and plays; K goes back a finding and plays from 1 s before it.
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('player').paused")
    page.keyboard.press(" ")
    page.wait_for_function("!document.getElementById('player').paused")
    page.keyboard.press("k")
    first = float(cards.nth(0).get_attribute("data-start"))
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {max(first - 1, 0)}) < 0.6")
    assert page.locator("li.finding.current").get_attribute("data-start") == cards.nth(0).get_attribute("data-start")

    before = _human(page)
    # Confirm one with the keyboard: J selects the next finding (and plays it), C confirms it.
    page.keyboard.press("j")
    page.keyboard.press("c")
    page.wait_for_selector("li.finding.decided-confirmed")
    confirmed = page.evaluate(
        "Array.from(document.querySelectorAll('li.finding')).findIndex("
        "el => el.classList.contains('decided-confirmed'))"
    )
    first_points = float(cards.nth(confirmed).locator(".machine-points").inner_text())
    assert _human(page) == before - first_points
    rejected, changed = [i for i in range(cards.count()) if i != confirmed][:2]
    # Reject another with a reason.
    cards.nth(rejected).locator("select[name=reason]").select_option("wrong_evidence")
    cards.nth(rejected).locator("button.reject").click()
    page.wait_for_selector("li.finding.decided-rejected")
    assert _human(page) == before - first_points
    # Change a third one's points.
    cards.nth(changed).locator("input[name=points]").fill("0.5")
    cards.nth(changed).locator("button.change").click()
    page.wait_for_function("document.querySelectorAll('li.finding.decided-confirmed').length === 2")
    assert _human(page) == before - first_points - 0.5
    assert "0.5" in cards.nth(changed).locator(".human-points").inner_text()
    # Add a missed deduction.
    form = page.locator("form.add-missed")
    form.locator("select[name=item]").select_option("attitude.overtalk")
    form.locator("input[name=start_s]").fill("20")
    form.locator("input[name=end_s]").fill("22")
    form.locator("input[name=comment]").fill("抢话，规则没发现")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("ol.missed li")
    assert _human(page) == before - first_points - 0.5 - 2
    assert "抢话，规则没发现" in page.inner_text("ol.missed")
    assert not errors, errors

    # All four are in OUT/reviews once exported (the server also exports when it stops).
    s.stop()
    reviews = pd.read_parquet(out / "reviews")
    assert sorted(reviews["verdict"]) == ["confirmed", "confirmed", "missed", "rejected"]
    assert set(reviews["reason"]) >= {"wrong_evidence"}

    # `callqa rescore OUT` rewrites every findings part: every decision stays on its finding.
    assert cli.main(["rescore", str(out)]) == 0
    export.export(db.connect(out), out)
    after = pd.read_parquet(out / "reviews")
    suggested = after[after["kind"] == "suggested"]
    assert len(suggested) == 3 and not suggested["needs_rereview"].any()
    assert suggested["finding_id"].isin(pd.read_parquet(out / "findings")["id"]).all()
