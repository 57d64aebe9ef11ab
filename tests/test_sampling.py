"""The month's review sample (seed 002): balance, clean calls, weighting, determinism, audit."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter

import pytest

from pipeline import cli
from pipeline.review import auth, db
from pipeline.review.testing import BUSY, CALM, make_out
from pipeline.sampling import Candidate, Params, balance, busy_hours, draw


def population(agents=4, per_cell=4, month="2026-11"):
    """Every agent: calls in all 8 cells of busy/idle × long/short × in/out, 3 in 4 flagged."""
    out, n = [], 0
    cells = list(itertools.product((10, 11, 20), (60.0, 300.0), ("inbound", "outbound")))
    for a in range(agents):
        for hour, length, direction in cells:
            for k in range(per_cell * (2 if hour == 10 else 1)):  # 10 h: as many as 11 h and 20 h
                n += 1
                flagged = n % 4 != 0
                out.append(Candidate(f"c{n:05d}", f"A{a:03d}", f"{month}-{1 + n % 28:02d}", hour, length,
                                     direction, float(n % 7) if flagged else 0.0, int(flagged)))
    return out


def test_busy_hours_hold_half_the_calls():
    assert busy_hours([10] * 6 + [11] * 3 + [20] * 3 + [None]) == (10,)
    assert busy_hours([10] * 4 + [11] * 3 + [20] * 3) == (10, 11)


@pytest.mark.parametrize("n", [5, 8, 10, 15])
def test_each_agents_sample_is_balanced_and_has_clean_calls(n):
    d = draw(population(), Params("2026-11", n, seed=7))
    assert d.busy_hours == (10,) and d.median_s == 180.0  # 10 h holds half the calls
    for agent, calls in itertools.groupby(d.calls, key=lambda c: c.agent_id):
        calls = list(calls)
        assert len(calls) == n and len({c.call_id for c in calls}) == n
        counts = balance(calls)
        for dim in ("time", "length", "kind"):
            values = counts[dim]
            assert len(values) == 2 and max(values.values()) - min(values.values()) <= 1, (agent, dim, values)
        clean = counts["flagged"]["无建议扣分"]
        assert 1 <= clean == max(1, round(n * 0.3)) and counts["flagged"]["有建议扣分"] == n - clean


def test_same_seed_same_draw_other_seed_other_draw():
    pop = population()
    one = [c.call_id for c in draw(pop, Params("2026-11", 8, seed=1)).calls]
    assert one == [c.call_id for c in draw(list(reversed(pop)), Params("2026-11", 8, seed=1)).calls]
    assert one != [c.call_id for c in draw(pop, Params("2026-11", 8, seed=2)).calls]


def test_calls_with_more_points_are_likelier():
    pop = population(agents=1)
    drawn = Counter(c.points for s in range(200) for c in draw(pop, Params("2026-11", 6, seed=s)).calls
                    if c.flagged)
    offered = Counter(c.points for c in pop if c.n_findings)
    rate = {p: drawn[p] / offered[p] for p in offered}
    assert rate[6.0] > 1.5 * rate[1.0]


def test_other_months_and_agents_without_calls_enough():
    pop = population(agents=1) + [Candidate("x1", "A999", "2026-11-03", 10, 60.0, "inbound", 0, 0),
                                   Candidate("x2", "A998", "2026-10-03", 10, 60.0, "inbound", 1, 1)]
    d = draw(pop, Params("2026-11", 8, seed=3))
    assert d.short == ("A999",) and "x1" in {c.call_id for c in d.calls}
    assert "x2" not in {c.call_id for c in d.calls} and d.agents == 2


def test_sample_command_records_the_draw_and_the_queue_filters_on_it(tmp_path, capsys):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from pipeline.review.app import create_app
    from pipeline.review.testing import SCORECARD

    out = tmp_path / "out"
    calls = [(f"2026-11-2{i}/A00{i % 2}_{i}.wav", BUSY if i % 3 else CALM, f"2026-11-2{i}", f"A00{i % 2}")
             for i in range(8)]
    make_out(out, tmp_path / "audio", calls=calls)
    conn = db.connect(out)
    auth.add_user(conn, "zhang", "inspector", "correct horse battery")
    argv = ["sample", str(out), "--month", "2026-11", "--per-agent", "3", "--seed", "42"]
    assert cli.main([*argv, "--dry-run"]) == 0
    assert "随机种子 42" in capsys.readouterr().out
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'sample_runs'").fetchone()
    assert cli.main([*argv, "--assign", "zhang"]) == 0
    assert "已记录为抽样 #1" in capsys.readouterr().out
    run = conn.execute("SELECT * FROM sample_runs").fetchone()
    assert (run["seed"], run["month"], run["n"]) == (42, "2026-11", 6)
    assert json.loads(run["params"])["assign"] == ["zhang"]
    drawn = {r["call_id"] for r in conn.execute("SELECT call_id FROM samples WHERE run = 1")}
    assert len(drawn) == 6 and conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 6
    assert cli.main([*argv, "--dry-run"]) == 0  # the same seed draws the same calls
    assert cli.main(["sample", str(out), "--month", "2026-1", "--per-agent", "3"]) == 2

    app = create_app(out, SCORECARD, export_on_shutdown=False)
    c = TestClient(app, base_url="http://127.0.0.1")
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"name": "zhang", "password": "correct horse battery", "csrf": csrf})
    page = c.get("/?sampled=1").text
    shown = set(re.findall(r'href="/calls/([^"]+)"', page))
    assert shown == drawn  # clean sampled calls included
    assert "只看抽样" in page
