"""Factories for tests and rule cases: calls from a few lines of text, no audio.

    C 10.0 12.0 我的快递到哪了
    A 13.0 14.5 您好我帮您查一下

Role (A agent, C customer), start and end in seconds, then the (normalised) text. Words are laid out
one per character, evenly over the turn, with probability 1. Optional `key=value` tokens before the
text set the other turn fields: `level=-18` (dBFS), `lang=yue`, `lang_p=0.9`, `p=0.6` (the ASR word
probability of every word), `pitch=220` (Hz) and `range=4` (semitones):

    A 20.0 24.0 level=-8 lang=yue 我哋而家幫你查
"""

from __future__ import annotations

import re

from pipeline.model import Call, Role, Turn, Word
from pipeline.text import keyed, normalize

_ROLES = {"A": Role.AGENT, "C": Role.CUSTOMER}


def words(text: str, start: float, end: float, probability: float = 1.0) -> tuple[Word, ...]:
    """Split text into one word per key character (punctuation rides on the character before)."""
    k = keyed(text)
    if not k.key:
        return ()
    pieces, step = [], (end - start) / len(k.key)
    for i, p in enumerate(k.pos):
        stop = k.pos[i + 1] if i + 1 < len(k.pos) else len(text)
        pieces.append(text[0 if i == 0 else p : stop])
    return tuple(
        Word(w, round(start + i * step, 3), round(start + (i + 1) * step, 3), probability)
        for i, w in enumerate(pieces)
    )


_OPTS = re.compile(r"^(level|lang|lang_p|p|pitch|range)=(\S+)\s*")


def turns(spec: str) -> tuple[Turn, ...]:
    out = []
    for n, line in enumerate(l for l in spec.strip().splitlines() if l.strip()):
        role, start, end, *rest = line.split(maxsplit=3)
        rest_text = rest[0] if rest else ""
        opts = {}
        while m := _OPTS.match(rest_text):
            opts[m.group(1)] = m.group(2)
            rest_text = rest_text[m.end():]
        text = normalize(rest_text)
        s, e = float(start), float(end)
        out.append(Turn(
            n, _ROLES[role.upper()], s, e, text, words(text, s, e, float(opts.get("p", 1.0))),
            float(opts["level"]) if "level" in opts else None,
            opts.get("lang", ""), float(opts.get("lang_p", 1.0 if "lang" in opts else 0.0)),
            float(opts["pitch"]) if "pitch" in opts else None,
            float(opts["range"]) if "range" in opts else None,
        ))
    return tuple(sorted(out, key=lambda t: t.start))


def call(spec: str, duration: float | None = None, id: str = "test") -> Call:
    ts = turns(spec)
    end = max((t.end for t in ts), default=0.0)
    return Call(id, duration if duration is not None else end + 1.0, ts, f"{id}.wav")
