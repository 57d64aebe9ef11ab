"""`callqa tune`: pick the fastest workers × threads × batch size for this CPU and model, once.

What is fastest differs by machine: on a 2-core AVX-512 box two one-thread workers beat one
two-thread process by 1.6×, on an AVX2-only Zen 2 they tie (../shared/PERF.md). So instead of a
table to read, each candidate setting is measured here on a short sample of the bundled calls:
the real VAD, packing and `Transcriber` in `workers` processes at once, model load excluded.
The winner is cached per machine and model (`~/.cache/callqa/tune.json`) and used by
`callqa run` wherever the run config leaves workers and threads at 0 (automatic).

Speed settings never change what is transcribed in a way the config hash tracks (threads, batch
size and workers are excluded from it), so tuning never forces a re-transcription.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import multiprocessing
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import ROOT, RunConfig

DESCRIPTION = ("Measure a few workers × threads × batch-size settings on a short sample of the bundled "
               "calls (under a minute per setting on 2 cores) and cache the fastest for this CPU and "
               "model. `callqa run` then uses it wherever configs/run.yaml leaves workers and "
               "asr.cpu_threads at 0; `callqa run --workers auto` tunes first if this machine never was.")
SAMPLE_DIR = ROOT / "data" / "sample_calls"
SAMPLE_S = 60.0  # audio per worker per setting: a few windows, under a minute per setting


@dataclass(frozen=True, slots=True)
class Setting:
    workers: int
    threads: int
    batch_size: int

    def label(self) -> str:
        return f"{self.workers} 个进程 × {self.threads} 线程，批大小 {self.batch_size}"


@dataclass(frozen=True, slots=True)
class Result:
    setting: Setting
    audio_s: float
    wall_s: float

    @property
    def speed(self) -> float:
        """Call-seconds per wall-second across all workers."""
        return self.audio_s / self.wall_s if self.wall_s else 0.0


def candidates(cores: int) -> list[Setting]:
    """A handful of settings that use every core once: workers × threads = cores."""
    workers = sorted({1, max(1, cores // 2), cores})
    return [Setting(w, max(1, cores // w), b) for w in workers for b in (4, 8)]


def cpu() -> tuple[str, list[str]]:
    """The CPU's model name and the vector extensions that decide CTranslate2's kernels."""
    name, flags = platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name == platform.machine():
                name = line.split(":", 1)[1].strip()
            elif line.startswith(("flags", "Features")):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return name, sorted(flags & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8",
                                 "asimd", "asimddp", "sve"})


def machine_key(cfg: RunConfig) -> str:
    """CPU, cores, model and engine: a tuned setting holds only for all of them together."""
    import ctranslate2

    model = cfg.asr.model_path() / "model.bin"
    size = model.stat().st_size if model.exists() else 0
    blob = json.dumps([*cpu(), os.cpu_count(), str(model), size, cfg.asr.compute_type,
                       cfg.asr.device, ctranslate2.__version__])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "callqa" / "tune.json"


def cached(cfg: RunConfig) -> Setting | None:
    """The setting `callqa tune` chose on this machine for this model, if it ever ran."""
    try:
        entry = json.loads(cache_path().read_text(encoding="utf-8")).get(machine_key(cfg))
        return Setting(**entry["best"]) if entry else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(cfg: RunConfig, results: list[Result]) -> Path:
    path = cache_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    best = max(results, key=lambda r: r.speed)
    doc[machine_key(cfg)] = {
        "best": dataclasses.asdict(best.setting),
        "measured": [dataclasses.asdict(r.setting) | {"x_realtime": round(r.speed, 2)} for r in results],
        "cpu_count": os.cpu_count(), "model": cfg.asr.model, "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def apply(cfg: RunConfig, setting: Setting) -> RunConfig:
    """The config with the tuned speed knobs where it leaves them automatic (workers/threads 0)."""
    asr = cfg.asr
    if asr.device != "cpu":
        return cfg
    if asr.cpu_threads == 0:
        asr = dataclasses.replace(asr, cpu_threads=setting.threads, batch_size=setting.batch_size)
    return dataclasses.replace(cfg, asr=asr, workers=cfg.workers or setting.workers)


def sample(limit_s: float = SAMPLE_S, folder: Path = SAMPLE_DIR) -> list[Path]:
    """The shortest bundled calls adding up to about `limit_s` seconds."""
    from pipeline import audio

    files = sorted(p for p in folder.iterdir() if p.suffix == ".mp3")  # one codec: sizes compare
    out, total = [], 0.0
    for p in sorted(files, key=lambda p: (p.stat().st_size, p.name)):
        out.append(p)
        total += sum(b.shape[1] for b in audio.blocks(p, 8000)) / 8000
        if total >= limit_s:
            break
    return out


def _measure_one(cfg: RunConfig, files: list[Path], barrier, results) -> None:
    """One worker: load, warm up, wait for the others, then time the sample."""
    from pipeline import asr, audio, turns

    tr = asr.Transcriber(cfg.asr)
    sr = cfg.audio.sample_rate
    planned = []
    for p in files:
        frames = turns.scan(audio.blocks(p, sr), sr, cfg.vad)
        planned.append((p, asr.plan(turns.regions(frames, cfg.vad), frames, cfg.asr), frames.duration))
    first = planned[0]
    tr.transcribe(audio.blocks(first[0], sr), first[1][:1], sr)  # warm-up: first-call costs
    barrier.wait()
    t0 = time.perf_counter()
    for p, windows, _ in planned:
        tr.transcribe(audio.blocks(p, sr), windows, sr)
    results.put((sum(d for *_, d in planned), time.perf_counter() - t0))


def measure(cfg: RunConfig, setting: Setting, files: list[Path]) -> Result:
    ctx = multiprocessing.get_context("spawn")  # CTranslate2's threads and fork do not mix
    opts = dataclasses.replace(cfg.asr, cpu_threads=setting.threads, batch_size=setting.batch_size)
    run_cfg = dataclasses.replace(cfg, asr=opts)
    barrier, results = ctx.Barrier(setting.workers), ctx.Queue()
    procs = [ctx.Process(target=_measure_one, args=(run_cfg, files, barrier, results), daemon=True)
             for _ in range(setting.workers)]
    for p in procs:
        p.start()
    got = [results.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    return Result(setting, sum(a for a, _ in got), max(w for _, w in got))


def tune(cfg: RunConfig, progress=print) -> tuple[Setting, list[Result]]:
    files = sample()
    results = []
    for setting in candidates(os.cpu_count() or 1):
        r = measure(cfg, setting, files)
        progress(f"  {setting.label():<24} {r.speed:6.1f} 倍实时")
        results.append(r)
    best = max(results, key=lambda r: r.speed)
    return best.setting, results


def workers_arg(value: str) -> int | str:
    """`--workers N` or `--workers auto`."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, not {value!r}") from None


def resolve(cfg: RunConfig, workers: int | str | None) -> RunConfig:
    """The config with this machine's tuned setting applied where it leaves speed knobs automatic;
    `workers="auto"` measures first when this machine and model were never tuned."""
    setting = cached(cfg)
    if setting is None and workers == "auto":
        print("首次使用 --workers auto：正在为本机测量最快的进程数、线程数和批大小……", file=sys.stderr)
        setting = _tune_and_save(cfg)
    if setting is None:
        return cfg
    if isinstance(workers, int) and workers > 0:
        setting = dataclasses.replace(setting, workers=workers)
    return apply(cfg, setting)


def _tune_and_save(cfg: RunConfig) -> Setting:
    best, results = tune(cfg, progress=lambda line: print(line, file=sys.stderr))
    path = save(cfg, results)
    print(f"本机最快设置：{best.label()}（已保存到 {path}）", file=sys.stderr)
    return best


def cmd_tune(cfg: RunConfig) -> int:
    print(f"测量 {cfg.asr.model}（{cfg.asr.device}/{cfg.asr.compute_type}）在本机上的速度：", file=sys.stderr)
    _tune_and_save(cfg)
    return 0
