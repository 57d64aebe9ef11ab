"""Finding ids: stable, unique, and independent of the order rules yield their evidence."""

from dataclasses import replace

from pipeline import scorecard
from pipeline.config import ROOT
from pipeline.model import Evidence, finding_id
from pipeline.rules.registry import Rule
from pipeline.testing import call


def _card_with(evidence: list[Evidence], item_ids=("words.a",)) -> scorecard.Scorecard:
    card = scorecard.load(ROOT / "configs" / "scorecard.yaml")
    base = card.items[0]
    rule = Rule("X901", "fake", lambda c, p: iter(evidence), base.rule.params)
    items = tuple(replace(base, id=i, rule=rule, max_points=None) for i in item_ids)
    return replace(card, items=items)


CALL = call("A 1.0 3.0 你好\nC 4.0 6.0 我要投诉", id="c1")
TWO = [
    Evidence(1.0, 3.0, "忌语：不知道", quote="不知道"),
    Evidence(1.0, 3.0, "忌语：不清楚", quote="不清楚"),
]


def test_same_span_evidence_ids_do_not_depend_on_yield_order():
    a, _ = scorecard.evaluate(CALL, _card_with(TWO))
    b, _ = scorecard.evaluate(CALL, _card_with(list(reversed(TWO))))
    assert {f.quote: f.id for f in a} == {f.quote: f.id for f in b}
    assert all("-" not in f.id for f in a)


def test_item_is_part_of_the_id():
    found, _ = scorecard.evaluate(CALL, _card_with(TWO[:1], ("words.a", "words.b")))
    assert len({f.id for f in found}) == 2


def test_identical_twins_get_a_deterministic_suffix():
    found, _ = scorecard.evaluate(CALL, _card_with([TWO[0], TWO[0]]))
    assert sorted(f.id for f in found) == sorted(
        [found[0].id.split("-")[0], found[0].id.split("-")[0] + "-1"]
    )


def test_float_noise_does_not_change_the_id():
    assert finding_id("c", "i", "T002", 12.0, 16.5) == finding_id(
        "c", "i", "T002", 12.0004, 16.4996
    )
