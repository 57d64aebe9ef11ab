"""The month's review sample (seed 002): which calls inspectors listen to, per agent.

Seed 002: "5-15个电话每月每员工是一个常见的QA监控数字", drawn without bias: "进行均衡性的检查，确保
抽样的均衡性 … Time balance: 录音时间抽样均衡 (忙时、闲时) · Length balance: 录音档长度抽样均衡 (长的
录音、短的录音) · Application-Type balance: 业务内容抽样均衡". So each call gets three strata:

- time: 忙时 / 闲时 — busy hours are the hours of the day that, busiest first, hold half of the
  month's calls (the centre's own traffic, not a fixed clock);
- length: 长 / 短 — longer or shorter than the month's median call;
- type: the direction (呼入 / 呼出) from the file name; the business type (咨询/投诉) is not known
  to callqa, so direction stands in for it.

Per agent, `per_agent` calls: a share `clean_share` (at least one) without suggested deductions,
so the sample also measures what the rules miss (recall), the rest with suggestions, likelier the
more points they carry (weighted sampling without replacement, Efraimidis–Spirakis keys). Calls
are taken one at a time, each time the one whose strata are least represented so far (ties: the
highest key), so every stratum's count differs by at most one where the calls exist.
Deterministic: the same calls, seed and parameters give the same draw.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

PER_AGENT = (5, 15)  # seed 002: 5-15 calls per agent per month
DIRECTIONS = {"inbound": "呼入", "outbound": "呼出"}


@dataclass(frozen=True, slots=True)
class Candidate:
    call_id: str
    agent_id: str
    call_date: str  # YYYY-MM-DD
    hour: int | None  # hour of day of the call, from the file name
    duration_s: float
    direction: str  # inbound | outbound | ""
    points: float  # suggested deductions
    n_findings: int


@dataclass(frozen=True, slots=True)
class Params:
    month: str  # YYYY-MM
    per_agent: int = 10
    seed: int = 0
    clean_share: float = 0.3


@dataclass(frozen=True, slots=True)
class Drawn:
    call_id: str
    agent_id: str
    time_band: str  # 忙时 | 闲时 | 未知
    length_band: str  # 长 | 短
    kind: str  # 呼入 | 呼出 | 未知
    flagged: bool  # has suggested deductions
    points: float

    @property
    def strata(self) -> tuple[str, str, str]:
        return self.time_band, self.length_band, self.kind


@dataclass(frozen=True, slots=True)
class Draw:
    params: Params
    busy_hours: tuple[int, ...]
    median_s: float
    calls: tuple[Drawn, ...]
    agents: int
    short: tuple[str, ...]  # agents with fewer calls in the month than asked for


def busy_hours(hours: Iterable[int | None]) -> tuple[int, ...]:
    """The hours of the day that, busiest first, hold at least half of the calls."""
    counts = Counter(h for h in hours if h is not None)
    total, held, busy = sum(counts.values()), 0, []
    for hour, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])):
        if held * 2 >= total:
            break
        busy.append(hour)
        held += n
    return tuple(sorted(busy))


def draw(candidates: Iterable[Candidate], p: Params) -> Draw:
    pool = [c for c in candidates if c.call_date.startswith(p.month) and c.agent_id]
    busy = busy_hours(c.hour for c in pool)
    median = statistics.median(c.duration_s for c in pool) if pool else 0.0
    by_agent: dict[str, list[Candidate]] = {}
    for c in sorted(pool, key=lambda c: c.call_id):
        by_agent.setdefault(c.agent_id, []).append(c)
    drawn: list[Drawn] = []
    short = []
    for agent, calls in sorted(by_agent.items()):
        rng = random.Random(f"{p.seed}:{agent}")  # str seeds are hashed with SHA-512: stable
        if len(calls) < p.per_agent:
            short.append(agent)
        drawn += _one_agent(calls, p, rng, set(busy), median)
    return Draw(p, busy, median, tuple(drawn), len(by_agent), tuple(short))


def _one_agent(calls: list[Candidate], p: Params, rng: random.Random, busy: set[int],
               median: float) -> list[Drawn]:
    items = [_drawn(c, busy, median) for c in calls]
    # Efraimidis–Spirakis: the largest u^(1/w) are a weighted sample without replacement.
    keys = {d.call_id: rng.random() ** (1.0 / (1.0 + d.points)) for d in items}
    flagged = [d for d in items if d.flagged]
    clean = [d for d in items if not d.flagged]
    n = min(p.per_agent, len(items))
    n_clean = min(len(clean), max(1, round(n * p.clean_share))) if clean else 0
    n_flagged = min(len(flagged), n - n_clean)
    n_clean = min(len(clean), n - n_flagged)  # too few with suggestions: more clean ones
    counts: list[Counter[str]] = [Counter(), Counter(), Counter()]
    picked: list[Drawn] = []
    for group, k in ((flagged, n_flagged), (clean, n_clean)):
        left = list(group)
        for _ in range(k):
            best = min(left, key=lambda d: (sum(counts[i][s] for i, s in enumerate(d.strata)),
                                            -keys[d.call_id]))
            left.remove(best)
            picked.append(best)
            for i, s in enumerate(best.strata):
                counts[i][s] += 1
    return picked


def _drawn(c: Candidate, busy: set[int], median: float) -> Drawn:
    time_band = "未知" if c.hour is None else ("忙时" if c.hour in busy else "闲时")
    return Drawn(c.call_id, c.agent_id, time_band, "长" if c.duration_s > median else "短",
                 DIRECTIONS.get(c.direction, "未知"), c.n_findings > 0, c.points)


def balance(calls: Iterable[Drawn]) -> dict[str, Counter[str]]:
    """Counts per stratum value, per dimension (the balance check seed 002 asks for)."""
    out = {"time": Counter[str](), "length": Counter[str](), "kind": Counter[str](),
           "flagged": Counter[str]()}
    for d in calls:
        out["time"][d.time_band] += 1
        out["length"][d.length_band] += 1
        out["kind"][d.kind] += 1
        out["flagged"]["有建议扣分" if d.flagged else "无建议扣分"] += 1
    return out
