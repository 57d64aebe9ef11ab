"""Plain-text lexicons that QA leads edit (matching that survives ASR errors: pipeline/match.py).

File format (`lexicons/*.txt`, UTF-8), one phrase a line:

    # comment
    不知道 | severity=medium | except=不知道您,不知道是否
    喂 | at=start | pinyin=no

Options after `|` are `key=value`: `severity` (low, medium, high, critical), `except` (longer phrases
that contain the entry and make it harmless, comma-separated), `at` (any, start, end, alone: where in
a clause the phrase must stand), `pinyin` (yes/no: also match by toneless pinyin; default yes for
phrases of two or more characters, since Whisper swaps homophones such as 稍等→少等), `fuzzy`
(yes/no: also match near-homophones, see `similar`; default yes for phrases of three or more
characters that match by pinyin), and `kind` (free label a rule may use, e.g. particle/phrase
for fillers). A bad line raises `ConfigError` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.match import CONFIDENCE, TIERS, Entry, Hit, could_hit, hits, similar
from pipeline.text import Keyed, is_han, keyed, normalize

SEVERITIES = ("low", "medium", "high", "critical")
POSITIONS = ("any", "start", "end", "alone")
OPTIONS = ("severity", "except", "at", "pinyin", "kind", "fuzzy")


@dataclass(frozen=True, slots=True)
class Lexicon:
    name: str
    entries: tuple[Entry, ...]

    def find(self, text: Keyed | str) -> list[Hit]:
        """Non-overlapping hits, longest and exact first, in text order; fuzzy hits only fill
        what the exact and pinyin hits leave free."""
        k = text if isinstance(text, Keyed) else keyed(normalize(text))
        if not k.key:
            return []
        candidates = [h for e in could_hit(self.entries, k) for h in hits(e, k)]
        candidates.sort(
            key=lambda h: (h.via == "fuzzy", -(h.end - h.start), TIERS.index(h.via), h.start)
        )
        taken: list[Hit] = []
        for h in candidates:
            if all(h.end <= t.start or h.start >= t.end for t in taken):
                taken.append(h)
        return sorted(taken, key=lambda h: h.start)

    def contains(self, text: Keyed | str) -> bool:
        return bool(self.find(text))

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(e.phrase for e in self.entries)


def parse_line(raw: str, where: str) -> Entry | None:
    """One lexicon line → Entry (None for blank and comment lines)."""
    line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
    if not line:
        return None
    fields = [f.strip() for f in line.split("|")]
    phrase = normalize(fields[0])
    key = keyed(phrase).key
    if not key:
        raise ValueError(f"empty phrase in {raw.strip()!r}")
    opts: dict[str, str] = {}
    for f in fields[1:]:
        name, eq, value = f.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not value:
            raise ValueError(f"option {f!r} is not key=value (known keys: {', '.join(OPTIONS)})")
        if name not in OPTIONS:
            raise ValueError(f"unknown option {name!r} (known: {', '.join(OPTIONS)})")
        opts[name] = value
    severity = opts.get("severity", "medium")
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    at = opts.get("at", "any")
    if at not in POSITIONS:
        raise ValueError(f"at={at!r} is not one of {', '.join(POSITIONS)}")
    use_pinyin = opts.get("pinyin", "yes" if sum(map(is_han, key)) >= 2 else "no")
    if use_pinyin not in ("yes", "no"):
        raise ValueError(f"pinyin={use_pinyin!r} must be yes or no")
    three = sum(map(is_han, key)) >= 3 and use_pinyin == "yes"
    use_fuzzy = opts.get("fuzzy", "yes" if three else "no")
    if use_fuzzy not in ("yes", "no"):
        raise ValueError(f"fuzzy={use_fuzzy!r} must be yes or no")
    exceptions = tuple(keyed(normalize(x)).key for x in opts.get("except", "").split(",") if x.strip())
    for ex in exceptions:
        if key not in ex:
            raise ValueError(f"exception {ex!r} does not contain the phrase {key!r}")
    return Entry(phrase, key, severity, exceptions, at, use_pinyin == "yes", opts.get("kind", ""),
                 where, use_fuzzy == "yes")


def parse(text: str, name: str, path: str = "<inline>") -> Lexicon:
    entries, seen = [], {}
    for n, raw in enumerate(text.splitlines(), 1):
        try:
            entry = parse_line(raw, f"{path}:{n}")
        except ValueError as e:
            raise ConfigError(path, str(e), n) from None
        if entry is None:
            continue
        if entry.phrase in seen:
            raise ConfigError(path, f"duplicate phrase {entry.phrase!r} (first on line {seen[entry.phrase]})", n)
        seen[entry.phrase] = n
        entries.append(entry)
    return Lexicon(name, tuple(entries))


def load(path: str | Path) -> Lexicon:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "lexicon file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    return parse(text, path.stem, str(path))


def inline(phrases: list[str], name: str = "inline") -> Lexicon:
    """A lexicon from a YAML list: same line syntax, handy in tests and small scorecards."""
    return parse("\n".join(phrases), name, f"<{name}>")


__all__ = ["CONFIDENCE", "OPTIONS", "POSITIONS", "SEVERITIES", "TIERS", "Entry", "Hit", "Lexicon", "inline",
           "load", "parse", "parse_line", "similar"]
