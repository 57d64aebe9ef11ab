"""The nightly batch: every recording under a folder → turns, transcripts, findings in Parquet.

One bad file never stops the batch: it becomes a `calls` row with status "error" and a message
naming the file and the problem. Calls are identified by a hash of their content, so a rerun skips
what is done (renamed files included), redoes changed files, re-transcribes when the engine
settings change and only re-scores when just the scorecard or lexicons changed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import __version__, asr, audio, scorecard, turns
from pipeline.config import RunConfig
from pipeline.errors import AudioError, CallqaError
from pipeline.model import Call, Finding, Role, Turn
from pipeline.store import Store, dumps

log = logging.getLogger("callqa")


def discover(root: Path, extensions: tuple[str, ...]) -> Iterator[Path]:
    """Audio files under root, sorted, following symlinks but never around a loop."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a second path to the same folder
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in extensions:
                yield Path(dirpath) / name


def content_id(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:20]


def path_id(rel: str) -> str:
    """Id for a file that cannot even be read (so no content hash): stable per path."""
    return "unreadable-" + hashlib.sha256(rel.encode()).hexdigest()[:12]


@dataclass
class Engine:
    """What one worker loads once: settings, scorecard and (lazily) the Whisper model."""

    cfg: RunConfig
    card: scorecard.Scorecard
    _transcriber: Any = None

    @property
    def transcriber(self):
        if self._transcriber is None:
            from pipeline.asr import Transcriber

            self._transcriber = Transcriber(self.cfg.asr)
        return self._transcriber

    @property
    def config_hash(self) -> str:
        return self.cfg.fingerprint()


def transcribe_call(path: Path, call_id: str, rel: str, engine: Engine,
                    timings: dict[str, float]) -> tuple[Call, dict[str, Any]]:
    """Audio file → Call with transcribed turns (raises AudioError for unusable audio).

    The audio is streamed twice (VAD, then ASR) rather than held in memory, so a recording of any
    length runs in bounded memory; decoding costs under 1 % of the time (PERF.md).
    """
    cfg = engine.cfg
    sr = cfg.audio.sample_rate
    info = audio.probe(path)
    if info.channels == 1:
        raise AudioError(path, "单声道录音暂不支持（需要双声道：坐席、客户各一个声道）")
    if info.channels != len(cfg.channels):
        raise AudioError(path, f"有 {info.channels} 个声道，但声道配置 {cfg.channels} 只对应 {len(cfg.channels)} 个")
    chans = sorted(cfg.roles)

    def stream():
        for block in audio.blocks(path, sr):
            yield block[chans]

    t0 = time.perf_counter()
    frames = turns.scan(stream(), sr, cfg.vad)
    timings["vad"] = time.perf_counter() - t0
    row = {"duration_s": round(frames.duration, 3), "sample_rate": info.source_rate, "codec": info.codec,
           "channels": info.channels}
    if frames.duration < cfg.audio.min_duration_s:
        raise AudioError(path, f"录音过短（{frames.duration:.1f} 秒，至少 {cfg.audio.min_duration_s:g} 秒）")
    regions = turns.regions(frames, cfg.vad)
    if not any(regions):
        raise AudioError(path, "整通录音没有检测到语音（静音文件）")
    t0 = time.perf_counter()
    windows = asr.plan(regions, frames, cfg.asr)
    words = engine.transcriber.transcribe(stream(), windows, sr)
    timings["asr"] = time.perf_counter() - t0
    made = sorted((
        (s, e, cfg.roles[chans[ch]], words.get((ch, r), ()), turns.level_db(frames, ch, s, e))
        for ch, regs in enumerate(regions)
        for r, (s, e) in enumerate(regs)
    ), key=lambda m: (m[0], m[1], m[2]))
    call_turns = tuple(
        Turn(i, role, s, e, "".join(w.text for w in ws), ws, level)
        for i, (s, e, role, ws, level) in enumerate(made)
    )
    return Call(call_id, frames.duration, call_turns, rel), row


def score(call: Call, engine: Engine, timings: dict[str, float]) -> tuple[list[Finding], list]:
    t0 = time.perf_counter()
    findings, failures = scorecard.evaluate(call, engine.card)
    timings["rules"] = time.perf_counter() - t0
    for f in failures:
        log.error("%s: rule %s (%s) failed: %s", call.source, f.rule, f.item, f.error)
    return findings, failures


def base_row(call_id: str, rel: str, engine: Engine) -> dict[str, Any]:
    return {
        "call_id": call_id, "source": rel, "status": "ok", "error": "", "duration_s": None,
        "sample_rate": None, "codec": "", "channels": None, "n_turns": 0, "n_findings": 0,
        "points": 0.0, "model": engine.cfg.asr.model, "config_hash": engine.config_hash,
        "scorecard_version": engine.card.version, "callqa_version": __version__,
        "rule_errors": "[]", "timings": "{}", "processed_at": datetime.now(UTC).replace(microsecond=0),
    }


