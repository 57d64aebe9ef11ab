"""Issue #18 in Chromium: the queue's risk badge and sort (by keyboard), the call page's customer
emotion curve (a dot per customer turn; a click plays from it). Screenshots go to the test's
temporary folder (CALLQA_SCREENSHOTS=1: docs/review-risk-queue.png and docs/review-emotion.png).
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.review import auth, db
from pipeline.review.app import create_app
from pipeline.review.testing import BUSY, CALM, SCORECARD, make_out
from tests.test_review_risk import ANGRY

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def _shot(page, tmp_path: Path, name: str) -> Path:
    target = ROOT / "docs" / name if os.environ.get("CALLQA_SCREENSHOTS") else tmp_path / name
    target.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size < 300_000
    return target


def test_risk_badge_sort_by_keyboard_and_emotion_curve(browser, serve, login, tmp_path):
    out = tmp_path / "out"
    make_out(
        out,
        tmp_path / "audio",
        [
            ("2026-11-21/A001_busy.wav", BUSY, "2026-11-21", "A001"),
            ("2026-11-21/A002_angry.wav", ANGRY, "2026-11-21", "A002"),
            ("2026-11-21/A003_calm.wav", CALM, "2026-11-21", "A003"),
        ],
    )
    auth.add_user(db.connect(out), "zhang", "inspector", PASSWORD)
    s = serve(create_app(out, SCORECARD, export_on_shutdown=False))
    page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="zh-CN")
    login(page, s.url, "zhang", PASSWORD)

    first = page.locator("table.queue tbody tr >> nth=0")
    assert first.locator("a.open").inner_text() == "2026-11-21/A002_angry.wav"
    badge = first.locator(".risk-high")
    assert badge.inner_text().startswith("高 ") and "投诉" in badge.get_attribute("title")
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(214, 69, 69)"
    _shot(page, tmp_path, "review-risk-queue.png")

    # Keyboard only: focus the sort box, pick 建议扣分优先 with the arrow key, Tab to 筛选, Enter.
    page.focus("#sort")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=points**")
    assert first.locator("a.open").inner_text() == "2026-11-21/A001_busy.wav"

    page.goto(f"{s.url}/")
    page.click("table.queue a.open >> nth=0")
    page.wait_for_selector("svg.timeline polyline.emotion-line")
    dots = page.locator("svg.timeline circle.emotion")
    assert dots.count() == 3 and page.locator("svg.timeline circle.emotion.upset").count() == 1
    assert "客户情绪" in page.locator("svg.timeline").text_content()
    box = page.locator("svg.timeline").bounding_box()
    up = page.locator("svg.timeline circle.upset").bounding_box()
    assert box and up and up["y"] < box["y"] + box["height"] - 20  # drawn, high in its lane
    assert "投诉风险" in page.locator("#risk").inner_text()
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.locator("svg.timeline circle.emotion.upset").click()
    page.wait_for_function("document.getElementById('player').currentTime >= 2.4")
    page.evaluate("document.getElementById('player').pause()")
    _shot(page, tmp_path, "review-emotion.png")
