"""Fit the Cantonese probe (pipeline/langid.json) on the dev split of ../shared/realspeech.

    .venv/bin/python tools/fit_langid.py            # fit on dev, report dev and test, write the json
    .venv/bin/python tools/fit_langid.py --check    # report only, with the committed probe

Each language's dev clips are laid end to end on one channel, a second apart, once wideband and
once through an 8 kHz G.711 A-law telephone channel (300–3400 Hz, line noise), and run through
callqa's own VAD, packing and Whisper base, so the probe sees the encoder states it will see in a
call. Each turn's mean encoder frame is one example; a logistic regression with an L2 penalty,
chosen by leave-one-clip-out on dev, is fitted on all of them. Only the fitted numbers are
committed, never the clips. The test split is reported, never fitted on; the sample calls
(Mandarin) are reported as the share of their speech the probe would call Cantonese.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import realcalls  # noqa: E402  (bench/realcalls.py: the telephone line and the call layout)

from pipeline import asr, audio, config, langid, turns  # noqa: E402

SHARED = ROOT.parent / "shared" / "realspeech"


def rows(split: str) -> list[dict[str, str]]:
    splits = {r["file"]: r["split"] for r in csv.DictReader(open(SHARED / "split.tsv"), delimiter="\t")}
    return [r for r in csv.DictReader(open(SHARED / "manifest.tsv"), delimiter="\t")
            if splits.get(r["file"]) == split and r["language"] in ("zh", "yue")]


def channel_file(clips: list[dict[str, str]], phone: bool, path: Path, seed: int) -> list[tuple[float, float, str]]:
    """The clips on one channel a second apart; returns each clip's (start, end, file)."""
    rng = np.random.default_rng(seed)
    sr = 8000 if phone else 16000
    parts, spans, t = [], [], 1.0
    parts.append(rng.normal(0, 1e-4, sr).astype(np.float32))
    for r in clips:
        x = audio.load(SHARED / r["file"], sr).channels[0]
        x = 0.3 * x / max(float(np.max(np.abs(x))), 1e-6)  # recorders' levels differ; a line's less so
        spans.append((t, t + len(x) / sr, r["file"]))
        parts += [x, rng.normal(0, 1e-4, sr).astype(np.float32)]
        t += len(x) / sr + 1.0
    y = np.concatenate(parts)
    if phone:
        y = realcalls.telephone(y, rng)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())
    return spans


def heard(tr: asr.Transcriber, path: Path, cfg) -> list[list[tuple[float, float]]]:
    """callqa's own VAD, packing and Whisper on a file; the turns' pooled frames land in `tr.pooled`."""
    sr = cfg.audio.sample_rate
    frames = turns.scan(audio.blocks(path, sr), sr, cfg.vad)
    regions = turns.regions(frames, cfg.vad)
    tr.transcribe(audio.blocks(path, sr), asr.plan(regions, frames, cfg.asr), sr)
    return regions


def examples(tr: asr.Transcriber, path: Path, spans, cfg) -> list[tuple[np.ndarray, float, str]]:
    """(mean encoder frame, seconds, clip file) for each turn callqa finds in the file."""
    regions = heard(tr, path, cfg)
    out = []
    for (ch, r), (x, secs) in tr.pooled.items():
        s, e = regions[ch][r]
        clip = next((f for a, b, f in spans if a - 0.5 <= (s + e) / 2 <= b + 0.5), None)
        if clip:
            out.append((x, secs, clip))
    return out


def in_calls(tr, split: str, cfg, tmp: Path, seeds=(11, 12)) -> list[tuple[np.ndarray, float, str, int]]:
    """Turns of stereo telephone calls (bench/realcalls.py), so the probe also learns from turns
    packed beside the other party's (`windows.share`), as in a real call. Other seeds than the
    bench's own calls."""
    out = []
    for seed in seeds:
        for k, (name, order) in enumerate(realcalls.plan(realcalls.read_clips(), split, seed).items()):
            stereo, segments = realcalls.build(order, seed * 1000 + k)
            path = tmp / f"{name}_{seed}.wav"
            realcalls.write_call(path, stereo, segments)
            spans = {ch: [(s.start, s.end, s.clip) for s in segments if s.channel == ch] for ch in (0, 1)}
            lang = {s.clip: s.language for s in segments}
            regions = heard(tr, path, cfg)
            for (ch, r), (x, secs) in tr.pooled.items():
                s, e = regions[ch][r]
                clip = next((f for a, b, f in spans[ch] if a <= (s + e) / 2 <= b), None)
                if clip:
                    out.append((x, secs, clip, int(lang[clip] == "yue")))
    return out


