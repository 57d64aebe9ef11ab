"""Speed and accuracy of callqa against plain faster-whisper, side by side in one run.

    .venv/bin/python bench/bench.py [--calls data/sample_calls] [--copies 3] [--workers 2]

Both sides use the same model and compute type on the same calls:
  baseline  `WhisperModel.transcribe(channel, vad_filter=True)` per channel (faster-whisper's own
            Silero VAD, its defaults otherwise) at `--beam` (1, its fastest; its default is 5),
            one process with CTranslate2's default threads;
  callqa    `callqa run` end to end (decode, webrtcvad, packed batched ASR, rules, Parquet) with
            its configured beam (configs/run.yaml), `--workers` processes of one thread each.
Each side runs in its own process; the table reports call-seconds per wall-second, the ratio of the
two, the character error rate per party against the labels (speed must not come from dropping
speech) and peak RSS per process. The corpus is the labelled calls, re-encoded `--copies` times with
inaudible gain changes so every copy is a distinct call (content hashes differ).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_corpus(calls: Path, copies: int, dest: Path) -> list[tuple[Path, dict]]:
    """Re-encode each labelled call `copies` times (16-bit WAV at the source rate, gain 1 − k/1000)."""
    import av

    from pipeline import audio

    out = []
    for labels in sorted(calls.glob("*.labels.yaml")):
        lab = yaml.safe_load(labels.read_text(encoding="utf-8"))
        src = calls / lab["call"]
        info = audio.probe(src)
        data = audio.load(src, info.source_rate).channels
        for k in range(copies):
            path = dest / f"{src.stem}-{k}.wav"
            pcm = np.ascontiguousarray((np.clip(data.T * (1 - k / 1000), -1, 1) * 32767).astype(np.int16))
            with av.open(str(path), "w") as c:
                s = c.add_stream("pcm_s16le", rate=info.source_rate, layout="stereo")
                frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="stereo")
                frame.sample_rate = info.source_rate
                for pkt in s.encode(frame):
                    c.mux(pkt)
                for pkt in s.encode(None):
                    c.mux(pkt)
            out.append((path, lab))
    return out


def cer_per_call(names: list[str], results: list[tuple[dict, dict[str, list[str]]]]) -> dict[str, dict[str, float]]:
    """Each corpus file's CER per party: where the two sides differ, in `latest.json`."""
    return {name: cer_by_role([r]) for name, r in zip(names, results)}


def cer_by_role(results: list[tuple[dict, dict[str, list[str]]]]) -> dict[str, float]:
    from pipeline.evaluate import char_errors

    totals: dict[str, list[int]] = {}
    for lab, hyp in results:
        for role in ("agent", "customer"):
            ref = [t["text"] for t in lab["turns"] if t["role"] == role]
            e, n = char_errors(ref, hyp.get(role, []))
            totals.setdefault(role, [0, 0])
            totals[role][0] += e
            totals[role][1] += n
    return {role: round(e / n, 4) for role, (e, n) in totals.items()}


def side_baseline(corpus: list[tuple[Path, dict]], beam: int, compute_type: str) -> dict:
    from faster_whisper import WhisperModel

    from pipeline import audio
    from pipeline.config import AsrOptions

    t0 = time.perf_counter()
    model = WhisperModel(str(AsrOptions().model_path()), device="cpu", compute_type=compute_type)
    results, audio_s = [], 0.0
    for path, lab in corpus:
        a = audio.load(path)
        audio_s += a.duration
        hyp = {}
        for ch, role in ((0, "agent"), (1, "customer")):
            segments, _ = model.transcribe(a.channels[ch], language="zh", beam_size=beam, vad_filter=True)
            hyp[role] = [s.text for s in segments]
        results.append((lab, hyp))
    wall = time.perf_counter() - t0
    use = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall_s": wall, "audio_s": audio_s, "cer": cer_by_role(results), "cpu_s": use.ru_utime + use.ru_stime,
            "peak_rss_mb": use.ru_maxrss / 1024,
            "cer_per_call": cer_per_call([p.name for p, _ in corpus], results)}