def finish_row(row: dict[str, Any], call: Call, findings: list[Finding], failures: list) -> dict[str, Any]:
    return row | {
        "n_turns": len(call.turns), "n_findings": len(findings),
        "points": round(sum(f.points for f in findings), 4),
        "rule_errors": dumps([f.__dict__ for f in failures]),
    }


def process_file(path: Path, root: Path, engine: Engine, store: Store, call_id: str | None = None) -> dict[str, Any]:
    """Process one recording end to end and store it; never raises for a bad file."""
    rel = path.relative_to(root).as_posix()
    timings: dict[str, float] = {}
    try:
        call_id = call_id or content_id(path)
    except OSError as e:
        row = base_row(path_id(rel), rel, engine) | {"status": "error", "error": f"{rel}: 无法读取文件（{e.strerror}）"}
        store.save_call(row, None, [], engine.card.version)
        return row
    row = base_row(call_id, rel, engine)
    try:
        call, info = transcribe_call(path, call_id, rel, engine, timings)
        row |= info
        findings, failures = score(call, engine, timings)
        row = finish_row(row, call, findings, failures) | {"timings": dumps(_rounded(timings))}
        store.save_call(row, call, findings, engine.card.version)
    except AudioError as e:
        row |= {"status": "error", "error": f"{rel}: {e.reason}", "timings": dumps(_rounded(timings))}
        store.save_call(row, None, [], engine.card.version)
    except (CallqaError, MemoryError, RuntimeError, ValueError, OSError) as e:
        log.error("%s: %s\n%s", rel, e, traceback.format_exc())
        row |= {"status": "error", "error": f"{rel}: 处理失败（{type(e).__name__}: {e}）"}
        store.save_call(row, None, [], engine.card.version)
    return row


def rescore_call(row: dict[str, Any], call: Call, engine: Engine, store: Store) -> dict[str, Any]:
    """Re-run the rules on stored turns (no audio, no ASR) and rewrite the call's findings."""
    timings: dict[str, float] = {}
    findings, failures = score(call, engine, timings)
    new = finish_row(row, call, findings, failures) | {
        "scorecard_version": engine.card.version, "callqa_version": __version__,
        "processed_at": datetime.now(UTC).replace(microsecond=0),
    }
    store.save_call(new, call, findings, engine.card.version)
    return new


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in timings.items()}


@dataclass
class Summary:
    files: int = 0
    processed: int = 0
    skipped: int = 0
    rescored: int = 0
    duplicates: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0
    findings: int = 0

    @property
    def speed(self) -> float:
        return self.audio_s / self.wall_s if self.wall_s else 0.0


Progress = Callable[[int, int, dict[str, Any], str], None]


def run(root: Path, out: Path, engine: Engine, progress: Progress | None = None) -> Summary:
    """Process every recording under root into out; resumable and safe to kill at any moment."""
    t_start = time.perf_counter()
    store = Store(out)
    done = {r["call_id"]: r for r in store.calls()}
    files = list(discover(root, engine.cfg.audio.extensions))
    summary = Summary(files=len(files))
    seen: dict[str, str] = {}
    for i, path in enumerate(files, 1):
        rel = path.relative_to(root).as_posix()
        try:
            cid = content_id(path)
        except OSError:
            cid = None
        if cid is not None and cid in seen:
            summary.duplicates += 1
            log.warning("%s: same content as %s, skipped", rel, seen[cid])
            continue
        if cid is not None:
            seen[cid] = rel
        prev = done.get(cid) if cid else None
        if prev and prev["status"] == "ok" and prev["config_hash"] == engine.config_hash:
            if prev["scorecard_version"] == engine.card.version:
                summary.skipped += 1
                if progress:
                    progress(i, len(files), prev, "skipped")
                continue
            stored = store.load_call(prev)
            if stored is not None:
                row = rescore_call(prev, stored, engine, store)
                summary.rescored += 1
                summary.findings += row["n_findings"]
                if progress:
                    progress(i, len(files), row, "rescored")
                continue
        row = process_file(path, root, engine, store, cid)
        summary.processed += 1
        if row["status"] == "ok":
            summary.audio_s += row["duration_s"] or 0.0
            summary.findings += row["n_findings"]
        else:
            summary.failed.append(row)
        if progress:
            progress(i, len(files), row, row["status"])
    summary.wall_s = time.perf_counter() - t_start
    return summary


def rescore(out: Path, engine: Engine, progress: Progress | None = None) -> Summary:
    """Re-score every stored call from its turns with the current scorecard and lexicons."""
    t_start = time.perf_counter()
    store = Store(out)
    summary = Summary()
    rows = list(store.load_calls())
    summary.files = len(rows)
    for i, (row, call) in enumerate(rows, 1):
        new = rescore_call(row, call, engine, store)
        summary.rescored += 1
        summary.findings += new["n_findings"]
        if progress:
            progress(i, len(rows), new, "rescored")
    summary.wall_s = time.perf_counter() - t_start
    return summary


__all__ = ["Engine", "Summary", "discover", "process_file", "rescore", "run", "Role"]
