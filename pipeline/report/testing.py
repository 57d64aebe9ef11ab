"""Synthetic OUT folders for the report's tests and demo: no audio, no ASR.

`write` stores hand-made calls with hand-made findings (exact numbers for tests); `decide` makes
inspector decisions through the workbench's own code (accounts, index, decisions); `month`
writes a realistic month — agents with their own habits, calls built from dialogue pieces and
scored by the real rules — and has inspectors review a sample of it (`python -m
pipeline.report.testing OUT` for the demo).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from pipeline import rows, scorecard
from pipeline.model import Call, Finding, finding_id
from pipeline.review import auth, db, decisions, index
from pipeline.review.testing import SCORECARD, make_out
from pipeline.store import Store
from pipeline.testing import call as make_call

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Synth:
    """One call: a turn spec (pipeline.testing format); findings as (item, rule, points, start)."""

    name: str
    agent: str | None
    day: str
    duration: float
    spec: str
    findings: tuple[tuple[str, str, float, float], ...] = ()


def write(out: Path, calls: list[Synth]) -> list[str]:
    """Store `calls` with exactly their findings; returns the call ids (in order)."""
    store = Store(out)
    store.recover()
    stamp = rows.Stamp("synthetic", "test", "test", "test")
    ids = []
    for n, s in enumerate(calls):
        cid = f"r{n:05d}" + "cd" * 7
        c = make_call(s.spec, duration=s.duration, id=cid)
        c = Call(cid, s.duration, c.turns, s.name)
        found = [Finding(finding_id(cid, item, rule, start, start + 1.0), cid, s.name, rule,
                         rule.lower(), item, points, start, start + 1.0, "agent", f"{item} 测试")
                 for item, rule, points, start in s.findings]
        row = rows.scored(rows.new(cid, s.name, {"agent_id": s.agent, "call_date": s.day}, stamp),
                          c, found, [])
        store.save_call(replace(row, duration_s=s.duration), c, found)
        ids.append(cid)
    return ids


def decide(out: Path, user: str, verdicts: dict[str, str], role: str = "inspector",
           points: dict[str, float] | None = None) -> None:
    """`user` decides findings: {finding_id: "confirm" | "reject"}; `points` sets own values."""
    conn = db.connect(out)
    if auth.get_user(conn, user) is None:
        auth.add_user(conn, user, role, PASSWORD)
    index.refresh(conn, out)
    for fid, action in verdicts.items():
        f = dict(conn.execute("SELECT * FROM findings_index WHERE id = ?", (fid,)).fetchone())
        if points and fid in points:
            decisions.decide(conn, user, f, "points", points=points[fid])
        else:
            decisions.decide(conn, user, f, action, reason="wrong" if action == "reject" else "")
    conn.close()


# --- the demo month -------------------------------------------------------------------------

GREETINGS = ("您好，很高兴为您服务，请问有什么可以帮您", "您好，请问有什么可以帮您")
ASKS = ("我想查一下我上个月的话费怎么这么多", "我的快递三天了还没有到，帮我看看", "我想改一下我的收货地址",
        "我的会员怎么突然自动续费了", "我昨天申请的退款什么时候能到账", "宽带一直连不上网是怎么回事")
ANSWERS = ("好的，我这边帮您看一下您的账户情况", "您说的这个情况我了解了，我跟您解释一下",
           "这个是系统自动处理的，一般一到三个工作日内完成", "您可以在手机上打开我们的应用自己修改",
           "我已经帮您提交了申请，稍后会有短信通知您", "这边看到您的订单已经在派送途中了")
CUSTOMER = ("好的", "那大概要多久呢", "嗯，明白了", "可是我之前已经问过一次了", "那我需要做什么吗", "行吧")
RUDE = ("不知道，这个我不清楚", "你听明白了吗，我已经说过了", "这个我也不清楚你自己去查")
HOLD, RETURN = "请您稍等，我帮您查一下", "感谢您耐心等待，"
CLOSINGS = ("请问还有其他可以帮您的吗", "感谢您的来电，祝您生活愉快，再见")


@dataclass(frozen=True)
class Habit:
    """How an agent tends to work: talk speed (字/秒), exchanges per call, and how often (per
    exchange, or per call for greeting/closing) they hold, slip, answer late, talk over the
    customer, fill with 嗯/啊, or skip the greeting or closing."""

    cps: float
    exchanges: tuple[int, int]
    hold: float
    rude: float
    late: float
    overtalk: float
    filler: float
    skip_greeting: float
    skip_closing: float


HABITS = {  # five agents with their own habits, and calls whose file name had no agent id
    "A1001": Habit(4.0, (8, 14), 0.05, 0.01, 0.03, 0.02, 0.05, 0.02, 0.03),
    "A1002": Habit(3.5, (12, 22), 0.12, 0.02, 0.06, 0.02, 0.30, 0.03, 0.05),
    "A1003": Habit(4.6, (6, 10), 0.03, 0.06, 0.03, 0.08, 0.05, 0.12, 0.15),
    "A1004": Habit(3.8, (9, 16), 0.08, 0.02, 0.12, 0.03, 0.10, 0.04, 0.04),
    "A1005": Habit(4.2, (8, 13), 0.06, 0.005, 0.02, 0.01, 0.02, 0.01, 0.02),
    None: Habit(3.9, (8, 14), 0.06, 0.02, 0.05, 0.03, 0.10, 0.05, 0.05),
}


def dialogue(rng: random.Random, h: Habit) -> str:
    """One call as turn lines: greeting, question, exchanges (holds, slips), closing."""
    lines, t = [], rng.uniform(0.5, 2.0)

    def say(who: str, text: str, cps: float) -> None:
        nonlocal t
        d = max(len(text) / cps, 0.8)
        lines.append(f"{who} {t:.1f} {t + d:.1f} {text}")
        t += d + rng.uniform(0.4, 1.2)

    say("A", "喂" if rng.random() < h.skip_greeting else rng.choice(GREETINGS), h.cps)
    say("C", rng.choice(ASKS), 4.2)
    for _ in range(rng.randint(*h.exchanges)):
        if rng.random() < h.late:
            t += rng.uniform(3.5, 7.0)  # dead air before the reply
        elif rng.random() < h.overtalk:
            t -= rng.uniform(2.0, 3.0)  # the agent starts while the customer still speaks
        answer = rng.choice(ANSWERS)
        if rng.random() < h.filler:
            answer = "嗯，啊，" + answer[:6] + "呃，" + answer[6:] + "哦"
        if rng.random() < h.hold:
            say("A", HOLD, h.cps)
            say("C", "好的", 3.0)
            t += rng.uniform(8.0, 40.0)
            say("A", (RETURN if rng.random() < 0.7 else "") + answer, h.cps)
        else:
            say("A", rng.choice(RUDE) if rng.random() < h.rude else answer, h.cps)
        say("C", rng.choice(CUSTOMER), 4.0)
    if rng.random() >= h.skip_closing:
        say("A", CLOSINGS[0], h.cps)
        say("C", "没有了，谢谢", 4.0)
        say("A", CLOSINGS[1], h.cps)
    return "\n".join(lines)


def month(out: Path, first: date = date(2026, 11, 2), days: int = 28, per_day: int = 6,
          seed: int = 7) -> list[str]:
    """A month of calls for every agent in HABITS, then two inspectors and a lead review some."""
    rng = random.Random(seed)
    calls = []
    for d in range(days):
        day = first + timedelta(d)
        if day.weekday() == 6:  # the centre is closed on Sundays
            continue
        for agent, habit in HABITS.items():
            for k in range(rng.randint(per_day // 2, per_day) if agent else 1):
                name = f"{day:%Y/%m/%d}/{agent or 'unknown'}/{day:%Y%m%d}_{9 + k:02d}0000_in.wav"
                calls.append((name, dialogue(rng, habit), day.isoformat(), agent))
    ids = make_out(out, calls=calls, card=scorecard.load(SCORECARD))
    conn = db.connect(out)
    index.refresh(conn, out)
    sample = rng.sample(ids, k=min(len(ids), 80))
    for n, cid in enumerate(sample):
        user = ("wang", "li", "zhao")[n % 3]
        found = [dict(r) for r in conn.execute("SELECT * FROM findings_index WHERE call_id = ?",
                                               (cid,))]
        verdicts = {f["id"]: ("reject" if rng.random() < 0.15 else "confirm") for f in found}
        conn.close()
        decide(out, user, verdicts, "lead" if user == "zhao" else "inspector")
        conn = db.connect(out)
    conn.close()
    return ids


if __name__ == "__main__":  # python -m pipeline.report.testing OUT
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "out/report-demo")
    print(f"写入 {len(month(target))} 通合成通话到 {target}")