def side_callqa(corpus: list[tuple[Path, dict]], folder: Path, workers: int, keep: bool = False) -> dict:
    """`callqa run` on the folder; `keep`: leave its output and return its path as "out"."""
    import pandas as pd

    out = Path(tempfile.mkdtemp(prefix="callqa-bench-"))
    t0 = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "callqa"), "run", str(folder), "--out", str(out),
                    "--workers", str(workers)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    calls = pd.read_parquet(out / "calls")
    turns = pd.read_parquet(out / "turns")
    by_source = {Path(p).name: lab for p, lab in corpus}
    results, names = [], []
    for row in calls.itertuples():
        t = turns[turns.call_id == row.call_id].sort_values("start_s")
        names.append(Path(row.source).name)
        results.append((by_source[row.source], {r: list(t[t.role == r].text) for r in ("agent", "customer")}))
    timings = {}
    for blob in calls.timings:
        for k, v in json.loads(blob).items():
            timings[k] = round(timings.get(k, 0) + v, 2)
    if not keep:
        shutil.rmtree(out)
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "audio_s": float(calls.duration_s.sum()), "cer": cer_by_role(results),
            "failed": int((calls.status != "ok").sum()), "stage_s": timings,
            "cpu_s": use.ru_utime + use.ru_stime, "peak_rss_mb": use.ru_maxrss / 1024,
            "cer_per_call": cer_per_call(names, results), **({"out": str(out)} if keep else {})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=Path, default=ROOT / "data" / "sample_calls")
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--compute-type", default="int8")
    ap.add_argument("--side", choices=["baseline", "callqa"], help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = ap.parse_args()

    if args.side:  # one side, in its own process
        corpus = make_corpus_index(args.corpus, args.calls)
        res = (side_baseline(corpus, args.beam, args.compute_type) if args.side == "baseline"
               else side_callqa(corpus, args.corpus, args.workers))
        print(json.dumps(res))
        return

    folder = Path(tempfile.mkdtemp(prefix="callqa-corpus-"))
    corpus = make_corpus(args.calls, args.copies, folder)
    print(f"corpus: {len(corpus)} calls in {folder}", file=sys.stderr)
    res = {}
    for side in ("baseline", "callqa"):
        cmd = [sys.executable, __file__, "--side", side, "--corpus", str(folder), "--calls", str(args.calls),
               "--workers", str(args.workers), "--beam", str(args.beam), "--compute-type", args.compute_type]
        print(f"running {side} …", file=sys.stderr)
        res[side] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    shutil.rmtree(folder)
    b, c = res["baseline"], res["callqa"]
    speed = {k: v["audio_s"] / v["wall_s"] for k, v in res.items()}
    from pipeline import config, tune

    cpu_name, flags = tune.cpu()
    tuned = tune.cached(config.load())
    report = {
        "date": date.today().isoformat(), "machine": f"{cpu_name} ({' '.join(flags) or 'no AVX2'}), "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "tuned": tuned.label() if tuned else "not tuned (one worker per core, batch 4)",
        "calls": len(corpus), "audio_min": round(c["audio_s"] / 60, 1),
        "beam": args.beam, "callqa_beam": config.load().asr.beam_size, "compute_type": args.compute_type, "workers": args.workers, **res,
        "speedup": round(speed["callqa"] / speed["baseline"], 2),
        # audio seconds per CPU-second: steadier than wall time when other jobs share the machine
        "cpu_speedup": round((c["audio_s"] / c["cpu_s"]) / (b["audio_s"] / b["cpu_s"]), 2),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print("| side | wall s | × real time | CPU s | CER agent | CER customer | peak RSS MB/process |")
    print("|---|---|---|---|---|---|---|")
    for name, v in ((f"plain faster-whisper (vad_filter=True, beam {args.beam})", b),
                    (f"callqa ({args.workers} workers, beam {report['callqa_beam']})", c)):
        print(f"| {name} | {v['wall_s']:.1f} | {v['audio_s'] / v['wall_s']:.1f} | {v['cpu_s']:.0f} | "
              f"{v['cer']['agent']:.1%} | {v['cer']['customer']:.1%} | {v['peak_rss_mb']:.0f} |")
    print(f"\ncallqa / baseline: {report['speedup']}× in wall time, {report['cpu_speedup']}× in CPU time, on {len(corpus)} calls "
          f"({report['audio_min']} min), {report['machine']}, {report['date']}; callqa setting: "
          f"{report['tuned']}; callqa stages (s, summed over workers): {c['stage_s']}")


def make_corpus_index(folder: Path, calls: Path) -> list[tuple[Path, dict]]:
    labels = {yaml.safe_load(p.read_text(encoding="utf-8"))["call"].rsplit(".", 1)[0]:
              yaml.safe_load(p.read_text(encoding="utf-8")) for p in calls.glob("*.labels.yaml")}
    return [(p, labels[p.stem.rsplit("-", 1)[0]]) for p in sorted(folder.glob("*.wav"))]


if __name__ == "__main__":
    main()
