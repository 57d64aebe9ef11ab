"""callqa report: aggregations on a hand-made store with exact expected numbers, and the CLI."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from pipeline import cli, scorecard
from pipeline.report import data, load, metrics, svg
from pipeline.report.testing import Synth, decide, write
from pipeline.review.score import caps
from pipeline.review.testing import SCORECARD
from pipeline.testing import call

NOV = (date(2026, 11, 1), date(2026, 11, 30))

C0 = f"""
A 0.0 10.0 {"您好" * 15}
C 10.0 20.0 我的快递到哪了
A 20.0 30.0 请您稍等我帮您查一下
A 50.0 55.0 {"已经到了" * 2}好的
"""  # hold 30→50 (announced), 5 s dead air at the end (55→60)
C1 = f"""
A 0.0 10.0 {"好" * 30}
C 5.0 15.0 我想改地址
A 17.0 27.0 {"好" * 30}
"""  # customer talks over the agent 5→10; pauses 15→17 and 27→30 (3 s is not > 3 s)
C2 = "A 0.0 60.0 您好\nC 60.0 120.0 好的"
C3 = "A 0.0 20.0 喂\nC 20.0 40.0 你好"

CALLS = [
    Synth("c0.wav", "A1", "2026-11-02", 60.0, C0,
          (("service.forbidden_phrase", "W001", 2.0, 5.0),
           ("service.forbidden_phrase", "W001", 2.0, 8.0),
           ("attitude.silence_gap", "T002", 1.0, 12.0))),
    Synth("c1.wav", "A1", "2026-11-10", 30.0, C1, (("attitude.overtalk", "T004", 2.0, 5.0),)),
    Synth("c2.wav", "A2", "2026-11-03", 120.0, C2),
    Synth("c3.wav", None, "2026-11-04", 40.0, C3, (("flow.greeting", "S001", 1.5, 0.0),)),
    Synth("old.wav", "A2", "2026-10-30", 500.0, C2),  # before the range
    Synth("undated.wav", "A1", "unknown", 70.0, C2),  # no date in its name: in no range
]


@pytest.fixture(scope="module")
def card():
    return scorecard.load(SCORECARD)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    write(out, CALLS)
    f = pd.read_parquet(out / "findings").sort_values(["call_id", "start_s"])
    w1, w2, t2 = f[f["call_id"].str.startswith("r00000")]["id"]
    # wang: one W001 confirmed, one rejected, T002 confirmed at his own 0.5 → 2.5
    decide(out, "wang", {w1: "confirm", w2: "reject", t2: "points"}, points={t2: 0.5})
    decide(out, "zhao", {w1: "confirm", w2: "confirm", t2: "confirm"}, role="lead")  # → 5
    return out


@pytest.fixture(scope="module")
def report(store, card):
    return data.build(load.load(store, *NOV), caps(card), metrics.hold_spec(card), *NOV)


def by_agent(r: data.Report) -> dict:
    return {a["agent_id"]: a for a in r.agents.to_dict("records")}


def test_call_time_parts_add_up_to_the_duration(card):
    spec = metrics.hold_spec(card)
    m = metrics.call_metrics(call(C0, duration=60.0, id="x"), spec)
    assert (m["agent_s"], m["customer_s"], m["both_s"]) == (25.0, 10.0, 0.0)
    assert (m["hold_s"], m["silence_s"], m["pause_s"]) == (20.0, 5.0, 0.0)
    assert (m["agent_chars"], m["agent_heard_s"]) == (50.0, 25.0)
    m = metrics.call_metrics(call(C1, duration=30.0, id="y"), spec)
    assert (m["agent_s"], m["customer_s"], m["both_s"]) == (15.0, 5.0, 5.0)
    assert (m["hold_s"], m["silence_s"], m["pause_s"]) == (0.0, 0.0, 5.0)
    assert sum(m[p] for p in metrics.PARTS) == 30.0


def test_without_a_hold_item_the_hold_is_dead_air():
    m = metrics.call_metrics(call(C0, duration=60.0, id="x"), None)
    assert (m["hold_s"], m["silence_s"]) == (0.0, 25.0)


def test_range_and_unknown_agent(report):
    assert sorted(report.calls["source"]) == ["c0.wav", "c1.wav", "c2.wav", "c3.wav"]
    assert report.undated == 1 and (report.first, report.last) == ("2026-10-30", "2026-11-10")
    assert set(report.agents["agent_id"]) == {"A1", "A2", "未知坐席"}


def test_per_agent_numbers(report):
    assert report.centre_aht_s == 62.5  # (60 + 30 + 120 + 40) / 4
    a1, a2, unknown = (by_agent(report)[k] for k in ("A1", "A2", "未知坐席"))
    assert (a1["calls"], a1["talk_s"], a1["aht_s"], a1["longest_s"]) == (2, 90.0, 45.0, 60.0)
    assert a1["suggested_avg"] == 3.5  # c0: W001 2 + 2, T002 1 → 5; c1: T004 2
    assert a1["score_avg"] == 96.5
    assert a1["reviewed"] == 1 and a1["confirmed_avg"] == 3.75  # mean of wang 2.5 and zhao 5
    assert a1["speech_rate_cpm"] == pytest.approx(110 / 0.75)  # 110 characters in 45 s
    assert a1["talk_ratio"] == pytest.approx(45 / 65)
    assert a1["silence_share"] == pytest.approx(5 / 90)
    assert a1["hold_share"] == pytest.approx(20 / 90)
    assert a1["top_rules"] == "使用服务禁语/忌语 ×2、抢话/插话，打断客户说话 ×1、客户说完后 3 秒内未回应 ×1"
    # seed 002 line 142: at or below the centre's average → full marks
    assert a1["aht_full_marks"] and unknown["aht_full_marks"] and not a2["aht_full_marks"]
    assert a2["aht_vs_centre_s"] == 57.5
    assert a2["suggested_avg"] == 0.0 and a2["reviewed"] == 0
    assert math.isnan(a2["confirmed_avg"])  # nobody reviewed: unknown, not 0
    assert unknown["suggested_avg"] == 1.5


def test_weeks_and_days(report):
    w = report.weeks.set_index(["agent_id", "week"])
    assert list(w.loc["A1"].index) == ["2026-11-02", "2026-11-09"]
    assert w.loc[("A1", "2026-11-02"), "suggested_avg"] == 5.0
    assert w.loc[("A1", "2026-11-09"), "confirmed_avg"] != w.loc[("A1", "2026-11-09"),
                                                                  "confirmed_avg"]  # NaN
    d = report.days
    assert len(d) == 30 * 4  # every day of the range for each of the 4 items that fired
    w001 = d[d["item"] == "service.forbidden_phrase"].set_index("day")["findings"]
    assert w001["2026-11-02"] == 2 and w001.sum() == 2


def test_rules_with_precision_from_decisions(report):
    r = report.rules.set_index("item")
    w = r.loc["service.forbidden_phrase"]
    assert (w["findings"], w["calls_hit"], w["calls_share"], w["points"]) == (2, 1, 0.25, 4.0)
    assert (w["confirmed"], w["rejected"], w["precision"]) == (3, 1, 0.75)
    assert r.loc["attitude.silence_gap", "precision"] == 1.0
    assert math.isnan(r.loc["attitude.overtalk", "precision"])
    assert list(r.index[:1]) == ["service.forbidden_phrase"]  # most findings first


def test_score_bands(report):
    b = report.bands.set_index("band")
    assert b.loc["100 分", "suggested"] == 1  # c2
    assert b.loc["95–99.9", "suggested"] == 3  # 95, 98, 98.5
    assert b["confirmed"].sum() == 1 and b.loc["95–99.9", "confirmed"] == 1  # 96.25


def test_one_agent_keeps_the_centre_average(store, card):
    r = data.build(load.load(store, *NOV), caps(card), metrics.hold_spec(card), *NOV, agent="A1")
    assert set(r.calls["agent_id"]) == {"A1"} and r.centre_aht_s == 62.5
    assert set(r.rules["item"]) == {"service.forbidden_phrase", "attitude.silence_gap",
                                    "attitude.overtalk"}


def test_no_review_db_means_no_confirmed(tmp_path, card):
    write(tmp_path, CALLS[:2])
    r = data.build(load.load(tmp_path, *NOV), caps(card), metrics.hold_spec(card), *NOV)
    assert not r.has_review_db and r.reviewed_calls == 0
    assert r.calls["confirmed"].isna().all()


def test_cli_writes_html_and_parquet(store, capsys):
    assert cli.main(["report", str(store), "--from", "2026-11-01", "--to", "2026-11-30"]) == 0
    folder = store / "reports" / "2026-11-01_2026-11-30"
    assert "4 通通话，3 名坐席" in capsys.readouterr().out
    for table in ("calls", "agents", "weeks", "rules", "days", "bands"):
        assert len(pd.read_parquet(folder / f"{table}.parquet")) > 0
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count('class="chart"') == 6
    assert "未知坐席" in page and "种子 002 第 142 行" in page and "1.0 分钟" in page
    assert "另有 1 通通话没有日期" in page
    for outside in ("<script", "<link", " src=", "@import", "url(http"):
        assert outside not in page  # self-contained: nothing to fetch


def test_cli_agent_and_html_path(store, tmp_path):
    page = tmp_path / "a2.html"
    assert cli.main(["report", str(store), "--agent", "A2", "--html", str(page),
                     "--from", "2026-11-01", "--to", "2026-11-30"]) == 0
    text = page.read_text(encoding="utf-8")
    assert "坐席 A2" in text and "无审核" in text
    assert (store / "reports" / "2026-11-01_2026-11-30_A2" / "agents.parquet").is_file()


def test_cli_empty_range_says_so(store, capsys):
    assert cli.main(["report", str(store), "--from", "2026-12-01", "--to", "2026-12-31"]) == 0
    assert "没有已完成的通话" in capsys.readouterr().out
    page = (store / "reports" / "2026-12-01_2026-12-31" / "report.html").read_text("utf-8")
    assert "该时间段内没有已完成的通话" in page and "2026-10-30 至 2026-11-10" in page


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-13-01"], "--from '2026-13-01' 不是日期"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], "晚于"),
    (["--to", "11/30"], "请写成 YYYY-MM-DD"),
])
def test_cli_bad_dates(store, capsys, args, message):
    assert cli.main(["report", str(store), *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_not_an_output_folder(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "不是 callqa 的输出文件夹" in capsys.readouterr().err


def test_charts_carry_glyphs_or_fall_back(report, monkeypatch):
    from pipeline.report import charts

    if svg.cjk_font() is not None:
        drawn = charts.aht(report.agents, report.centre_aht_s)
        assert "<text" not in drawn and "<path" in drawn  # Chinese as outlines
        assert svg.font_note() == ""
    monkeypatch.setattr(svg, "cjk_font", lambda: None)
    drawn = charts.aht(report.agents, report.centre_aht_s)
    assert "中心通话均长" in drawn and "<text" in drawn  # left for the browser's fonts
    assert "'Noto Sans CJK SC'" in drawn and "DejaVu" not in drawn
    assert "没有中文字体" in svg.font_note()


def test_ids_are_unique_across_charts(report):
    import re

    from pipeline.report import charts

    pages = [charts.aht(report.agents, report.centre_aht_s), charts.items(report.rules)]
    ids = [i for p in pages for i in re.findall(r'\bid="([^"]+)"', p)]
    assert len(ids) == len(set(ids))




def test_a_store_without_findings(tmp_path, card, capsys):
    write(tmp_path, [CALLS[2]])  # one clean call: no findings table rows at all
    r = data.build(load.load(tmp_path, *NOV), caps(card), metrics.hold_spec(card), *NOV)
    assert r.rules.empty and r.days.empty and r.calls["score"].tolist() == [100.0]
    assert cli.main(["report", str(tmp_path), "--from", "2026-11-01", "--to", "2026-11-30"]) == 0
    page = (tmp_path / "reports" / "2026-11-01_2026-11-30" / "report.html").read_text("utf-8")
    assert "本区间没有建议扣分" in page


def test_an_agent_with_no_calls_says_so(store, capsys):
    assert cli.main(["report", str(store), "--agent", "B9", "--from", "2026-11-01",
                     "--to", "2026-11-30"]) == 0
    assert "坐席 B9 没有已完成的通话" in capsys.readouterr().out