def collect(tr, split: str, cfg, tmp: Path) -> list[tuple[np.ndarray, float, str, int]]:
    data = in_calls(tr, split, cfg, tmp)
    for lang, y in (("zh", 0), ("yue", 1)):
        clips = [r for r in rows(split) if r["language"] == lang]
        for phone in (False, True):
            path = tmp / f"{split}_{lang}_{int(phone)}.wav"
            spans = channel_file(clips, phone, path, seed=y * 2 + phone)
            data += [(x, s, f, y) for x, s, f in examples(tr, path, spans, cfg)]
    return data


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 300) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton's method (a few hundred examples, 512 features)."""
    w, b = np.zeros(x.shape[1]), 0.0
    xa = np.hstack([x, np.ones((len(x), 1))])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xa @ np.append(w, b))))
        grad = xa.T @ (p - y) + l2 * np.append(w, 0.0)
        hess = (xa * (p * (1 - p))[:, None]).T @ xa + l2 * np.diag(np.append(np.ones(len(w)), 1e-6))
        step = np.linalg.solve(hess, grad)
        w, b = w - step[:-1], b - step[-1]
        if np.abs(step).max() < 1e-6:
            break
    return w, b


def shares(probe: langid.Probe, data) -> dict[str, float]:
    """Share of each language's speech seconds labelled yue (turns under 1 s left out)."""
    got = {0: [0.0, 0.0], 1: [0.0, 0.0]}
    for x, secs, _f, y in data:
        lab, _ = probe.label(x, secs)
        if lab:
            got[y][0] += secs * (lab == "yue")
            got[y][1] += secs
    return {"yue_as_yue": got[1][0] / max(got[1][1], 1e-9), "zh_as_yue": got[0][0] / max(got[0][1], 1e-9)}


def sample_calls(tr, cfg) -> float:
    """Share of the sample calls' speech (Mandarin, synthesised) the probe calls Cantonese."""
    yue = total = 0.0
    for path in sorted((ROOT / "data" / "sample_calls").glob("c*.*")):
        if path.suffix in (".yaml", ".md"):
            continue
        heard(tr, path, cfg)
        for x, secs in tr.pooled.values():
            lab, _ = tr.probe.label(x, secs)
            if lab:
                yue, total = yue + secs * (lab == "yue"), total + secs
    return yue / max(total, 1e-9)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="report the committed probe; fit nothing")
    ap.add_argument("--samples", action="store_true", help="also report the sample calls (slow)")
    args = ap.parse_args()
    cfg = config.load()
    if not langid.PROBE.is_file():  # the first fit: a probe that says nothing, so the pooling runs
        langid.PROBE.write_text(json.dumps({"dims": 512, "bias": 0.0, "mean": [0.0] * 512,
                                            "scale": [1.0] * 512, "weights": [0.0] * 512}))
    tr = asr.Transcriber(cfg.asr)
    with tempfile.TemporaryDirectory() as tmp:
        dev, test = collect(tr, "dev", cfg, Path(tmp)), collect(tr, "test", cfg, Path(tmp))
    if not args.check:
        x = np.stack([d[0] for d in dev]).astype(np.float64)
        y = np.array([d[3] for d in dev], float)
        mean, scale = x.mean(0), x.std(0) + 1e-6
        z = (x - mean) / scale
        clips = sorted({d[2] for d in dev})
        best = None
        for l2 in (1.0, 10.0, 100.0, 1000.0):
            wrong = 0.0
            for c in clips:  # leave one clip out: a turn's own clip never helps to label it
                keep = np.array([d[2] != c for d in dev])
                w, b = fit(z[keep], y[keep], l2)
                pz = 1 / (1 + np.exp(-(z[~keep] @ w + b)))
                wrong += float(np.sum(((pz >= 0.5) != y[~keep]) * np.array([d[1] for d in dev])[~keep]))
            print(f"l2 {l2:g}: leave-one-clip-out errors {wrong:.1f} s of speech")
            if best is None or wrong <= best[0]:  # ties: the stronger penalty generalises better
                best = (wrong, l2)
        w, b = fit(z, y, best[1])
        langid.PROBE.write_text(json.dumps({
            "about": "tools/fit_langid.py: logistic regression on Whisper base's mean encoder frame per turn, "
                     f"dev split of ../shared/realspeech, {len(dev)} turns, l2 {best[1]:g}",
            "dims": int(x.shape[1]), "bias": round(float(b), 6),
            "mean": [round(float(v), 5) for v in mean], "scale": [round(float(v), 5) for v in scale],
            "weights": [round(float(v), 6) for v in w]}) + "\n", encoding="utf-8")
        tr.probe = langid.Probe.load()
    for name, data in (("dev", dev), ("test", test)):
        s = shares(tr.probe, data)
        print(f"{name}: {len(data)} turns; Cantonese speech labelled yue {s['yue_as_yue']:.1%}, "
              f"Mandarin speech labelled yue {s['zh_as_yue']:.1%}")
    if args.samples:
        print(f"sample calls: Mandarin speech labelled yue {sample_calls(tr, cfg):.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
