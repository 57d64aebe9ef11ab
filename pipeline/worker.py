"""One call, start to finish: what a worker process (or Ray actor) does, and all it writes.

A worker computes and writes its own call's parts, nothing else: it never cleans up the store,
never touches another call, never writes the manifest (the coordinator does all that). A bad file
becomes an error row naming it; only an output that cannot be written (disk full, read-only)
raises, as store.StoreError, and stops the run.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__, emotion, metadata, pii, rows, scorecard
from pipeline.config import RunConfig
from pipeline.errors import AudioError, CallqaError
from pipeline.ingest import build_call
from pipeline.model import Call, Finding
from pipeline.rows import CallRow
from pipeline.store import Store, StoreError

log = logging.getLogger("callqa")


@dataclass
class Engine:
    """What one worker loads once: settings, scorecard and (lazily) the Whisper model."""

    cfg: RunConfig
    card: scorecard.Scorecard
    _transcriber: Any = field(default=None, repr=False)

    def transcriber(self):
        if self._transcriber is None:
            from pipeline.asr import Transcriber

            self._transcriber = Transcriber(self.cfg.asr)
        return self._transcriber

    @functools.cached_property
    def config_hash(self) -> str:
        return self.cfg.fingerprint()

    @functools.cached_property
    def pii_cues(self) -> tuple[str, ...]:
        """Words that announce a number being read out (手机号, 身份证 …), for masking numbers the
        ASR got only in part: the pii_leak item's `cues`, else `lexicons/pii_cues.txt`."""
        from pipeline import lexicon
        from pipeline.config import ROOT

        lex = next((i.params.cues for i in self.card.items if i.rule.name == "pii_leak"), None)
        if lex is None:
            lex = lexicon.load(ROOT / "lexicons" / "pii_cues.txt")
        return tuple(e.phrase for e in lex.entries)

    @functools.cached_property
    def cues(self) -> emotion.Cues:
        return self.card.cues()  # per-turn emotion lexicons, loaded once per worker

    @functools.cached_property
    def mono_models(self):
        """The speaker model and role lexicons, loaded by the first mono call a worker meets."""
        from pipeline import campplus, lexicon, mono, roles
        from pipeline.config import ROOT

        m = self.cfg.mono
        path = Path(m.speaker_model) if Path(m.speaker_model).is_absolute() else ROOT / m.speaker_model
        if not path.is_file():
            raise CallqaError(f"单声道录音需要说话人模型 {path}：请先运行 make model（models/speaker.py）")
        lex = ROOT / "lexicons"
        cues = Path(m.role_cues) if Path(m.role_cues).is_absolute() else ROOT / m.role_cues
        return mono.Models(campplus.Weights.load(path), roles.Lexicons(
            lexicon.load(lex / "greetings.txt"), lexicon.load(lex / "closings.txt"), lexicon.load(cues)))

    @property
    def stamp(self) -> rows.Stamp:
        return rows.Stamp(self.cfg.asr.model, self.config_hash, self.card.version, __version__)

    def for_workers(self, workers: int) -> Engine:
        """A copy to ship to worker processes: no model yet, CPU threads shared out between them."""
        asr_opts = self.cfg.asr
        if asr_opts.device == "cpu" and asr_opts.cpu_threads == 0:
            threads = max(1, (os.cpu_count() or 1) // workers)
            asr_opts = dataclasses.replace(asr_opts, cpu_threads=threads)
        return Engine(dataclasses.replace(self.cfg, asr=asr_opts), self.card)


@dataclass(frozen=True, slots=True)
class Job:
    """One file to process, as the coordinator planned it."""

    path: Path
    rel: str  # path relative to the input folder: the row's `source`
    call_id: str  # content hash (a path hash when the file could not be read)
    stored_date: str | None = None  # where an earlier attempt's parts are, to move them


def new_row(call_id: str, rel: str, engine: Engine) -> CallRow:
    return rows.new(call_id, rel, metadata.from_path(rel, engine.cfg.metadata), engine.stamp)


def process(job: Job, engine: Engine, store: Store) -> CallRow:
    """Process one recording end to end and store it; never raises for a bad file."""
    timings: dict[str, float] = {}
    row = new_row(job.call_id, job.rel, engine)
    try:
        if not os.path.lexists(job.path):
            raise AudioError(job.rel, "文件已不存在（运行中被移走或删除）")
        call, facts = build_call(job.path, job.call_id, job.rel, engine.cfg, engine.transcriber,
                                 timings.__setitem__, lambda: engine.mono_models, row.direction)
        if engine.cfg.mask_pii:  # before the rules, so a rescore of the stored turns sees the same text
            call = pii.mask_call(call, engine.pii_cues)
        # per-turn emotion from the stored (masked) text and the scorecard's lexicons, as a rescore
        # derives it: unchanged lexicons then leave every stored turn as it is
        call = emotion.annotate(call, engine.cues)
        row = dataclasses.replace(row, **dataclasses.asdict(facts))
        findings, failures = score(call, engine, timings)
        row = rows.scored(row, call, findings, failures, timings)
        store.save_call(row, call, findings, moved_from=job.stored_date)
        return row
    except StoreError:  # the output is unusable: no row could be written either
        raise
    except AudioError as e:
        row = rows.failed(row, f"{job.rel}: {e.reason}", timings)
    except (CallqaError, MemoryError, RuntimeError, ValueError, OSError) as e:
        log.error("%s: %s\n%s", job.rel, e, traceback.format_exc())
        row = rows.failed(row, f"{job.rel}: 处理失败（{type(e).__name__}: {e}）", timings)
    store.save_call(row, moved_from=job.stored_date)
    return row


def score(call: Call, engine: Engine, timings: dict[str, float]) -> tuple[list[Finding], list]:
    t0 = time.perf_counter()
    findings, failures = scorecard.evaluate(call, engine.card)
    timings["rules"] = time.perf_counter() - t0
    for f in failures:
        log.error("%s: rule %s (%s) failed: %s", call.source, f.rule, f.item, f.error)
    return findings, failures


def rescore_call(row: CallRow | Mapping[str, Any], call: Call, engine: Engine, store: Store,
                 source: str | None = None) -> CallRow:
    """Re-run the rules on one stored call (no audio, no ASR) and save its findings and row.

    `row` is a `calls` row as `Store.calls()` returns it (or a CallRow), `call` what
    `Store.load_call(row)` rebuilt. Only that call's parts are rewritten, each atomically.
    `source`: the file's new path when it was renamed (its metadata and date follow the name).
    """
    return rescore_findings(row, call, engine, store, source)[0]


def rescore_findings(row: CallRow | Mapping[str, Any], call: Call, engine: Engine, store: Store | None,
                     source: str | None = None) -> tuple[CallRow, list[Finding], Call | None]:
    """`rescore_call`, also returning the new findings and, when a turn's emotion changed, the call
    with its new per-turn states (else None); `store=None` writes nothing (a dry run).

    Per-turn emotion is derived again from the stored text and voice numbers with the scorecard's
    lexicons, so after an edit to emotion.txt or deescalation.txt the states, the call's risk and
    E001–E003 all follow. The turns part is rewritten only when the call was renamed (its
    `source` is in it) or a turn's state changed."""
    old = row if isinstance(row, CallRow) else CallRow.from_record(row)
    new = dataclasses.replace(old, scorecard_version=engine.card.version, callqa_version=__version__,
                              processed_at=rows.now())
    if source is not None and source != old.source:
        fresh = new_row(old.call_id, source, engine)
        new = dataclasses.replace(new, source=source, agent_id=fresh.agent_id, call_time=fresh.call_time,
                                  direction=fresh.direction, caller=fresh.caller, call_date=fresh.call_date)
        call = dataclasses.replace(call, source=source)
    annotated = emotion.annotate(call, engine.cues)
    moved = _moods(annotated) != _moods(call)
    call = annotated if moved else call  # the same states: keep the object the rules' caches know
    timings: dict[str, float] = {}
    findings, failures = score(call, engine, timings)
    new = rows.scored(new, call, findings, failures)
    if store is not None:
        store.save_call(new, call, findings, moved_from=old.call_date,
                        turns=new.source != old.source or moved)
    return new, findings, call if moved else None


def _moods(call: Call) -> list[tuple[float | None, str]]:
    return [(t.emotion, t.emotion_cues) for t in call.turns]
