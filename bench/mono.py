"""What mono costs: the same calls scored as stereo and as a mono mix-down, side by side in one run.

    .venv/bin/python bench/mono.py [--calls data/sample_calls] [--workers 2]

Each labelled call is written twice as 16-bit WAV at its own rate: its two channels (stereo) and
their sum (mono, what a mixing recorder stores). `callqa run` scores each corpus in its own
process with the same settings; the table gives call-seconds per wall-second, CPU seconds, the
character error rate per party, peak RSS per process and, for mono, the speech time attributed
to the right role (overlaps excluded; pipeline/attribution.py) and where the time went.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def write_wav(path: Path, channels: np.ndarray, rate: int) -> None:
    import av

    layout = "stereo" if channels.shape[0] == 2 else "mono"
    pcm = np.ascontiguousarray((np.clip(channels.T, -1, 1) * 32767).astype(np.int16)).reshape(1, -1)
    with av.open(str(path), "w") as c:
        s = c.add_stream("pcm_s16le", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout=layout)
        frame.sample_rate = rate
        for pkt in (*s.encode(frame), *s.encode(None)):
            c.mux(pkt)


def make_corpora(calls: Path, dest: Path) -> None:
    from pipeline import audio

    for kind in ("stereo", "mono"):
        (dest / kind).mkdir(parents=True)
    for labels in sorted(calls.glob("*.labels.yaml")):
        lab = yaml.safe_load(labels.read_text(encoding="utf-8"))
        src = calls / lab["call"]
        rate = audio.probe(src).source_rate
        data = audio.load(src, rate).channels
        mono = data.sum(axis=0)
        write_wav(dest / "stereo" / f"{src.stem}.wav", data, rate)
        write_wav(dest / "mono" / f"{src.stem}.wav", (mono / max(1.0, float(np.abs(mono).max())))[None], rate)


def side(folder: Path, calls: Path, workers: int, keep: Path | None = None) -> dict:
    import pandas as pd

    from bench import side_callqa
    from pipeline.attribution import attribution

    labels = {yaml.safe_load(p.read_text(encoding="utf-8"))["call"].rsplit(".", 1)[0]:
              yaml.safe_load(p.read_text(encoding="utf-8")) for p in calls.glob("*.labels.yaml")}
    corpus = [(p, labels[p.stem]) for p in sorted(folder.glob("*.wav"))]
    res = side_callqa(corpus, folder, workers, keep=True)
    out = Path(res.pop("out"))
    turns, rows = pd.read_parquet(out / "turns"), pd.read_parquet(out / "calls")
    right = found = 0.0
    for path, lab in corpus:
        mine = turns[turns["source"] == path.name]
        a = attribution([(t["start"], t["end"], t["role"]) for t in lab["turns"]],
                        zip(mine["start_s"], mine["end_s"], mine["role"]), lab["duration"])
        right, found = right + a.right_s, found + a.found_s
    res["attribution"] = right / found if found else 1.0
    res["role_confidence"] = float(rows["role_confidence"].mean()) if rows["mixed"].any() else None
    if keep:  # the output and labels naming the WAVs, for `callqa eval KEEP/labels KEEP/out`
        shutil.rmtree(keep, ignore_errors=True)
        (keep / "labels").mkdir(parents=True)
        for path, lab in corpus:
            (keep / "labels" / f"{path.stem}.labels.yaml").write_text(
                yaml.safe_dump(lab | {"call": path.name}, allow_unicode=True, sort_keys=False), encoding="utf-8")
        shutil.move(str(out), keep / "out")
    else:
        shutil.rmtree(out)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=Path, default=ROOT / "data" / "sample_calls")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="leave each side's output and labels in KEEP/stereo, KEEP/mono "
                                              "(then: callqa eval KEEP/mono/labels KEEP/mono/out)")
    ap.add_argument("--side", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        keep = args.keep / args.side.name if args.keep else None
        print(json.dumps(side(args.side, args.calls, args.workers, keep)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="callqa-mono-bench-"))
    make_corpora(args.calls, tmp)
    res = {}
    for kind in ("stereo", "mono"):
        print(f"running {kind} …", file=sys.stderr)
        cmd = [sys.executable, __file__, "--side", str(tmp / kind), "--calls", str(args.calls),
               "--workers", str(args.workers), *(["--keep", str(args.keep.resolve())] if args.keep else [])]
        res[kind] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    shutil.rmtree(tmp)
    from pipeline import tune

    cpu_name, flags = tune.cpu()
    print("| input | × real time | CPU s | CER agent | CER customer | peak RSS MB/process | role attribution |")
    print("|---|---|---|---|---|---|---|")
    for kind, v in res.items():
        print(f"| {kind} | {v['audio_s'] / v['wall_s']:.1f} | {v['cpu_s']:.0f} | {v['cer']['agent']:.1%} | "
              f"{v['cer']['customer']:.1%} | {v['peak_rss_mb']:.0f} | {v['attribution']:.1%} |")
    s, m = res["stereo"], res["mono"]
    print(f"\nmono / stereo: {m['wall_s'] / s['wall_s']:.2f}× the wall time, {m['cpu_s'] / s['cpu_s']:.2f}× the CPU "
          f"time, on {len(list(args.calls.glob('*.labels.yaml')))} calls ({s['audio_s'] / 60:.1f} min), "
          f"{cpu_name} ({' '.join(flags)}), {args.workers} workers; stages (s, summed over workers): "
          f"stereo {s['stage_s']}, mono {m['stage_s']}; mean role confidence {m['role_confidence']:.2f}")


if __name__ == "__main__":
    main()
