"""The report page: one self-contained HTML file (inline CSS and SVG, no script, no links out).

Numbers are formatted here for people: minutes with one decimal, percentages, "—" for what
cannot be known (no reviewed call), never a fake 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pipeline import __version__
from pipeline.report import charts
from pipeline.report.data import Report
from pipeline.report.svg import font_note

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class Source:
    """A seed line a KPI comes from, quoted in the report."""

    seed: str
    lines: str  # line numbers in ../shared/seeds/<seed>_*.txt
    text: str


# The seeds' KPIs the data allows (quoted from ../shared/seeds/*.txt).
AHT_SOURCES = (
    Source("002", "142", "个人通话均长<=中心通话均长记满分,个人通话均长>中心通话均长不得分"),
    Source("003", "55", "通话时长控制:包括平均通话时长和最长通话时长"),
)
SCORE_SOURCES = (
    Source("002", "55", "分析质检结果将质检评分结果进行统计和分析,得出质检指标的得分情况"),
    Source("002", "150–152", "质检 70% 参照质检评分细则"),
)
LOW_SOURCE = Source("002", "68", "每月挑选优秀录音以及不合格的录音针对每个客户服务代表的服务质量进行点评")
SAMPLE_SOURCE = Source("002", "313", "5-15个电话每月每员工是一个常见的QA监控数字")
LOWEST = 10  # calls listed for 点评


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def num(x, digits: int = 1) -> str:
    return "—" if _missing(x) else f"{x:,.{digits}f}"


def minutes(seconds) -> str:
    return "—" if _missing(seconds) else f"{seconds / 60:,.1f} 分钟"


def hours(seconds) -> str:
    if _missing(seconds):
        return "—"
    return f"{seconds / 3600:,.1f} 小时" if seconds >= 3600 else minutes(seconds)


def pct(x) -> str:
    return "—" if _missing(x) else f"{x * 100:.1f}%"


def signed_minutes(seconds) -> str:
    return "—" if _missing(seconds) else f"{seconds / 60:+.1f} 分钟"


def env() -> Environment:
    e = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                    trim_blocks=True, lstrip_blocks=True)
    e.filters.update(num=num, minutes=minutes, hours=hours, pct=pct, signed_minutes=signed_minutes)
    return e


def context(r: Report, out: Path, files: list[str]) -> dict:
    calls = r.calls
    reviewed = calls.dropna(subset=["confirmed"])
    titles = dict(zip(r.rules["item"], r.rules["title"]))
    svg = {} if r.empty else {
        "aht": charts.aht(r.agents, r.centre_aht_s),
        "bands": charts.bands(r.bands, r.full_marks),
        "weekly": charts.weekly(r.weeks, r.agents),
        "composition": charts.composition(r.agents),
        "item_counts": charts.items(r.rules),
        "daily": charts.daily(r.days, titles),
    }
    lowest = calls.sort_values(["score", "call_id"]).head(LOWEST) if len(calls) else calls
    return {
        "r": r, "out": str(out), "files": files, "version": __version__,
        "generated": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "svg": {k: Markup(v) for k, v in svg.items()},
        "n_agents": r.agents["agent_id"].nunique(), "reviewed": reviewed,
        "agents": r.agents.to_dict("records"), "rules": r.rules.to_dict("records"),
        "bands": r.bands.to_dict("records"), "lowest": lowest.to_dict("records"),
        "weeks": r.weeks.sort_values(["agent_id", "week"]).to_dict("records"),
        "score_avg": calls["score"].mean() if len(calls) else None,
        "confirmed_score_avg": reviewed["confirmed_score"].mean() if len(reviewed) else None,
        "aht_sources": AHT_SOURCES, "score_sources": SCORE_SOURCES, "low_source": LOW_SOURCE,
        "sample_source": SAMPLE_SOURCE, "font_note": font_note(),
        "centre_longest_s": calls["duration_s"].max() if len(calls) else None,
    }


def render(r: Report, out: Path, files: list[str]) -> str:
    return env().get_template("report.html").render(**context(r, out, files))
