"""The nightly batch: every recording under a folder → turns, transcripts, findings in Parquet.

One bad file never stops the batch: it becomes a `calls` row with status "error" and a message
naming the file and the problem. Calls are identified by a hash of their content, so a rerun skips
what is done (renamed files included), redoes changed files, re-transcribes when the engine
settings change and only re-scores when just the scorecard or lexicons changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import multiprocessing
import os
import platform
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import __version__, asr, audio, metadata, pii, scorecard, turns
from pipeline.config import RunConfig
from pipeline.errors import AudioError, CallqaError
from pipeline.model import Call, Finding, Turn
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

    @functools.cached_property
    def config_hash(self) -> str:
        return self.cfg.fingerprint()

    def for_workers(self, workers: int) -> Engine:
        """A copy to ship to worker processes: no model yet, CPU threads shared out between them."""
        asr_opts = self.cfg.asr
        if asr_opts.device == "cpu" and asr_opts.cpu_threads == 0:
            threads = max(1, (os.cpu_count() or 1) // workers)
            asr_opts = dataclasses.replace(asr_opts, cpu_threads=threads)
        return Engine(dataclasses.replace(self.cfg, asr=asr_opts), self.card)


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
    heard = engine.transcriber.transcribe(stream(), windows, sr)
    timings["asr"] = time.perf_counter() - t0
    made = sorted((
        (s, e, cfg.roles[chans[ch]], heard.get((ch, r), asr.Heard()), turns.level_db(frames, ch, s, e))
        for ch, regs in enumerate(regions)
        for r, (s, e) in enumerate(regs)
    ), key=lambda m: (m[0], m[1], m[2]))
    call_turns = tuple(
        Turn(i, role, s, e, h.text, h.words, level, h.language, h.language_prob)
        for i, (s, e, role, h, level) in enumerate(made)
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
        "call_id": call_id, "source": rel, **metadata.from_path(rel, engine.cfg.metadata), "status": "ok", "error": "", "duration_s": None,
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
        store.save_call(row, None, [], engine.card.version, row["call_date"])
        return row
    row = base_row(call_id, rel, engine)
    try:
        call, info = transcribe_call(path, call_id, rel, engine, timings)
        if engine.cfg.mask_pii:  # before the rules, so a rescore of the stored turns sees the same text
            call = pii.mask_call(call)
        row |= info
        findings, failures = score(call, engine, timings)
        row = finish_row(row, call, findings, failures) | {"timings": dumps(_rounded(timings))}
        store.save_call(row, call, findings, engine.card.version, row["call_date"])
    except AudioError as e:
        row |= {"status": "error", "error": f"{rel}: {e.reason}", "timings": dumps(_rounded(timings))}
        store.save_call(row, None, [], engine.card.version, row["call_date"])
    except (CallqaError, MemoryError, RuntimeError, ValueError, OSError) as e:
        log.error("%s: %s\n%s", rel, e, traceback.format_exc())
        row |= {"status": "error", "error": f"{rel}: 处理失败（{type(e).__name__}: {e}）"}
        store.save_call(row, None, [], engine.card.version, row["call_date"])
    return row


def rescore_call(row: dict[str, Any], call: Call, engine: Engine, store: Store) -> dict[str, Any]:
    """Re-run the rules on stored turns (no audio, no ASR) and rewrite the call's findings."""
    timings: dict[str, float] = {}
    findings, failures = score(call, engine, timings)
    new = finish_row(row, call, findings, failures) | {
        "scorecard_version": engine.card.version, "callqa_version": __version__,
        "processed_at": datetime.now(UTC).replace(microsecond=0),
    }
    store.save_call(new, call, findings, engine.card.version, new.get("call_date", "unknown"))
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
    timings: dict[str, float] = field(default_factory=dict)  # summed seconds per stage

    @property
    def speed(self) -> float:
        return self.audio_s / self.wall_s if self.wall_s else 0.0

    def add(self, row: dict[str, Any]) -> None:
        self.processed += 1
        if row["status"] == "ok":
            self.audio_s += row["duration_s"] or 0.0
            self.findings += row["n_findings"]
        else:
            self.failed.append(row)
        for stage, sec in json.loads(row.get("timings") or "{}").items():
            self.timings[stage] = round(self.timings.get(stage, 0.0) + sec, 3)


Progress = Callable[[int, int, dict[str, Any], str], None]

# One engine per worker process, loaded by the pool's initializer (the model loads on first use).
_worker: tuple[Engine, Store] | None = None


def _init_worker(engine: Engine, out: Path) -> None:
    global _worker
    _worker = (engine, Store(out))


def _process_in_worker(path: Path, root: Path, call_id: str | None) -> dict[str, Any]:
    assert _worker is not None
    engine, store = _worker
    return process_file(path, root, engine, store, call_id)


