"""Swap agent and customer for a call whose channels were wired the other way round.

The stored turns are rebuilt with roles exchanged and re-scored with the scorecard; turns,
findings and the calls row are rewritten through the Store (calls row last, as the batch does).
Stereo and mono calls alike: a mono call's roles come from diarisation and a guess from what each
voice said, so a swap also marks its roles as settled (role confidence 1). The per-turn emotion
states are derived again for the new customer, and the call's complaint risk with them.
Decisions are not touched: findings that change show as "needs re-review".
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from pipeline import emotion, rows
from pipeline.lock import run_lock
from pipeline.model import Call, Role
from pipeline.scorecard import Scorecard, evaluate
from pipeline.store import Store

_OTHER = {Role.AGENT: Role.CUSTOMER, Role.CUSTOMER: Role.AGENT}


def swapped(call: Call) -> Call:
    """The same call with agent and customer exchanged (turn ids and times unchanged)."""
    return replace(call, turns=tuple(replace(t, role=_OTHER[t.role]) for t in call.turns))


def swap_call(out: Path, call_id: str, call_date: str, card: Scorecard) -> int:
    """Swap and re-score one stored call; returns its new number of findings."""
    with run_lock(out):  # never while a batch or rescore writes this OUT (BusyError then)
        return _swap(Store(out), call_id, call_date, card)


def _swap(store: Store, call_id: str, call_date: str, card: Scorecard) -> int:
    part = store.part("calls", call_id, call_date)  # one part, not a scan of every call
    row = (
        rows.CallRow.from_record(pq.read_table(part).to_pylist()[0] | {"call_date": call_date})
        if part.exists()
        else None
    )
    call = store.load_call(row) if row else None
    if row is None or call is None:
        raise LookupError(f"通话 {call_id} 不在结果文件夹中，或没有转写")
    call = emotion.annotate(swapped(call), card.cues())  # the customer's states move with the role
    if row.mixed and row.role_confidence:
        # One mixed channel: the roles were a guess from what each voice said (pipeline/roles.py);
        # an inspector's swap settles them, so findings stop paying for that doubt.
        trust = round(row.reliability / row.role_confidence, 3)
        row = replace(row, role_confidence=1.0, role_reasons="质检员已对调坐席/客户", reliability=trust)
        call = replace(call, reliability=trust)
    findings, failures = evaluate(call, card)
    new = replace(
        rows.scored(row, call, findings, failures),
        scorecard_version=card.version,
        processed_at=rows.now(),
    )
    store.save_call(new, call, findings)
    return len(findings)
