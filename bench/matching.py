"""Does pinyin matching pay? Precision and recall of the lexicon rules with exact-only matching
versus exact + pinyin + fuzzy, on real ASR transcripts and on truth transcripts with injected
homophone errors (the errors Whisper base makes on Chinese: 稍等→收等, 账单→章单).

    .venv/bin/python bench/matching.py [--out out/] [--rate 0.15] [--seeds 5]

--out: a `callqa run` output on data/sample_calls (its stored turns are re-scored both ways).
Injected errors: each Han character of the labelled truth turns is swapped, with probability
--rate, for a different common character with the same toneless pinyin. Rules are scored as in
`callqa eval` (same rule_name, overlapping span).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import scorecard  # noqa: E402
from pipeline.evaluate import Counts, _overlaps  # noqa: E402
from pipeline.lexicon import Lexicon  # noqa: E402
from pipeline.model import Call, Role, Turn  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.testing import words  # noqa: E402
from pipeline.text import is_han, normalize  # noqa: E402

RULES = ("forbidden_phrase", "greeting", "closing", "hold_etiquette")


def exact_only(card: scorecard.Scorecard) -> scorecard.Scorecard:
    """The same scorecard with pinyin and fuzzy matching switched off in every lexicon."""
    def strip(value):
        if isinstance(value, Lexicon):
            return dataclasses.replace(value, entries=tuple(
                dataclasses.replace(e, pinyin=False, fuzzy=False) for e in value.entries))
        return value

    items = []
    for item in card.items:
        fields = {f.name: strip(getattr(item.params, f.name)) for f in dataclasses.fields(item.params)}
        items.append(dataclasses.replace(item, params=dataclasses.replace(item.params, **fields)))
    return dataclasses.replace(card, items=tuple(items))


@lru_cache(maxsize=1)
def homophones() -> dict[str, list[str]]:
    """Toneless pinyin → common characters (those jieba's dictionary uses as one-character words)."""
    import jieba
    from pypinyin import Style, lazy_pinyin

    common = set()
    with open(jieba.get_dict_file().name, encoding="utf-8") as f:
        for line in f:
            word, freq, *_ = line.split()
            if len(word) == 1 and is_han(word) and int(freq) > 2000:
                common.add(word)
    by: dict[str, list[str]] = defaultdict(list)
    for ch in sorted(common):
        by[lazy_pinyin(ch, style=Style.NORMAL)[0]].append(ch)
    return by


def inject(text: str, rate: float, rng: random.Random) -> str:
    from pypinyin import Style, lazy_pinyin

    out = []
    for ch in text:
        if is_han(ch) and rng.random() < rate:
            alts = [c for c in homophones().get(lazy_pinyin(ch, style=Style.NORMAL)[0], []) if c != ch]
            if alts:
                ch = rng.choice(alts)
        out.append(ch)
    return "".join(out)


def truth_calls(labels_dir: Path, rate: float, seed: int) -> list[tuple[Call, list[dict]]]:
    rng = random.Random(seed)
    calls = []
    for path in sorted(labels_dir.glob("*.labels.yaml")):
        lab = yaml.safe_load(path.read_text(encoding="utf-8"))
        turns = []
        for i, t in enumerate(sorted(lab["turns"], key=lambda t: t["start"])):
            text = normalize(inject(t["text"], rate, rng))
            turns.append(Turn(i, Role(t["role"]), t["start"], t["end"], text, words(text, t["start"], t["end"])))
        calls.append((Call(path.stem, lab["duration"], tuple(turns), lab["call"]), lab.get("findings") or []))
    return calls


def asr_calls(out: Path, labels_dir: Path) -> list[tuple[Call, list[dict]]]:
    labels = {yaml.safe_load(p.read_text(encoding="utf-8"))["call"]: yaml.safe_load(p.read_text(encoding="utf-8"))
              for p in labels_dir.glob("*.labels.yaml")}
    return [(call, labels[call.source].get("findings") or []) for _, call in Store(out).load_calls()
            if call.source in labels]


def score(calls: list[tuple[Call, list[dict]]], card: scorecard.Scorecard) -> dict[str, Counts]:
    counts: dict[str, Counts] = defaultdict(Counts)
    for call, want in calls:
        got = [dataclasses.asdict(f) for f in scorecard.evaluate(call, card)[0]]
        for rule in RULES:
            preds = [f for f in got if f["rule_name"] == rule]
            used: set[int] = set()
            for w in (w for w in want if w["rule_name"] == rule):
                hit = next((i for i, p in enumerate(preds) if i not in used and _overlaps(p, w, 1.0) > float("-inf")), None)
                if hit is None:
                    counts[rule].fn += 1
                else:
                    used.add(hit)
                    counts[rule].tp += 1
            counts[rule].fp += len(preds) - len(used)
    return counts


def table(title: str, a: dict[str, Counts], b: dict[str, Counts]) -> str:
    lines = [f"### {title}", "", "| rule | exact only P / R | + pinyin + fuzzy P / R |", "|---|---|---|"]
    for rule in RULES:
        x, y = a[rule], b[rule]
        lines.append(f"| {rule} | {x.precision:.2f} / {x.recall:.2f} (TP {x.tp}, FP {x.fp}, FN {x.fn}) | "
                     f"{y.precision:.2f} / {y.recall:.2f} (TP {y.tp}, FP {y.fp}, FN {y.fn}) |")
    return "\n".join(lines)


def merge(many: list[dict[str, Counts]]) -> dict[str, Counts]:
    total: dict[str, Counts] = defaultdict(Counts)
    for c in many:
        for rule, x in c.items():
            total[rule].tp += x.tp
            total[rule].fp += x.fp
            total[rule].fn += x.fn
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", type=Path, default=ROOT / "data" / "sample_calls")
    ap.add_argument("--out", type=Path, help="a callqa run output on the labelled calls")
    ap.add_argument("--rate", type=float, default=0.15)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    full = scorecard.load(ROOT / "configs" / "scorecard.yaml")
    plain = exact_only(full)
    if args.out:
        calls = asr_calls(args.out, args.labels)
        print(table(f"Whisper base transcripts of {len(calls)} sample calls", score(calls, plain), score(calls, full)))
        print()
    runs = [truth_calls(args.labels, args.rate, seed) for seed in range(args.seeds)]
    print(table(f"truth transcripts, {args.rate:.0%} of characters swapped for homophones, {args.seeds} seeds",
                merge([score(c, plain) for c in runs]), merge([score(c, full) for c in runs])))


if __name__ == "__main__":
    main()
