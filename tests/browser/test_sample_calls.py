"""The call page on real sample calls (real ASR on two short calls), and the README screenshot.

Set CALLQA_SCREENSHOTS=1 (`make screenshots`) to write docs/review-call.png; otherwise the
screenshot goes to the test's temporary folder, so a test run leaves the tree unchanged.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.review import auth, db
from pipeline.review.app import create_app
from pipeline.review.testing import SCORECARD

ROOT = Path(__file__).resolve().parents[2]
CALLS = ("c05_forbidden.mp3", "c04_dead_air.mp3")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    if not (ROOT / "models" / "whisper-base" / "model.bin").is_file():
        pytest.skip("models/whisper-base is not assembled (make model)")
    base = tmp_path_factory.mktemp("samples")
    audio = base / "recordings"
    audio.mkdir()
    for name in CALLS:
        shutil.copy(ROOT / "data" / "sample_calls" / name, audio / name)
    out = base / "out"
    assert cli.main(["run", str(audio), "--out", str(out), "--workers", "1"]) == 0
    auth.add_user(db.connect(out), "zhang", "inspector", PASSWORD)
    return out


def test_call_page_on_sample_calls(browser, sample_out, serve, login, tmp_path):
    s = serve(create_app(sample_out, SCORECARD))
    page = browser.new_page(
        viewport={"width": 1280, "height": 1000}, locale="zh-CN", bypass_csp=True
    )
    login(page, s.url, "zhang", PASSWORD)
    page.click("table.queue a.open >> nth=0")
    page.wait_for_selector("li.finding")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    duration = page.evaluate("document.getElementById('player').duration")
    assert duration > 90  # the whole mp3, served with Range

    # The finding furthest into the call: seeking there needs Range requests.
    cards = page.locator("li.finding")
    starts = [float(cards.nth(i).get_attribute("data-start")) for i in range(cards.count())]
    last = max(range(len(starts)), key=starts.__getitem__)
    cards.nth(last).locator("button.play").click()
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {starts[last] - 1}) < 1"
    )
    t = page.evaluate("document.getElementById('player').currentTime")
    assert starts[last] - 2 <= t <= starts[last] + 0.5
    page.evaluate("document.getElementById('player').pause()")
    assert page.locator("mark").count() >= 1  # evidence highlighted in the transcript

    # A decision, so the screenshot shows both sides of a finding.
    cards.nth(0).locator("button.confirm").click()
    page.wait_for_selector("li.finding.decided-confirmed")
    target = (
        ROOT / "docs" / "review-call.png"
        if os.environ.get("CALLQA_SCREENSHOTS")
        else tmp_path / "call.png"
    )
    target.parent.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(target))
    assert target.stat().st_size < 300_000
