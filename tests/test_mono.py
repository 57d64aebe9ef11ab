"""Mono calls end to end: the sample calls mixed down to one channel, diarised, transcribed, scored.

Each stereo sample call of a set that covers every rule (`covering`: 12 of the 41, 13 min of audio) becomes the sum
of its two channels (a recorder that mixes the line), at 16 kHz in FLAC; its labels carry over
unchanged. bench/mono.py compares all 41. Issue 17's bars: speech time attributed to the
right role ≥ 90 % on every call (overlaps excluded), and per-rule F1 within 0.1 of the stereo
result for every rule but overtalk, which does not run on mono calls.

With 1–9 labelled findings per rule, one call's ASR flip moves a rule's F1 by 0.11–0.67, more
than 0.1, and which calls flip depends on the machine and the input's exact samples: earlier on
2026-12-01 the mono mix-down of c20 heard 用不上 as 拥不上 and lost a retention push (bench/mono.py;
fixed by mechanism since: refusal entries that match homophones). So this test bounds what may
drift: micro-F1 within 0.05 of stereo, and no rule more than one error (FP + FN) worse. README
reports the per-rule comparison on all 41 calls as measured (every rule but overtalk equal).
"""

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline import audio
from pipeline.attribution import attribution
from pipeline.batch import run
from pipeline.evaluate import evaluate
from tests.conftest import SAMPLE_CALLS, write_audio

pytestmark = pytest.mark.slow

MAX_MICRO_DROP = 0.05
MAX_EXTRA_ERRORS = 1  # per rule


def covering(src) -> list:
    """The labels of a few calls that hold, between them, a positive of every rule and at least two
    clean stretches of talk: greedy set cover by rules gained per second of audio, the shortest
    clean calls first (the whole set, mixed down and scored, would add eight minutes to a suite
    that must stay under fifteen; bench/mono.py runs all of them)."""
    calls = {}
    for p in sorted(src.glob("*.labels.yaml")):
        lab = yaml.safe_load(p.read_text(encoding="utf-8"))
        calls[p] = (float(lab["duration"]), {f["rule_name"] for f in lab.get("findings") or []})
    want = set().union(*(rules for _, rules in calls.values())) - {"overtalk"}
    picked = sorted((p for p, (_, rules) in calls.items() if not rules), key=lambda p: calls[p][0])[:2]
    for p in picked:
        calls.pop(p)
    while want:
        best = max(calls, key=lambda p: len(calls[p][1] & want) / calls[p][0])
        picked.append(best)
        want -= calls.pop(best)[1]
    return sorted(picked)


def mix_down(labels_files, dst):
    dst.mkdir(parents=True)
    for labels in labels_files:
        lab = yaml.safe_load(labels.read_text(encoding="utf-8"))
        a = audio.load(labels.parent / lab["call"])
        mono = a.channels.sum(axis=0)
        mono /= max(1.0, float(np.abs(mono).max()))  # a summing recorder's limiter
        name = re.sub(r"\.\w+$", ".flac", lab["call"])
        write_audio(dst / name, mono[None], a.sample_rate)
        lab["call"] = name
        (dst / labels.name).write_text(yaml.safe_dump(lab, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def mono_run(tmp_path_factory, sample_engine):
    calls = mix_down(covering(SAMPLE_CALLS), tmp_path_factory.mktemp("mono") / "calls")
    out = calls.parent / "out"
    summary = run(calls, out, sample_engine)
    assert not summary.failed, summary.failed
    return calls, out


def test_speech_time_goes_to_the_right_role(mono_run):
    calls, out = mono_run
    turns = pd.read_parquet(out / "turns")
    worst = {}
    for labels in sorted(calls.glob("*.labels.yaml")):
        lab = yaml.safe_load(labels.read_text(encoding="utf-8"))
        mine = turns[turns["source"] == lab["call"]]
        a = attribution([(t["start"], t["end"], t["role"]) for t in lab["turns"]],
                        zip(mine["start_s"], mine["end_s"], mine["role"]), lab["duration"])
        worst[lab["call"]] = round(a.share, 3)
    print("role attribution per call:", worst)
    low = {k: float(v) for k, v in worst.items() if v < 0.9}
    assert not low, low


def test_rules_score_as_on_stereo_within_one_error(mono_run, sample_run):
    calls, out = mono_run
    same = calls.parent / "stereo_labels"  # the stereo run's labels for the same calls
    same.mkdir(exist_ok=True)
    for labels in covering(SAMPLE_CALLS):
        (same / labels.name).write_bytes(labels.read_bytes())
    mono = evaluate(calls, out)
    stereo = evaluate(same, sample_run)
    assert not mono.missing and not stereo.missing
    rules = [r for r, c in stereo.rules.items() if r != "overtalk" and c.tp + c.fn]
    table = {r: (round(float(stereo.rules[r].f1), 2), round(float(mono.rules[r].f1), 2)) for r in rules}
    print("F1 stereo → mono:", table)

    def micro(report):
        tp = sum(report.rules[r].tp for r in rules)
        wrong = sum(report.rules[r].fp + report.rules[r].fn for r in rules)
        return 2 * tp / (2 * tp + wrong)

    assert micro(mono) >= micro(stereo) - MAX_MICRO_DROP, (micro(stereo), micro(mono), mono.misses)
    errors = {r: (stereo.rules[r].fp + stereo.rules[r].fn, mono.rules[r].fp + mono.rules[r].fn) for r in rules}
    worse = {r: e for r, e in errors.items() if e[1] > e[0] + MAX_EXTRA_ERRORS}
    assert not worse, (worse, [m for m in mono.misses if any(r in m for r in worse)])


def test_calls_record_the_mix_and_the_role_decision(mono_run):
    _, out = mono_run
    calls = pd.read_parquet(out / "calls")
    assert calls["mixed"].all() and (calls["channels"] == 1).all()
    assert (calls["speakers"] == 2).all()
    assert calls["role_confidence"].between(0.5, 1.0).all()
    assert (calls["reliability"] <= calls["role_confidence"]).all()
    findings = pd.read_parquet(out / "findings")
    assert "overtalk" not in set(findings["rule_name"])
