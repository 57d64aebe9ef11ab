"""`callqa check`: every problem in the scorecard and the lexicons at once, each with file:line.

Loading (`scorecard.load`, `lexicon.load`) is strict and stops at the first error, which is right
for a batch that must not run on a broken card; a QA lead editing lexicons wants the whole list.
Besides what loading rejects (unknown option, bad severity, empty phrase, an `except=` that does
not contain its phrase, duplicates, scorecard errors), it reports taboo and filler entries that
add nothing (a shorter entry of the same severity always matches with them), taboo and filler
entries that also stand in the greeting/closing/politeness lexicons, and Traditional characters
(with the Simplified form).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import read_yaml
from pipeline.errors import ConfigError
from pipeline.lexicon import Entry, parse_line
from pipeline.text import to_simplified

# Lexicons of things an agent *should* say: a taboo or filler entry also listed there contradicts it.
GOOD = ("greetings", "closings", "politeness", "thanks_reply")  # what the agent is asked to say
BAD = ("forbidden", "fillers")
WRITTEN_AS_SPOKEN = ("cantonese",)  # Cantonese words are written with their own characters (喎, 嘅)


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int | None
    message: str
    error: bool = True  # False: works, but is redundant or suspicious (a warning)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {'错误' if self.error else '提示'}：{self.message}"


def lexicon_problems(path: Path) -> tuple[list[Problem], list[Entry]]:
    """Every problem of one lexicon file, and the entries that did parse."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return [Problem(str(path), None, f"无法读取（{e}）")], []
    problems, entries, seen = [], [], {}
    for n, raw in enumerate(text.splitlines(), 1):
        try:
            entry = parse_line(raw, f"{path}:{n}")
        except ValueError as e:
            problems.append(Problem(str(path), n, f"格式错误：{e}"))
            continue
        if entry is None:
            continue
        written = raw.split("|", 1)[0].strip()
        if path.stem not in WRITTEN_AS_SPOKEN and to_simplified(written) != written:
            problems.append(Problem(str(path), n, f"含繁体字：{written}，简体应为 {to_simplified(written)}",
                                    error=False))
        if entry.key in seen:
            first, line = seen[entry.key]
            same = first == entry.phrase  # the loader refuses these; 您/你 twins only repeat themselves
            if same or path.stem in BAD:
                problems.append(Problem(str(path), n, f"重复词条 {entry.phrase!r}（第 {line} 行已有"
                                        + ("）" if same else f" {first!r}：您/你 在匹配时视为相同）"), error=same))
            continue
        seen[entry.key] = (entry.phrase, n)
        entries.append(entry)
    if path.stem in BAD:  # each hit deducts: a dead entry misleads the lead who reads the list
        problems += _shadowed(path, entries)
    return problems, entries


def _line(e: Entry) -> int | None:
    tail = e.where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _shadowed(path: Path, entries: list[Entry]) -> list[Problem]:
    """An entry containing a shorter entry of the same severity and kind that matches anywhere adds
    nothing: wherever it is said, the shorter one is too (unless that one excuses it with `except=`),
    and the rule deducts the same once for either."""
    out = []
    for long in entries:
        for short in entries:
            if (short is not long and short.at == "any" and short.key in long.key
                    and (short.severity, short.kind) == (long.severity, long.kind)
                    and not any(short.key in ex and ex in long.key for ex in short.exceptions)):
                out.append(Problem(str(path), _line(long),
                                   f"词条 {long.phrase!r} 多余：凡命中它之处，第 {_line(short)} 行的 "
                                   f"{short.phrase!r} 也会命中（严重程度相同），删除它扣分不变", error=False))
                break
    return out


def _conflicts(parsed: dict[str, tuple[Path, list[Entry]]]) -> list[Problem]:
    good = {e.key: (name, e) for name in GOOD if name in parsed for e in parsed[name][1]}
    out = []
    for name in BAD:
        if name not in parsed:
            continue
        path, entries = parsed[name]
        for e in entries:
            if e.key in good:
                other, o = good[e.key]
                out.append(Problem(str(path), _line(e), f"词条 {e.phrase!r} 同时在 {other}.txt 第 {_line(o)} 行"
                                                       "（应说的话又被当作扣分词）"))  # an error: it deducts for what the card asks
    return out


def scorecard_problems(path: Path) -> tuple[list[Problem], Path]:
    """Every item's problem (not only the first), and the lexicon folder the card names."""
    from pipeline import scorecard

    try:
        text, doc = read_yaml(path, "scorecard file")
    except ConfigError as e:
        return [Problem(e.path, e.line, e.reason)], path.parent / "../lexicons"
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        return [Problem(str(path), None, "评分表应包含 items 列表")], path.parent / "../lexicons"
    lexicon_dir = (path.parent / str(doc.get("lexicons", "../lexicons"))).resolve()
    lines = scorecard.item_lines(text)
    problems, seen = [], set()
    for n, raw in enumerate(doc["items"]):
        try:
            scorecard.parse_item(raw, lexicon_dir, path, lines[n] if n < len(lines) else None, seen)
        except ConfigError as e:
            if not e.path.endswith(".txt"):  # a lexicon's own errors are reported per file below
                problems.append(Problem(e.path, e.line, e.reason))
    return problems, lexicon_dir


def check(scorecard_path: Path) -> list[Problem]:
    problems, lexicon_dir = scorecard_problems(scorecard_path)
    parsed: dict[str, Any] = {}
    for lex in sorted(Path(lexicon_dir).glob("*.txt")):
        found, entries = lexicon_problems(lex)
        problems += found
        parsed[lex.stem] = (lex, entries)
    return problems + _conflicts(parsed)