def process_local(jobs: list[tuple[Path, str | None]], root: Path, out: Path, engine: Engine,
                  workers: int) -> Iterator[dict[str, Any]]:
    """Process jobs in this process (workers ≤ 1) or in a pool of processes, one model each."""
    if workers <= 1 or len(jobs) <= 1:
        store = Store(out)
        for path, cid in jobs:
            yield process_file(path, root, engine, store, cid)
        return
    ctx = multiprocessing.get_context("spawn")  # CTranslate2's threads and fork do not mix
    pending = list(jobs)
    crashed: dict[Path, int] = {}
    while pending:
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(engine.for_workers(workers), out)) as pool:
            futures = {pool.submit(_process_in_worker, p, root, cid): (p, cid) for p, cid in pending}
            pending = []
            for fut in as_completed(futures):
                path, cid = futures[fut]
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    # A worker died (killed, out of memory, crashed in native code): retry its calls
                    # once in a fresh pool; a call that kills a worker twice is recorded as failed.
                    crashed[path] = crashed.get(path, 0) + 1
                    if crashed[path] < 2:
                        pending.append((path, cid))
                    else:
                        yield _crash_row(path, root, engine, cid, out)


def _crash_row(path: Path, root: Path, engine: Engine, cid: str | None, out: Path) -> dict[str, Any]:
    rel = path.relative_to(root).as_posix()
    row = base_row(cid or path_id(rel), rel, engine) | {
        "status": "error", "error": f"{rel}: 处理进程意外退出（两次），可能是内存不足或文件触发了解码器崩溃"}
    Store(out).save_call(row, None, [], engine.card.version, row["call_date"])
    return row


def run(root: Path, out: Path, engine: Engine, progress: Progress | None = None, workers: int = 1,
        engine_name: str = "local", ray_address: str | None = None) -> Summary:
    """Process every recording under root into out; resumable and safe to kill at any moment."""
    t_start = time.perf_counter()
    started = datetime.now(UTC).replace(microsecond=0)
    store = Store(out)
    done = {r["call_id"]: r for r in store.calls()}
    files = list(discover(root, engine.cfg.audio.extensions))
    summary = Summary(files=len(files))
    seen: dict[str, str] = {}
    jobs: list[tuple[Path, str | None]] = []
    count = 0

    def tick(row: dict[str, Any], what: str) -> None:
        nonlocal count
        count += 1
        if progress:
            progress(count, len(files) - summary.duplicates, row, what)

    for path in files:
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
                tick(prev, "skipped")
                continue
            stored = store.load_call(prev)
            if stored is not None:
                row = rescore_call(prev, stored, engine, store)
                summary.rescored += 1
                summary.findings += row["n_findings"]
                tick(row, "rescored")
                continue
        jobs.append((path, cid))
    if engine_name == "ray":
        from pipeline.ray_engine import process_ray

        rows = process_ray(jobs, root, out, engine, workers, ray_address)
    else:
        rows = process_local(jobs, root, out, engine, workers)
    for row in rows:
        summary.add(row)
        tick(row, row["status"])
    summary.wall_s = time.perf_counter() - t_start
    write_manifest(out, summary, engine, root, started, workers, engine_name)
    return summary


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("callqa", "faster-whisper", "ctranslate2", "av", "webrtcvad-wheels", "jieba", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "?"
    return out


def write_manifest(out: Path, s: Summary, engine: Engine, root: Path, started: datetime, workers: int,
                   engine_name: str = "local") -> Path:
    """OUT/runs/<start>.json: what ran, with what, how long each stage took and what failed."""
    manifest = {
        "started": started.isoformat(), "finished": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "input": str(root), "output": str(out), "engine": engine_name, "workers": workers,
        "versions": _versions(),
        "run_config": engine.cfg.path, "config_hash": engine.config_hash,
        "model": str(engine.cfg.asr.model_path()), "device": engine.cfg.asr.device,
        "compute_type": engine.cfg.asr.compute_type,
        "scorecard": engine.card.path, "scorecard_version": engine.card.version,
        "counts": {"files": s.files, "processed": s.processed, "skipped": s.skipped, "rescored": s.rescored,
                   "duplicates": s.duplicates, "failed": len(s.failed), "findings": s.findings},
        "audio_s": round(s.audio_s, 1), "wall_s": round(s.wall_s, 1), "speed_x_realtime": round(s.speed, 2),
        "stage_s": s.timings,
        "failures": [{"source": r["source"], "error": r["error"]} for r in s.failed],
    }
    path = out / "runs" / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


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


__all__ = ["Engine", "Summary", "discover", "process_file", "rescore", "run"]
