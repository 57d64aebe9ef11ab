"""The report's charts, each a function from the report's frames to an inline SVG string.

Every chart says what its bars are in its own labels (axis titles in Chinese, units included);
an empty frame gives "" and the page shows a sentence instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.report.data import short
from pipeline.report.svg import BAD, GOOD, GREY, PALETTE, render, style

MAX_AGENTS = 30  # bars per agent chart; the table below lists every agent
MAX_LINES = 8  # agents drawn in the weekly trend (most calls first)
TOP_ITEMS = 6  # items drawn in the daily trend; the rest are summed as 其他


def _height(n: int) -> float:
    return min(1.2 + 0.32 * n, 12.0)


def aht(agents: pd.DataFrame, centre_s: float) -> str:
    """通话均长 per agent against the centre's average (seed 002 line 142)."""
    a = agents.head(MAX_AGENTS).iloc[::-1]
    if a.empty:
        return ""

    def draw(fig):
        ax = fig.subplots()
        minutes = a["aht_s"] / 60
        colors = [GOOD if ok else BAD for ok in a["aht_full_marks"]]
        ax.barh(a["agent_id"], minutes, color=colors, height=0.6)
        ax.axvline(centre_s / 60, color="#333", linestyle="--", linewidth=1.2)
        ax.text(centre_s / 60, len(a) - 0.4, f" 中心通话均长 {centre_s / 60:.1f} 分钟",
                fontsize=9, va="bottom", color="#333")
        for y, m in enumerate(minutes):  # on white, so the centre line never runs through it
            ax.annotate(f"{m:.1f}", (m, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8, color="#333",
                        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"})
        ax.set_xlabel("平均通话时长（分钟）　绿色：不高于中心均长，满分　橙色：高于中心均长，不得分")
        ax.set_ylim(-0.6, len(a) + 0.4)
        ax.set_xlim(0, max(minutes.max(), centre_s / 60) * 1.18)
        style(ax)
        ax.grid(axis="y", visible=False)

    return render("aht", draw, 8.0, _height(len(a)) + 0.5)


def bands(b: pd.DataFrame, full_marks: float) -> str:
    """质检成绩 distribution: share of calls per score band, by suggested and (when anyone
    reviewed) by confirmed deductions — shares, since far fewer calls are reviewed."""
    if b["suggested"].sum() == 0:
        return ""
    reviewed = b["confirmed"].sum() > 0

    def draw(fig):
        ax = fig.subplots()
        x = np.arange(len(b))
        w = 0.38 if reviewed else 0.6
        bars = [("suggested", "按建议扣分（全部通话）", PALETTE[0])]
        if reviewed:
            bars.append(("confirmed", "按确认扣分（已审核通话）", PALETTE[1]))
        for k, (col, label, color) in enumerate(bars):
            off = (k - (len(bars) - 1) / 2) * w
            share = b[col] / b[col].sum() * 100
            rects = ax.bar(x + off, share, w, label=f"{label}，{b[col].sum()} 通", color=color)
            ax.bar_label(rects, labels=[f"{v:.0f}%" if n else "" for v, n in zip(share, b[col])],
                         fontsize=8, padding=2)
        ax.set_xticks(x, b["band"])
        ax.set_xlabel(f"通话得分（满分 {full_marks:g}）")
        ax.set_ylabel("通话占比（%）")
        ax.legend(frameon=False, fontsize=9)
        ax.margins(y=0.15)
        style(ax)
        ax.grid(axis="x", visible=False)

    return render("bands", draw, 8.0, 3.0)


def weekly(weeks: pd.DataFrame, agents: pd.DataFrame, column: str = "suggested_avg",
           name: str = "weekly") -> str:
    """Per agent, the average deduction per call by week (Monday), with the centre's average."""
    if weeks.empty:
        return ""
    shown = list(agents["agent_id"].head(MAX_LINES))
    order = sorted(weeks["week"].unique())
    labels = [f"{int(w[5:7])}月{int(w[8:])}日" for w in order]
    centre = (weeks.assign(tot=weeks[column] * weeks["calls"]).groupby("week")[["tot", "calls"]]
              .sum())
    centre = (centre["tot"] / centre["calls"]).reindex(order)

    def draw(fig):
        ax = fig.subplots()
        x = np.arange(len(order))
        for k, agent in enumerate(shown):
            w = weeks[weeks["agent_id"] == agent].set_index("week")[column].reindex(order)
            ax.plot(x, w.to_numpy(), marker="o", markersize=4, linewidth=1.6,
                    color=PALETTE[k % len(PALETTE)], label=agent)
        ax.plot(x, centre.to_numpy(), color="#333", linestyle="--", linewidth=1.4,
                label="全中心")
        ax.set_xticks(x, [f"{lab}起" for lab in labels])
        ax.set_ylabel("平均每通" + ("确认" if column.startswith("confirmed") else "建议") + "扣分（分）")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, fontsize=8, ncol=min(len(shown) + 1, 5), loc="upper left",
                  bbox_to_anchor=(0, -0.14))
        style(ax)

    return render(name, draw, 8.0, 3.6)


def daily(days: pd.DataFrame, titles: dict[str, str]) -> str:
    """Findings per day, stacked by scorecard item (the most frequent items, the rest as 其他)."""
    if days.empty or days["findings"].sum() == 0:
        return ""
    t = days.pivot_table(index="day", columns="item", values="findings", aggfunc="sum",
                         fill_value=0)
    top = list(t.sum().sort_values(ascending=False).index[:TOP_ITEMS])
    rest = [c for c in t.columns if c not in top]
    if rest:
        t["其他"] = t[rest].sum(axis=1)
    t = t[top + (["其他"] if rest else [])]

    def draw(fig):
        ax = fig.subplots()
        x = np.arange(len(t))
        bottom = np.zeros(len(t))
        for k, col in enumerate(t.columns):
            color = GREY if col == "其他" else PALETTE[k % len(PALETTE)]
            ax.bar(x, t[col], 0.8, bottom=bottom, color=color,
                   label=col if col == "其他" else short(titles.get(col, col)))
            bottom += t[col].to_numpy()
        step = max(1, len(t) // 12)
        ax.set_xticks(x[::step], [f"{int(d[5:7])}/{int(d[8:])}" for d in t.index[::step]])
        ax.set_ylabel("建议扣分条数")
        ax.legend(frameon=False, fontsize=8, ncol=4, loc="upper left", bbox_to_anchor=(0, -0.12))
        style(ax)
        ax.grid(axis="x", visible=False)

    return render("daily", draw, 8.0, 3.6)


def items(rules: pd.DataFrame) -> str:
    """Findings per scorecard item, most frequent on top."""
    r = rules.head(15).iloc[::-1]
    if r.empty:
        return ""

    def draw(fig):
        ax = fig.subplots()
        names = [short(t) for t in r["title"]]
        ax.barh(names, r["findings"], color=PALETTE[0], height=0.6)
        for y, (n, share) in enumerate(zip(r["findings"], r["calls_share"])):
            ax.text(n, y, f" {n}（{share * 100:.1f}% 通话）", va="center", fontsize=8)
        ax.set_xlabel("建议扣分条数（括号内：出现该项的通话占比）")
        ax.set_xlim(0, r["findings"].max() * 1.35)
        style(ax)
        ax.grid(axis="y", visible=False)

    return render("items", draw, 8.0, _height(len(r)) + 0.4)


COMPOSITION = (("agent_share", "坐席说话", PALETTE[0]), ("customer_share", "客户说话", PALETTE[2]),
               ("both_share", "同时说话", PALETTE[4]), ("hold_share", "候线", PALETTE[1]),
               ("silence_share", "静默（>3秒）", PALETTE[3]), ("pause_share", "短停顿", "#d9d9d9"))


def composition(agents: pd.DataFrame) -> str:
    """Where each agent's call time goes: 100 % bars of speech, holds and silence."""
    a = agents.head(MAX_AGENTS).iloc[::-1]
    if a.empty or a["talk_s"].sum() == 0:
        return ""

    def draw(fig):
        ax = fig.subplots()
        left = np.zeros(len(a))
        for col, label, color in COMPOSITION:
            v = a[col].fillna(0).to_numpy() * 100
            ax.barh(a["agent_id"], v, left=left, color=color, label=label, height=0.6)
            for y, (lo, width) in enumerate(zip(left, v)):
                if width >= 8:
                    ax.text(lo + width / 2, y, f"{width:.0f}%", ha="center", va="center",
                            fontsize=7, color="white" if color != "#d9d9d9" else "#333")
            left += v
        ax.set_xlim(0, 100)
        ax.set_xlabel("通话时间占比（%）")
        ax.legend(frameon=False, fontsize=8, ncol=6, loc="upper left", bbox_to_anchor=(0, -0.18))
        style(ax)
        ax.grid(visible=False)

    return render("composition", draw, 8.0, _height(len(a)) + 0.9)
