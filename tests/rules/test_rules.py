"""Runs every rule's YAML cases (tests/rules/*.yaml) and checks every rule's doc examples."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from pipeline import rules
from pipeline.rules import RULES, build_params
from pipeline.testing import call

HERE = Path(__file__).parent
LEXICONS = HERE.parents[1] / "lexicons"
CASE_FILES = sorted(HERE.glob("*.yaml"))


def _cases():
    for path in CASE_FILES:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            yield pytest.param(doc["rule"], case, id=f"{path.stem}:{case['name']}")


def run(rule_name: str, spec: str, params=None, duration=None, mixed=False):
    r = rules.get(rule_name)
    c = dataclasses.replace(call(spec, duration), mixed=mixed)
    return list(r.check(c, build_params(r, params, LEXICONS)))


@pytest.mark.parametrize("rule_name, case", list(_cases()))
def test_case(rule_name, case):
    got = run(rule_name, case["turns"], case.get("params"), case.get("duration"), case.get("mixed", False))
    want = case["expect"]
    assert len(got) == len(want), [(e.start, e.end, e.message) for e in got]
    for ev, exp in zip(sorted(got, key=lambda e: e.start), want):
        for key in ("start", "end"):
            if key in exp:
                assert getattr(ev, key) == pytest.approx(exp[key], abs=0.05), (key, ev)
        for key in ("quote", "severity"):
            if key in exp:
                assert getattr(ev, key) == exp[key]
        if "message" in exp:
            assert re.search(exp["message"], ev.message), ev.message
        if "min_confidence" in exp:
            assert ev.confidence >= exp["min_confidence"]
        if "max_confidence" in exp:
            assert ev.confidence <= exp["max_confidence"]


def _doc_block(doc: str, label: str) -> str:
    m = re.search(rf"^{label}:\n((?:[ \t]+.*\n?)+)", doc, re.M)
    assert m, f"doc has no {label}: block"
    return "\n".join(line.strip() for line in m.group(1).splitlines())


@pytest.mark.parametrize("code", sorted(RULES))
def test_doc_examples(code):
    """Every rule documents a Bad and a Good example, and they behave as documented."""
    r = RULES[code]
    assert run(r.name, _doc_block(r.doc, "Bad")), f"{r.name}: Bad example does not fire"
    assert not run(r.name, _doc_block(r.doc, "Good")), f"{r.name}: Good example fires"


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_cases(code):
    names = {yaml.safe_load(p.read_text(encoding="utf-8"))["rule"] for p in CASE_FILES}
    assert RULES[code].name in names or code in names


def test_every_module_is_registered():
    modules = {p.stem for p in Path(rules.__file__).parent.glob("*.py")} - {
        "__init__",
        "registry",
        "spans",
        "waits",
        "words",
    }
    assert modules == {r.name for r in RULES.values()}
