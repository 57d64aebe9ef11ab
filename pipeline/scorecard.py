"""The scorecard: which rules back which QA items, for how many points, with which parameters.

`configs/scorecard.yaml` holds one entry per scorecard line an inspector would recognise:

    version: 1
    lexicons: ../lexicons          # relative to this file
    items:
      - id: service.forbidden      # stable item id (findings and decisions point at it)
        title: 使用服务忌语          # what the inspector reads
        rule: forbidden_phrase     # rule_name or code
        points: 0.5                # deducted per finding …
        max_points: 2              # … up to this much per call (optional)
        points_by_severity: {critical: 2, high: 1}   # optional, for lexicon severities
        params: {phrases: forbidden}

Loading is strict: an unknown key, rule or param is a ConfigError naming the file and item.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from pipeline import lexicon
from pipeline.config import ROOT, read_yaml
from pipeline.errors import ConfigError
from pipeline.model import Call, Finding, finding_id
from pipeline.rules import Rule, build_params, get

ITEM_KEYS = {"id", "title", "rule", "points", "max_points", "points_by_severity", "params", "seed", "enabled"}


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    rule: Rule
    points: float
    params: Any
    max_points: float | None = None
    points_by_severity: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scorecard:
    items: tuple[Item, ...]
    version: str  # hash of the scorecard and every lexicon it loaded: findings record it
    path: str = ""
    lexicon_dir: str = ""
    loaded: tuple[tuple[str, lexicon.Lexicon], ...] = ()  # (file stem, lexicon) the items share

    def cues(self):
        """The emotion lexicons per-turn states are derived with (at ingest, on a rescore, after a
        swap): the E-rules' own `words` and `replies` (the same objects, so the states they cache
        serve both), else this scorecard's emotion.txt and deescalation.txt."""
        from pipeline.emotion import Cues

        for item in self.items:
            words, replies = (getattr(item.params, k, None) for k in ("words", "replies"))
            if words is not None and replies is not None:
                return Cues(words, replies)
        return Cues(self.lexicon("emotion"), self.lexicon("deescalation"))

    def lexicon(self, name: str) -> lexicon.Lexicon:
        """`lexicons/<name>.txt` of this scorecard: the items' own copy when one uses it."""
        got = dict(self.loaded).get(name)
        if got is not None:
            return got
        return lexicon.load(Path(self.lexicon_dir or ROOT / "lexicons") / f"{name}.txt")


@dataclass(frozen=True)
class RuleFailure:
    """A rule that crashed on one call: recorded, and the other rules still run."""

    item: str
    rule: str
    error: str


def load(path: str | Path) -> Scorecard:
    path = Path(path)
    text, doc = read_yaml(path, "scorecard file")
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ConfigError(path, "expected a mapping with an 'items' list")
    lexicon_dir = (path.parent / str(doc.get("lexicons", "../lexicons"))).resolve()
    lines = item_lines(text)
    items, seen, loaded = [], set(), {}
    for n, raw in enumerate(doc["items"]):
        line = lines[n] if n < len(lines) else None
        items.append(parse_item(raw, lexicon_dir, path, line, seen, loaded))
    digest = hashlib.sha256(text.encode())
    for lex in sorted(lexicon_dir.glob("*.txt")):
        digest.update(lex.name.encode() + lex.read_bytes())
    return Scorecard(tuple(i for i in items if i is not None), digest.hexdigest()[:12], str(path),
                     str(lexicon_dir), tuple((k.stem, v) for k, v in loaded.items()))


def item_lines(text: str) -> list[int]:
    """Line numbers of the entries of `items:` (for error messages)."""
    node = yaml.compose(text)
    for k, v in getattr(node, "value", []):
        if getattr(k, "value", None) == "items" and isinstance(v, yaml.SequenceNode):
            return [child.start_mark.line + 1 for child in v.value]
    return []


def parse_item(raw: Any, lexicon_dir: Path, path: Path, line: int | None, seen: set[str],
               loaded: dict | None = None) -> Item | None:
    if not isinstance(raw, dict):
        raise ConfigError(path, "an item must be a mapping", line)
    name = raw.get("id", "?")
    try:
        unknown = set(raw) - ITEM_KEYS
        if unknown:
            raise ValueError(f"unknown key {', '.join(sorted(unknown))} (known: {', '.join(sorted(ITEM_KEYS))})")
        for key in ("id", "title", "rule", "points"):
            if key not in raw:
                raise ValueError(f"missing {key}")
        if name in seen:
            raise ValueError("duplicate item id")
        seen.add(name)
        if raw.get("enabled", True) is False:
            return None
        r = get(str(raw["rule"]))
        params = build_params(r, raw.get("params"), lexicon_dir, loaded)
        points = float(raw["points"])
        cap = raw.get("max_points")
        return Item(str(name), str(raw["title"]), r, points, params,
                    float(cap) if cap is not None else None,
                    {str(k): float(v) for k, v in (raw.get("points_by_severity") or {}).items()})
    except ConfigError as e:  # a lexicon's own error already names its file and line
        raise ConfigError(e.path, f"{e.reason} (used by item {name} in {path.name})", e.line) from None
    except (KeyError, ValueError, TypeError) as e:
        msg = e.args[0] if isinstance(e, KeyError) else str(e)
        raise ConfigError(path, f"item {name}: {msg}", line) from None


def evaluate(call: Call, card: Scorecard) -> tuple[list[Finding], list[RuleFailure]]:
    """Run every item's rule on the call; evidence becomes findings with points and stable ids."""
    findings: list[Finding] = []
    failures: list[RuleFailure] = []
    for item in card.items:
        try:
            evidence = sorted(item.rule.check(call, item.params), key=lambda e: (e.start, e.end))
        except Exception as e:  # noqa: BLE001 — one broken rule must not lose the call
            failures.append(RuleFailure(item.id, item.rule.name, f"{type(e).__name__}: {e}"))
            continue
        left = item.max_points
        for ev in evidence:
            points = item.points_by_severity.get(ev.severity, item.points)
            if left is not None:
                points = min(points, left)
                left -= points
            findings.append(Finding(
                id=finding_id(call.id, item.id, item.rule.code, ev.start, ev.end,
                              f"{ev.role or ''}|{ev.severity}|{ev.quote}|{ev.message}"),
                call_id=call.id,
                source=call.source,
                rule=item.rule.code,
                rule_name=item.rule.name,
                item=item.id,
                points=round(points, 4),
                start_s=round(ev.start, 3),
                end_s=round(ev.end, 3),
                role=ev.role.value if ev.role else "",
                message=ev.message,
                quote=ev.quote,
                confidence=round(ev.confidence * call.reliability, 3),
                severity=ev.severity,
                entry=ev.entry,
            ))
    return _unique_ids(findings), failures


def _unique_ids(findings: list[Finding]) -> list[Finding]:
    # Ids already hash item, rule, span, quote and message; only evidence identical in all of these
    # can collide. Such twins are interchangeable, so numbering them in output order is deterministic:
    # whichever comes first, `x` and `x-1` name findings with the same content.
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        n = seen.get(f.id, 0)
        seen[f.id] = n + 1
        out.append(f if n == 0 else replace(f, id=f"{f.id}-{n}"))
    return out
