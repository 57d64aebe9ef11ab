"""The Parquet tables' schemas, and Python records → their rows.

`calls` has one column per field of rows.CallRow; `turns` one row per turn (with its words, so the
rules re-run without ASR); `findings` one row per model.Finding. Columns are only ever added, so
older parts still read (missing columns come back empty).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import pyarrow as pa

from pipeline.model import Call, Finding

WORD = pa.struct([("text", pa.string()), ("start", pa.float64()), ("end", pa.float64()),
                  ("probability", pa.float64())])

CALLS = pa.schema([  # column meanings: rows.CallRow
    ("call_id", pa.string()),
    ("source", pa.string()),
    ("agent_id", pa.string()),
    ("call_time", pa.timestamp("s")),  # local time, as the recorder wrote it
    ("direction", pa.string()),  # inbound | outbound
    ("caller", pa.string()),
    ("status", pa.string()),  # ok | error | duplicate
    ("error", pa.string()),
    ("duration_s", pa.float64()),
    ("sample_rate", pa.int32()),  # the file's own rate
    ("codec", pa.string()),
    ("channels", pa.int32()),
    ("n_turns", pa.int32()),
    ("n_findings", pa.int32()),
    ("points", pa.float64()),  # sum of suggested deductions
    ("model", pa.string()),
    ("config_hash", pa.string()),  # audio + VAD + ASR settings the turns were made with
    ("scorecard_version", pa.string()),
    ("callqa_version", pa.string()),
    ("rule_errors", pa.string()),
    ("timings", pa.string()),
    ("processed_at", pa.timestamp("s", tz="UTC")),
    ("duplicate_of", pa.string()),
    ("clipping_share", pa.float64()),  # audio quality: pipeline/quality.py
    ("speech_level_db", pa.float64()),
    ("silent_channel", pa.string()),
    ("mixed", pa.bool_()),  # one mixed channel: roles from diarisation (pipeline/mono.py)
    ("audio_issues", pa.string()),
    ("speakers", pa.int32()),
    ("role_confidence", pa.float64()),
    ("role_reasons", pa.string()),
    ("reliability", pa.float64()),  # factor on every finding's confidence
    ("complaint_risk", pa.float64()),  # customer emotion: pipeline/complaint.py
    ("emotion_trend", pa.string()),
    ("deescalation", pa.string()),
    ("risk_reasons", pa.string()),
])

TURNS = pa.schema([
    ("call_id", pa.string()),
    ("source", pa.string()),
    ("turn_id", pa.int32()),
    ("role", pa.string()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("text", pa.string()),
    ("words", pa.list_(WORD)),
    ("level_db", pa.float64()),
    ("language", pa.string()),
    ("language_prob", pa.float64()),
    ("pitch_hz", pa.float64()),  # customer voice and state: pipeline/prosody.py, emotion.py
    ("pitch_range_st", pa.float64()),
    ("emotion", pa.float64()),
    ("emotion_cues", pa.string()),
])

FINDINGS = pa.schema([
    ("id", pa.string()),
    ("call_id", pa.string()),
    ("source", pa.string()),
    ("rule", pa.string()),
    ("rule_name", pa.string()),
    ("item", pa.string()),
    ("points", pa.float64()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("role", pa.string()),
    ("message", pa.string()),
    ("quote", pa.string()),
    ("confidence", pa.float64()),
    ("severity", pa.string()),
    ("status", pa.string()),
    ("scorecard_version", pa.string()),
    ("entry", pa.string()),  # lexicon entry that fired ("|"-joined); absent from parts before 2026-12
])

TABLES = {"calls": CALLS, "turns": TURNS, "findings": FINDINGS}


def turn_rows(call: Call) -> list[dict[str, Any]]:
    return [
        {"call_id": call.id, "source": call.source, "turn_id": t.id, "role": t.role.value,
         "start_s": t.start, "end_s": t.end, "text": t.text,
         "words": [{"text": w.text, "start": w.start, "end": w.end, "probability": w.probability}
                   for w in t.words],
         "level_db": t.level_db, "language": t.language, "language_prob": t.language_prob,
         "pitch_hz": t.pitch_hz, "pitch_range_st": t.pitch_range_st, "emotion": t.emotion,
         "emotion_cues": t.emotion_cues}
        for t in call.turns
    ]


def finding_rows(findings: Iterable[Finding], scorecard_version: str) -> list[dict[str, Any]]:
    return [asdict(f) | {"scorecard_version": scorecard_version} for f in findings]
