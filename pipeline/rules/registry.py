"""The rule registry: every rule is a pure function `check(call, params) -> Iterable[Evidence]`.

Rules know nothing of points or scorecard items: `pipeline.scorecard` stamps those onto the evidence.
A rule's docstring is its user documentation (`callqa rule NAME` prints it), and its `Params`
dataclass holds the defaults, each commented with where the number comes from.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import config, lexicon
from pipeline.lexicon import Lexicon
from pipeline.model import Call, Evidence

Check = Callable[[Call, Any], Iterable[Evidence]]


@dataclass(frozen=True)
class Rule:
    code: str  # stable, never reused: T timing, V voice, W words, S script
    name: str  # stable rule_name, e.g. "silence_gap"
    check: Check
    params: type

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.check) or ""

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, params: type) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        for r in RULES.values():
            if code == r.code or name == r.name:
                raise ValueError(f"rule {code} {name} clashes with {r.code} {r.name}")
        RULES[code] = Rule(code, name, check, params)
        return check

    return register


def get(code_or_name: str) -> Rule:
    for r in RULES.values():
        if code_or_name in (r.code, r.name):
            return r
    known = ", ".join(f"{r.code} {r.name}" for r in RULES.values())
    raise KeyError(f"unknown rule {code_or_name!r} (known: {known})")


def lexicon_file(name: str) -> Lexicon:
    """Default for a Lexicon-typed param: `lexicons/<name>.txt`, loaded by `build_params`."""
    return Lexicon(name, ())


def build_params(r: Rule, raw: dict[str, Any] | None, lexicon_dir: Path,
                 loaded: dict[Path, Lexicon] | None = None) -> Any:
    """Strictly build `r.params` from a YAML mapping: unknown keys and wrong types raise ValueError.

    A Lexicon-typed param takes a lexicon file name (`forbidden` → `lexicons/forbidden.txt`) or an
    inline list of lexicon lines. `loaded`: files read for earlier items, shared rather than read
    again, so that rules asking the same lexicon about the same call share the caches that are
    keyed by identity (match.could_hit, emotion.states).
    """
    loaded = {} if loaded is None else loaded

    def file(name: str) -> Lexicon:
        path = lexicon_dir / f"{name}.txt"
        if path not in loaded:
            loaded[path] = lexicon.load(path)
        return loaded[path]

    def lexicons(where: str, hint: Any, value: Any) -> Lexicon | None:
        if hint is not Lexicon:
            return None
        if isinstance(value, Lexicon):
            return file(value.name) if not value.entries else value
        if isinstance(value, str):
            return file(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return lexicon.inline(value, where)
        raise ValueError(f"{where}: expected a lexicon file name or a list of phrases, got {value!r}")

    return config.build(r.params, raw, r.name, lexicons)
