"""How do the rules hold when the transcript is worse than Whisper made it on the sample calls?

The labelled truth turns of data/sample_calls, degraded the ways held-out calls degrade (issue #15):
homophones swapped in (`matching.inject`), punctuation dropped from some turns (Whisper often
writes none), and some turns emptied (the ASR returned nothing for a VAD turn). Every rule but
loudness (the labels carry no levels) is scored as in `callqa eval`.

    .venv/bin/python bench/robustness.py [--rate 0.10] [--bare 0.5] [--lost 0.10] [--seeds 6]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import matching  # noqa: E402

from pipeline import scorecard  # noqa: E402
from pipeline.evaluate import Counts  # noqa: E402
from pipeline.rules import RULES  # noqa: E402
from pipeline.testing import words  # noqa: E402

_PUNCT = re.compile(r"[，。？！、；：,.?!]")


def degraded(rate: float, bare: float, lost: float, seed: int):
    rng = random.Random(1000 + seed)
    for call, want in matching.truth_calls(ROOT / "data/sample_calls", rate, seed):
        turns = []
        for t in call.turns:
            text = _PUNCT.sub("", t.text) if rng.random() < bare else t.text
            text = "" if rng.random() < lost else text
            turns.append(replace(t, text=text, words=words(text, t.start, t.end)))
        yield replace(call, turns=tuple(turns)), want


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=0.10, help="share of characters swapped")
    ap.add_argument("--bare", type=float, default=0.5, help="share of turns without punctuation")
    ap.add_argument("--lost", type=float, default=0.10, help="share of turns emptied")
    ap.add_argument("--seeds", type=int, default=6)
    a = ap.parse_args()
    card = scorecard.load(ROOT / "configs/scorecard.yaml")
    matching.RULES = tuple(r.name for r in RULES.values() if r.name != "loudness")
    total: dict[str, Counts] = {}
    for seed in range(a.seeds):
        for rule, c in matching.score(list(degraded(a.rate, a.bare, a.lost, seed)), card).items():
            t = total.setdefault(rule, Counts())
            t.tp, t.fp, t.fn = t.tp + c.tp, t.fp + c.fp, t.fn + c.fn
    print(f"homophones {a.rate:.0%}, unpunctuated {a.bare:.0%}, emptied {a.lost:.0%}, {a.seeds} seeds")
    print("| rule | TP | FP | FN | F1 |\n|---|---|---|---|---|")
    for rule, c in sorted(total.items()):
        print(f"| {rule} | {c.tp} | {c.fp} | {c.fn} | {c.f1:.2f} |")
    tp, fp, fn = (sum(getattr(c, k) for c in total.values()) for k in ("tp", "fp", "fn"))
    print(f"\nmicro-F1 {2 * tp / (2 * tp + fp + fn):.2f}")


if __name__ == "__main__":
    main()
