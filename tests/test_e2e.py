"""End to end with the real Whisper model on data/sample_calls: audio → Parquet → evaluation."""

import statistics

import pandas as pd
import pytest

from pipeline import config, scorecard
from pipeline.batch import Engine, rescore, run
from pipeline.cli import DEFAULT_SCORECARD
from pipeline.evaluate import LOST_BOUND, Counts, evaluate
from tests.conftest import SAMPLE_CALLS

pytestmark = pytest.mark.slow

from pipeline.rules import RULES as REGISTRY

# language_switch has no sample call: no offline Cantonese speech exists (README); its YAML cases
# test it on hand-made turns. Issue 18's rules (unsoothed, argued, complaint_unhandled) are scored
# on c36-c39 (angry customers) and must stay silent on every other call.
RULES = sorted(r.name for r in REGISTRY.values() if r.name != "language_switch")


@pytest.fixture(scope="module")
def engine(sample_engine):
    return sample_engine


@pytest.fixture(scope="module")
def out(sample_run):
    """The sample calls scored once per session (conftest), shared with the mono comparison."""
    return sample_run


def test_every_rule_holds_within_one_asr_flip(out):
    """Every labelled rule found, at most one error per rule, micro-F1 ≥ 0.95 over all of them.

    What every CPU gives, not what this one does: one ASR difference (a word heard on an AVX-512
    machine and missed on AVX2, or the reverse) is one false alarm or one miss, which alone moves a
    rule with three labels from F1 1.00 to 0.86. The per-rule F1 of a run is measured, not asserted:
    `callqa eval` and bench/bench.py print it, and README gives it with the CPU it ran on.
    """
    report = evaluate(SAMPLE_CALLS, out)
    assert not report.missing
    total = Counts()
    for rule in RULES:
        c = report.rules[rule]
        assert c.tp + c.fn > 0, f"no labelled {rule} in the sample calls"
        assert c.tp > 0 and c.fp + c.fn <= 1, (rule, c, [m for m in report.misses if rule in m])
        total = Counts(total.tp + c.tp, total.fp + c.fp, total.fn + c.fn)
    assert total.f1 >= 0.95, (total, report.misses)


def test_complaint_risk_ranks_every_angry_call_above_every_calm_one(out):
    """Issue #18: labels' `customer_mood: angry` (c36-c39); every other call counts as calm."""
    import yaml

    mood = {
        lab["call"]: lab.get("customer_mood", "calm")
        for lab in (yaml.safe_load(p.read_text(encoding="utf-8")) for p in SAMPLE_CALLS.glob("*.labels.yaml"))
    }
    calls = pd.read_parquet(out / "calls")
    risk = {src.rsplit("/", 1)[-1]: r for src, r in zip(calls["source"], calls["complaint_risk"])}
    angry = {c: risk[c] for c, m in mood.items() if m == "angry"}
    calm = {c: risk[c] for c, m in mood.items() if m == "calm"}
    assert len(angry) >= 4 and len(calm) >= 30
    assert min(angry.values()) > max(calm.values()), (angry, sorted(calm.items(), key=lambda x: -x[1])[:3])


def test_no_call_loses_more_than_5_percent_of_a_party_to_empty_turns(out):
    report = evaluate(SAMPLE_CALLS, out)
    assert report.lost
    over = {key: round(x.char_share, 3) for key, x in report.lost.items() if x.char_share > LOST_BOUND}
    assert not over, over


def test_turn_edges_within_0_3_s_of_the_truth(out):
    report = evaluate(SAMPLE_CALLS, out)
    assert statistics.median(report.start_errors) <= 0.3
    assert statistics.median(report.end_errors) <= 0.3


def test_tables_and_columns(out):
    findings = pd.read_parquet(out / "findings")
    for col in ("call_id", "source", "rule", "rule_name", "item", "points", "start_s", "end_s", "role",
                "message", "quote", "confidence", "status"):
        assert col in findings.columns
    assert set(findings["status"]) == {"suggested"}
    assert findings["id"].is_unique
    calls = pd.read_parquet(out / "calls")
    assert set(calls["status"]) == {"ok"} and calls["call_id"].is_unique
    turns = pd.read_parquet(out / "turns")
    assert set(turns["role"]) == {"agent", "customer"}


def test_no_hallucinated_text_outside_speech(out):
    turns = pd.read_parquet(out / "turns")
    text = "".join(turns["text"])
    for bad in ("字幕", "订阅", "点赞", "谢谢观看", "请不吝"):
        assert bad not in text


def test_rerun_skips_everything_and_rescore_reproduces_findings(out, engine):
    before = pd.read_parquet(out / "findings").sort_values("id").reset_index(drop=True)
    again = run(SAMPLE_CALLS, out, engine)
    assert again.processed == 0 and again.skipped == len(pd.read_parquet(out / "calls"))
    rescore(out, engine)
    after = pd.read_parquet(out / "findings").sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)


# issue #15: "the suite passes with --threads 1 and --threads 2". Two short calls (A-law with a
# Kokoro agent; babble with a fast agent) transcribed at each thread count must give the same
# findings; the full runs of all sample calls are compared in README ("Sample calls and accuracy").
THREAD_CALLS = ("c23_refund_hangup", "c31_fast_reminder")


def test_one_and_two_threads_give_the_same_findings(tmp_path):
    import dataclasses
    import shutil

    calls = tmp_path / "calls"
    calls.mkdir()
    for name in THREAD_CALLS:
        for f in SAMPLE_CALLS.glob(f"{name}.*"):
            shutil.copy(f, calls / f.name)
    found = []
    for threads in (1, 2):
        cfg = config.load()
        cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, cpu_threads=threads))
        out = tmp_path / f"out{threads}"
        summary = run(calls, out, Engine(cfg, scorecard.load(DEFAULT_SCORECARD)))
        assert summary.processed == len(THREAD_CALLS) and not summary.failed
        f = pd.read_parquet(out / "findings")
        found.append(sorted(zip(f["source"], f["rule_name"], f["start_s"].round(2), f["end_s"].round(2),
                                f["message"])))
    assert found[0] == found[1]
    assert {r for _, r, *_ in found[0]} >= {"agent_hangup", "speech_rate"}


def test_mandarin_calls_are_never_called_cantonese(out):
    """Issue 29: ≤ 5 % of the sample calls' (Mandarin) speech labelled yue, and no V003 on them."""
    turns = pd.read_parquet(out / "turns")
    labelled = turns[turns["language"] != ""]
    seconds = labelled["end_s"] - labelled["start_s"]
    assert seconds.sum() >= 0.5 * (turns["end_s"] - turns["start_s"]).sum()  # turns under 1 s stay ""
    assert seconds[labelled["language"] == "yue"].sum() <= 0.05 * seconds.sum()
    findings = pd.read_parquet(out / "findings")
    assert not (findings["rule_name"] == "language_switch").any()
