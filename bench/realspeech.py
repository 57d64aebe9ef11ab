"""Real speech through a telephone line: callqa against the bare model on the same clips (issue #29).

    .venv/bin/python bench/realspeech.py [--split dev|test|both] [--keep DIR]    # ≈ 3 min on 2 cores

Stereo calls are assembled from ../shared/realspeech (bench/realcalls.py: 8 kHz, 300–3400 Hz,
G.711 A-law, line noise), one set per split, and scored twice:

- **callqa**: `callqa run` on the calls, default config; a clip's text is the text of the turns on
  its channel whose midpoint falls inside the clip.
- **bare**: the same telephone audio of each clip, cut out alone (decoded at 16 kHz by the loader
  callqa uses), `WhisperModel(models/whisper-base, int8, cpu).transcribe(language="zh", beam_size=2)`,
  no VAD.

CER per clip with `pipeline.evaluate.char_errors` (normalised, spaces and punctuation stripped),
summed over clips. Mandarin calls give the CER figures; Cantonese calls (Mandarin agent, Cantonese
customer) give the language-ID shares from `turns.language` and an informational Cantonese CER.
Results: bench/results/realspeech-latest.json (every clip's texts in it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import realcalls  # noqa: E402

PARTY = {realcalls.AGENT: "agent", realcalls.CUSTOMER: "customer"}


def make_calls(folder: Path, splits: list[str], seed: int) -> list[Path]:
    clips = realcalls.read_clips()
    paths = []
    for split in splits:
        for k, (name, order) in enumerate(realcalls.plan(clips, split, seed).items()):
            stereo, segments = realcalls.build(order, seed * 1000 + k)
            path = folder / split / f"{name}.wav"
            realcalls.write_call(path, stereo, segments)
            paths.append(path)
    return paths


def run_callqa(folder: Path, workers: str | None, src: Path | None) -> tuple[dict[str, list[dict]], dict]:
    """Turns per call file name, as `callqa run` stores them; and what the run cost.

    `src`: a checkout whose pipeline/ the run imports instead of this tree's (PYTHONPATH wins over
    the editable install): a clean commit while someone edits pipeline/ here.
    """
    import os

    import pandas as pd

    out = Path(tempfile.mkdtemp(prefix="callqa-realspeech-out-"))
    cmd = [str(ROOT / ".venv" / "bin" / "callqa"), "run", str(folder), "--out", str(out)]
    t0 = time.perf_counter()
    env = os.environ | ({"PYTHONPATH": str(src)} if src else {})
    done = subprocess.run(cmd + (["--workers", workers] if workers else []), capture_output=True, text=True, env=env)
    if done.returncode:
        sys.exit(f"callqa run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - t0
    calls, turns = pd.read_parquet(out / "calls"), pd.read_parquet(out / "turns")
    by_call = {Path(r.source).name: turns[turns.call_id == r.call_id].sort_values("start_s").to_dict("records")
               for r in calls.itertuples()}
    shutil.rmtree(out)
    return by_call, {"wall_s": round(wall, 1), "failed": int((calls.status != "ok").sum())}


def run_bare(paths: list[Path]) -> tuple[dict[tuple[str, str, float], str], dict]:
    """(call, clip, start) → the bare model's text for that clip's span of its channel."""
    from faster_whisper import WhisperModel

    from pipeline import audio

    model = WhisperModel(str(ROOT / "models" / "whisper-base"), device="cpu", compute_type="int8")
    t0, texts = time.perf_counter(), {}
    for path in paths:
        a = audio.load(path, 16000)  # the resampler callqa's decoder uses: both sides hear the same
        for s in realcalls.read_segments(path):
            x = a.channels[s.channel, int(s.start * 16000) : int(s.end * 16000)]
            segments, _ = model.transcribe(x, language="zh", beam_size=2)
            texts[(path.name, s.clip, s.start)] = "".join(seg.text for seg in segments)
    return texts, {"wall_s": round(time.perf_counter() - t0, 1)}


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def clip_record(call: str, split: str, s: realcalls.Segment, turns: list[dict], bare: str) -> dict:
    """One clip scored on both sides: texts, char errors, and how its seconds were labelled."""
    from pipeline.evaluate import char_errors

    mine = [t for t in turns if t["role"] == PARTY[s.channel]]
    inside = [t for t in mine if s.start <= (t["start_s"] + t["end_s"]) / 2 <= s.end]
    text = "".join(t["text"] for t in inside)
    e_q, n = char_errors([s.text], [text])
    e_b, _ = char_errors([s.text], [bare])
    # speech seconds per language label, from every turn of this channel that overlaps the clip
    labelled: dict[str, float] = {}
    for t in mine:
        sec = overlap(s.start, s.end, t["start_s"], t["end_s"])
        if sec > 0:
            labelled[t["language"] or ""] = round(labelled.get(t["language"] or "", 0.0) + sec, 3)
    return {"split": split, "call": call, "clip": s.clip, "party": PARTY[s.channel], "language": s.language,
            "spontaneous": s.spontaneous, "start": s.start, "end": s.end, "duration": round(s.end - s.start, 3),
            "ref_chars": n, "callqa_errors": e_q, "bare_errors": e_b, "reference": s.text, "callqa": text,
            "bare": bare, "turns": len(inside), "labelled_s": labelled,
            "language_prob": [round(t["language_prob"] or 0.0, 3) for t in inside]}


def cer(rows: list[dict]) -> dict:
    n = sum(r["ref_chars"] for r in rows)
    return {"clips": len(rows), "ref_chars": n, "audio_s": round(sum(r["duration"] for r in rows), 1),
            "callqa": round(sum(r["callqa_errors"] for r in rows) / n, 4) if n else None,
            "bare": round(sum(r["bare_errors"] for r in rows) / n, 4) if n else None}


def _chars(text: str) -> str:
    """What char_errors compares: normalised, without spaces or punctuation."""
    from pipeline.text import keyed, normalize

    return keyed(normalize(text)).key


def summarise(rows: list[dict]) -> dict:
    """One split's figures. Mandarin CER comes from the Mandarin calls only: the Cantonese calls'
    agents reuse the same zh clips, so counting them again would weigh those clips twice."""
    zh = [r for r in rows if "_zh_" in r["call"]]
    yue_calls = [r for r in rows if "_yue_" in r["call"]]
    yue = [r for r in yue_calls if r["language"] == "yue"]

    def share(rs: list[dict], label: str) -> float | None:
        total = sum(r["duration"] for r in rs)
        return round(sum(r["labelled_s"].get(label, 0.0) for r in rs) / total, 4) if total else None

    labels: dict[str, float] = {}
    for r in rows:
        for k, v in r["labelled_s"].items():
            labels[k or "(empty)"] = round(labels.get(k or "(empty)", 0.0) + v, 1)
    empty = [{"call": r["call"], "clip": r["clip"], "party": r["party"], "duration": r["duration"],
              "reference": r["reference"], "bare": r["bare"], "turns": r["turns"]}
             for r in rows if r["duration"] >= 1.0 and not _chars(r["callqa"]) and _chars(r["bare"])]
    return {
        "zh": {"all": cer(zh), "read": cer([r for r in zh if not r["spontaneous"]]),
               "spontaneous": cer([r for r in zh if r["spontaneous"]]),
               "agent": cer([r for r in zh if r["party"] == "agent"]),
               "customer": cer([r for r in zh if r["party"] == "customer"])},
        "yue": {"cer": cer(yue), "zh_agent_cer": cer([r for r in yue_calls if r["language"] == "zh"]),
                "yue_s_labelled_yue": share(yue, "yue"),
                "zh_s_labelled_yue_in_yue_calls": share([r for r in yue_calls if r["language"] == "zh"], "yue"),
                "zh_s_labelled_yue_in_zh_calls": share(zh, "yue")},
        "turn_seconds_by_label": labels,
        "empty_callqa_bare_heard": empty,
        "worst_vs_bare": sorted(({"call": r["call"], "clip": r["clip"], "party": r["party"], "reference": r["reference"],
                                  "callqa": r["callqa"], "bare": r["bare"],
                                  "extra_errors": r["callqa_errors"] - r["bare_errors"]} for r in zh),
                                key=lambda x: -x["extra_errors"])[:5],
    }


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def print_tables(report: dict) -> None:
    dirty = f" + {len(report['uncommitted'])} uncommitted pipeline/configs files" if report["uncommitted"] else ""
    print(f"\n{report['date']}, {report['cpu']}, callqa at {report['commit'][:7]}{dirty}")
    print("\n| split | clips | audio s | CER callqa | CER bare | read callqa / bare | spontaneous callqa / bare "
          "| agent callqa / bare | customer callqa / bare |")
    print("|---|---|---|---|---|---|---|---|---|")
    for split, s in report["splits"].items():
        z = s["zh"]
        pair = " | ".join(f"{pct(z[k]['callqa'])} / {pct(z[k]['bare'])} ({z[k]['clips']})"
                          for k in ("read", "spontaneous", "agent", "customer"))
        print(f"| {split} | {z['all']['clips']} | {z['all']['audio_s']} | {pct(z['all']['callqa'])} | "
              f"{pct(z['all']['bare'])} | {pair} |")
    print("\n| split | yue s labelled yue | zh s labelled yue (Cantonese calls) | zh s labelled yue (Mandarin calls) "
          "| CER yue callqa / bare | CER zh agent in Cantonese calls callqa / bare | turn seconds by label |")
    print("|---|---|---|---|---|---|---|")
    for split, s in report["splits"].items():
        y = s["yue"]
        print(f"| {split} | {pct(y['yue_s_labelled_yue'])} | {pct(y['zh_s_labelled_yue_in_yue_calls'])} | "
              f"{pct(y['zh_s_labelled_yue_in_zh_calls'])} | {pct(y['cer']['callqa'])} / {pct(y['cer']['bare'])} | "
              f"{pct(y['zh_agent_cer']['callqa'])} / {pct(y['zh_agent_cer']['bare'])} | {s['turn_seconds_by_label']} |")
    for split, s in report["splits"].items():
        print(f"\n{split}: clips >= 1 s with callqa's text empty and the bare model's not: "
              f"{len(s['empty_callqa_bare_heard'])}")
        for e in s["empty_callqa_bare_heard"]:
            print(f"  {e['call']} {e['party']} {Path(e['clip']).name} ({e['duration']} s, {e['turns']} turns): "
                  f"ref {e['reference']!r}, bare {e['bare']!r}")


def code_version(src: Path) -> dict:
    """The commit callqa ran, and its uncommitted changes to the code and config that make turns."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=src, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "src": str(src),
            "uncommitted": git("status", "--porcelain", "--", "pipeline", "configs").splitlines()}


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", help="passed to callqa run (default: its config's)")
    ap.add_argument("--keep", type=Path, help="write the calls here and keep them (e.g. bench/results/realspeech)")
    ap.add_argument("--callqa-src", type=Path, help="a checkout (e.g. a git worktree) whose pipeline/ callqa runs")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "realspeech-latest.json")
    args = ap.parse_args()
    if not (realcalls.SHARED / "manifest.tsv").exists():
        sys.exit(f"{realcalls.SHARED} is absent: this bench needs ../shared/realspeech")
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="callqa-realspeech-"))
    paths = make_calls(folder, splits, args.seed)
    print(f"{len(paths)} calls in {folder}; running callqa …", file=sys.stderr)
    turns, callqa_run = run_callqa(folder, args.workers, args.callqa_src)
    print("running the bare model …", file=sys.stderr)
    bare, bare_run = run_bare(paths)
    rows = [clip_record(p.name, p.parent.name, s, turns.get(p.name, []), bare[(p.name, s.clip, s.start)])
            for p in paths for s in realcalls.read_segments(p)]
    version = code_version(args.callqa_src or ROOT)
    report = {"date": date.today().isoformat(), "cpu": cpu_model(), **version, "seed": args.seed,
              "calls": len(paths), "audio_s": round(sum(r["duration"] for r in rows), 1),
              "callqa_run": callqa_run, "bare_run": bare_run,
              "splits": {sp: summarise([r for r in rows if r["split"] == sp]) for sp in splits}, "clips": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print_tables(report)
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
