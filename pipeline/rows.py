"""The `calls` row: one per input file, whatever happened to it (scored, failed, a duplicate).

Every writer builds rows here and nowhere else: `new` stamps what a row always carries, `scored`,
`failed` and `duplicate` are the three ways a row can end. The Parquet schema (store.CALLS) has one
column per field, in this order, plus the `call_date` partition.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pipeline import complaint
from pipeline.model import Call, Finding


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"  # `error` says why, naming the file
    DUPLICATE = "duplicate"  # byte-identical to the call `duplicate_of`; scored there, not here


@dataclass(frozen=True, slots=True)
class Stamp:
    """What produced a row: model, engine settings, scorecard and callqa versions."""

    model: str
    config_hash: str
    scorecard_version: str
    callqa_version: str


@dataclass(frozen=True, slots=True)
class CallRow:
    call_id: str  # content hash; for a duplicate or an unreadable file a hash of its path
    source: str  # audio path relative to the input folder
    agent_id: str | None = None  # from the file name (configs/run.yaml → metadata.pattern)
    call_time: datetime | None = None
    direction: str | None = None
    caller: str | None = None  # masked by default
    status: str = Status.OK
    error: str = ""
    duration_s: float | None = None
    sample_rate: int | None = None
    codec: str = ""
    channels: int | None = None
    n_turns: int = 0
    n_findings: int = 0
    points: float = 0.0
    model: str = ""
    config_hash: str = ""
    scorecard_version: str = ""
    callqa_version: str = ""
    rule_errors: str = "[]"  # JSON list of rules that crashed on this call
    timings: str = "{}"  # JSON {stage: seconds}
    processed_at: datetime | None = None
    duplicate_of: str = ""  # call_id of the copy that was scored, for status duplicate
    # Audio quality (pipeline/quality.py) and, for one mixed channel, the role decision (roles.py)
    clipping_share: float | None = None  # share of samples at full scale
    speech_level_db: float | None = None  # the quieter party's speech level, dBFS
    silent_channel: str = ""  # role of a channel that carries no speech
    mixed: bool = False  # both parties on one channel (mono file, or stereo with one signal twice)
    audio_issues: str = ""  # comma-separated: mono, same_signal, clipping, quiet, silent
    speakers: int | None = None  # voices found on a mixed channel
    role_confidence: float | None = None  # 0.5 (a guess) – 1, mixed calls only
    role_reasons: str = ""  # the evidence for the role decision, in Chinese
    reliability: float = 1.0  # scales every finding's confidence (quality.reliability)
    # Customer emotion (pipeline/complaint.py), from the stored turns: a rescore recomputes it
    complaint_risk: float | None = None  # 0–1; None for turns stored before emotion existed
    emotion_trend: str = ""  # calmer | angrier | steady
    deescalation: str = ""  # after upset turns the agent soothed | argued | ignored | unknown
    risk_reasons: str = ""  # the reasons for complaint_risk, in Chinese
    call_date: str = "unknown"  # the partition, YYYY-MM-DD from the file name

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def record(self) -> dict[str, Any]:
        """The Parquet row: every column but the partition, which is the part's folder."""
        d = asdict(self)
        del d["call_date"]
        return d

    @classmethod
    def from_record(cls, d: Mapping[str, Any]) -> CallRow:
        """A row read back (columns missing from older parts take their defaults)."""
        known = {f.name for f in fields(cls)}
        kept = {k: v for k, v in d.items() if k in known and v is not None}
        if "call_date" in kept:
            kept["call_date"] = str(kept["call_date"])
        for k in ("n_turns", "n_findings", "sample_rate", "channels"):
            if k in kept:
                kept[k] = int(kept[k])
        return cls(**kept)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def new(call_id: str, source: str, meta: Mapping[str, Any], stamp: Stamp) -> CallRow:
    """A fresh row for one file: identity, file-name metadata and what is processing it."""
    return CallRow(call_id, source, **{k: meta.get(k) for k in ("agent_id", "call_time", "direction",
                                                               "caller")},
                   call_date=meta.get("call_date") or "unknown", processed_at=now(), **asdict(stamp))


def scored(row: CallRow, call: Call, findings: Iterable[Finding], failures: Iterable[Any],
           timings: Mapping[str, float] | None = None) -> CallRow:
    findings = list(findings)
    row = replace(row, **asdict(complaint.outlook(call)))
    return replace(row, status=Status.OK, error="", n_turns=len(call.turns), n_findings=len(findings),
                   points=round(sum(f.points for f in findings), 4),
                   rule_errors=dumps([asdict(f) for f in failures]),
                   timings=dumps(rounded(timings)) if timings is not None else row.timings)


def failed(row: CallRow, message: str, timings: Mapping[str, float] | None = None) -> CallRow:
    """The one way to make an error row: `message` must name the file (callers prefix `source`)."""
    return replace(row, status=Status.ERROR, error=message, n_turns=0, n_findings=0, points=0.0,
                   rule_errors="[]", timings=dumps(rounded(timings or {})), duplicate_of="")


def duplicate(row: CallRow, of: str) -> CallRow:
    return replace(row, status=Status.DUPLICATE, error="", duplicate_of=of, n_turns=0, n_findings=0,
                   points=0.0, rule_errors="[]", timings="{}")


def path_id(prefix: str, rel: str) -> str:
    """An id from a path, for rows that have no content of their own to hash: a duplicate (its
    content is the original's, whose id is taken) or a file that cannot be read."""
    return f"{prefix}-" + hashlib.sha256(rel.encode()).hexdigest()[:16]


def rounded(timings: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in timings.items()}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
