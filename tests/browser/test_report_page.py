"""The report page in headless Chromium: opens from file:// with no network, no console errors,
and every chart drawn; and the README screenshot.

Set CALLQA_SCREENSHOTS=1 (`make screenshots`) to write docs/report.png; otherwise the screenshot
goes to the test's temporary folder, so a test run leaves the tree unchanged.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from pipeline import cli
from pipeline.report.testing import month

ROOT = Path(__file__).resolve().parents[2]
CHARTS = {"aht", "bands", "composition", "weekly", "items", "daily"}
MAX_PNG = 300_000  # bytes: docs/report.png stays small in the repository


def compact_png(shot: Path, target: Path, height: int) -> None:
    """The top `height` pixels of the page (cards, 通话均长, the score distribution), as a
    128-colour PNG."""
    from PIL import Image

    with Image.open(shot) as im:
        top = im.convert("RGB").crop((0, 0, im.width, min(height, im.height)))
        top.quantize(colors=128).save(target, optimize=True)


def test_report_renders_offline(browser, tmp_path):
    out = tmp_path / "out"
    month(out, first=date(2026, 11, 2), days=21, per_day=4)
    assert cli.main(["report", str(out), "--from", "2026-11-01", "--to", "2026-11-30"]) == 0
    html = out / "reports" / "2026-11-01_2026-11-30" / "report.html"

    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    assert requests == [html.as_uri()]  # self-contained: the page fetches nothing else

    boxes = page.evaluate("""[...document.querySelectorAll('svg.chart')].map(s => {
        const r = s.getBoundingClientRect();
        return {name: s.dataset.chart, w: r.width, h: r.height,
                shapes: s.querySelectorAll('path, use, rect').length};
    })""")
    assert {b["name"] for b in boxes} == CHARTS
    for b in boxes:
        assert b["w"] > 300 and b["h"] > 100 and b["shapes"] > 10, b
    assert page.locator("h1").inner_text().startswith("客服质检报告")
    assert page.locator("#aht table tr").count() == 1 + 6  # header + five agents + 未知坐席
    assert "未知坐席" in page.locator("#agents").inner_text()

    shot = tmp_path / "report-full.png"
    page.screenshot(path=str(shot), full_page=True)
    target = ROOT / "docs" / "report.png" if os.environ.get("CALLQA_SCREENSHOTS") else \
        tmp_path / "report.png"
    bands = page.locator("#scores table").first.bounding_box()
    compact_png(shot, target, int(bands["y"] + bands["height"] + 10))
    assert 0 < target.stat().st_size <= MAX_PNG
    page.close()
