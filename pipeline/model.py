"""The data model: what a call is made of, and what the rules say about it.

Every time is seconds from the start of the recording (the connect). Records are frozen; change
them with `dataclasses.replace`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

Seconds = float


class Role(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Word:
    """One ASR word (for Chinese usually one or two characters) with its timing and probability."""

    text: str
    start: Seconds
    end: Seconds
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class Turn:
    """One stretch of speech by one party, as cut by the VAD, with what the ASR heard in it."""

    id: int
    role: Role
    start: Seconds
    end: Seconds
    text: str = ""  # normalised: Simplified Chinese, full-width punctuation kept
    words: tuple[Word, ...] = ()
    level_db: float | None = None  # speech loudness, dBFS (RMS over the turn's voiced frames)
    language: str = ""  # language the ASR heard ("zh", "yue", …); "" when not detected
    language_prob: float = 0.0
    # Voice and state, customer turns only (pipeline/prosody.py, emotion.py); None where unmeasured
    pitch_hz: float | None = None  # median F0 of the turn's voiced frames
    pitch_range_st: float | None = None  # F0 spread, p90/p10 in semitones
    emotion: float | None = None  # how upset the customer sounds, 0 (calm) – 1
    emotion_cues: str = ""  # comma-separated cue codes behind `emotion` (emotion.CUES)

    @property
    def duration(self) -> Seconds:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Call:
    id: str  # content hash of the audio file: renamed files keep their id
    duration: Seconds
    turns: tuple[Turn, ...]  # sorted by start; both parties interleaved
    source: str = ""  # audio path relative to the batch root
    mixed: bool = False  # both parties on one channel (mono): roles come from diarisation
    reliability: float = 1.0  # trust in this call's audio and roles, 0–1; scales every finding's confidence

    def by(self, role: Role) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.role is role)

    def replies(self) -> Iterator[tuple[Turn, Turn]]:
        """(customer turn, next agent turn) pairs: the customer spoke, then the agent."""
        last_customer: Turn | None = None
        for turn in self.turns:
            if turn.role is Role.CUSTOMER:
                last_customer = turn
            elif last_customer is not None:
                yield last_customer, turn
                last_customer = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a rule saw: a span the inspector can jump to, and why it matters (in Chinese)."""

    start: Seconds
    end: Seconds
    message: str
    quote: str = ""
    confidence: float = 1.0
    role: Role | None = Role.AGENT
    severity: str = ""  # lexicon severity where the rule has one (e.g. forbidden phrases)
    entry: str = ""  # the lexicon entry (phrase) that fired; several joined by "|"; "" for none


@dataclass(frozen=True, slots=True)
class Finding:
    """A suggested deduction: one Parquet row, to be confirmed or rejected by an inspector.

    `id` is stable across reruns (call content hash + item + rule + evidence span + the evidence's
    quote and message), so inspectors' decisions, stored apart, keep pointing at the same finding
    after a rescore (see `finding_id`).
    """

    id: str
    call_id: str
    source: str
    rule: str  # stable code, e.g. "T002"
    rule_name: str  # e.g. "silence_gap"
    item: str  # scorecard item id
    points: float
    start_s: Seconds
    end_s: Seconds
    role: str
    message: str
    quote: str = ""
    confidence: float = 1.0
    severity: str = ""
    status: str = "suggested"
    # The lexicon entry behind it (several joined by "|": a lexicon phrase never holds one), for
    # per-entry statistics and rescore diffs. Not part of `id`: adding it changed no id.
    entry: str = ""


def finding_id(call_id: str, item: str, rule: str, start: Seconds, end: Seconds, detail: str = "") -> str:
    """A finding's id: the same evidence gets the same id on every run, whatever order rules yield.

    `detail` tells apart two pieces of evidence of one item with the same span (two forbidden
    phrases in one turn): the evidence's own quote and message, never its position in the output.
    """
    # Spans are rounded to 10 ms so float noise from a rescore cannot change the id.
    key = f"{call_id}|{item}|{rule}|{start:.2f}|{end:.2f}|{detail}"
    return hashlib.sha256(key.encode()).hexdigest()[:20]
