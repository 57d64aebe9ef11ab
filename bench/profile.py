"""Where one worker's ASR time goes: encoder, decoder, word alignment, language ID, re-decodes.

    .venv/bin/python bench/profile.py [--calls data/sample_calls] [--limit 6] [--threads 1]
        [--set batch_size=4 --set word_timestamps=false ...]

Runs VAD, window planning and `Transcriber.transcribe` in this process (one model, `--threads`
CPU threads, as one batch worker does) over the first `--limit` labelled calls, with the
CTranslate2 model wrapped so every encode / generate / align / detect_language call is timed.
Prints seconds per stage, windows and tokens, and the CER per party beside the total, so a change
that buys speed by dropping speech shows at once. Speed figures are for comparing settings on one
machine in one run, not absolute.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Timed:
    """A stand-in for the CTranslate2 Whisper object that times the calls that cost."""

    COSTLY = ("encode", "generate", "align", "detect_language")

    def __init__(self, inner, clock: dict[str, float], counts: dict[str, int]):
        self._inner, self._clock, self._counts = inner, clock, counts

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name not in self.COSTLY:
            return attr

        def timed(*a, **kw):
            t0, c0 = time.perf_counter(), time.process_time()
            out = attr(*a, **kw)
            self._clock[name] += time.perf_counter() - t0
            self._clock[f"{name}_cpu"] += time.process_time() - c0
            self._counts[name] += 1
            if name == "generate":
                self._counts["tokens"] += sum(len(r.sequences_ids[0]) for r in out)
                self._counts["windows"] += len(out)
            return out

        return timed


def parse_sets(pairs: list[str]) -> dict[str, object]:
    out = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        out[key] = yaml.safe_load(raw)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=Path, default=ROOT / "data" / "sample_calls")
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--per-call", action="store_true", help="also print the CER of each call and party")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override an asr option (e.g. batch_size=8)")
    args = ap.parse_args()

    from pipeline import asr, audio, config, turns
    from pipeline.evaluate import char_errors

    cfg = config.load()
    opts = dataclasses.replace(cfg.asr, cpu_threads=args.threads, **parse_sets(args.set))
    clock: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    t0 = time.perf_counter()
    tr = asr.Transcriber(opts)
    clock["load"] = time.perf_counter() - t0
    tr.model.model = Timed(tr.model.model, clock, counts)
    sr = cfg.audio.sample_rate
    labels = sorted(args.calls.glob("*.labels.yaml"))[: args.limit]
    errors = {"agent": [0, 0], "customer": [0, 0]}
    per_call: dict[str, dict[str, float]] = {}
    audio_s = 0.0
    for lab_path in labels:
        lab = yaml.safe_load(lab_path.read_text(encoding="utf-8"))
        path = args.calls / lab["call"]
        t = time.perf_counter()
        frames = turns.scan(audio.blocks(path, sr), sr, cfg.vad)
        regions = turns.regions(frames, cfg.vad)
        clock["vad"] += time.perf_counter() - t
        audio_s += frames.duration
        t, c = time.perf_counter(), time.process_time()
        windows = asr.plan(regions, frames, opts)
        heard = tr.transcribe(audio.blocks(path, sr), windows, sr)
        clock["asr"] += time.perf_counter() - t
        clock["asr_cpu"] += time.process_time() - c
        counts["planned_windows"] += len(windows)
        for ch, role in cfg.channels.items():
            hyp = [heard[(ch, r)].text if (ch, r) in heard else "" for r in range(len(regions[ch]))]
            ref = [x["text"] for x in lab["turns"] if x["role"] == role]
            e, n = char_errors(ref, hyp)
            errors[role][0] += e
            errors[role][1] += n
            per_call.setdefault(lab["call"], {})[role] = round(e / max(n, 1), 4)
    other = clock["asr"] - sum(clock[k] for k in Timed.COSTLY)
    report = {
        "calls": len(labels), "audio_s": round(audio_s, 1), "threads": args.threads,
        "options": {k: v for k, v in parse_sets(args.set).items()},
        "seconds": {k: round(v, 2) for k, v in clock.items()} | {"asr_other": round(other, 2)},
        "share_of_asr": {k: f"{clock[k] / clock['asr']:.0%}" for k in (*Timed.COSTLY,)} | {
            "other": f"{other / clock['asr']:.0%}"},
        "counts": dict(counts),
        "x_realtime_asr": round(audio_s / clock["asr"], 1),
        "x_realtime_asr_cpu": round(audio_s / clock["asr_cpu"], 1),  # steadier on a shared machine
        "cer": {r: round(e / n, 4) for r, (e, n) in errors.items()},
    } | ({"cer_per_call": per_call} if args.per_call else {})
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
