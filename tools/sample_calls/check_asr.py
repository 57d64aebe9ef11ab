#!/usr/bin/env python3
"""Check that the sample calls are intelligible to the project's ASR (Whisper base).

Runs in the project venv (faster-whisper), not in .venv-tts:

    .venv/bin/python tools/sample_calls/check_asr.py [names...] [--json out.json]

For each data/sample_calls/<name>.labels.yaml it decodes the call's audio (8 kHz stereo ->
16 kHz per channel), cuts every labelled utterance from its own channel (+/- 0.15 s) and
transcribes it with Whisper base int8 (language=zh, beam_size=1, Simplified prompt, no VAD),
converts to Simplified (OpenCC t2s) and reports
  * CER per call and role (punctuation stripped, ASCII digits mapped to 零一二…),
  * every rule-critical phrase of the reference text (greeting/closing, hold, forbidden
    phrases, fillers, refusals, retention pushes) that does not come back exactly; a phrase
    that comes back with the same toneless pinyin is reported as `pinyin`, else `MISS`.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]
CALLS = REPO / "data" / "sample_calls"
MODEL = REPO / "models" / "whisper-base"
PROMPT = "以下是普通话的句子。"
PAD = 0.15

CRITICAL = {
    "greeting": ["您好", "很高兴为您服务", "有什么可以帮您", "打扰您了", "方便接听"],
    "closing": ["感谢您的来电", "再见", "还有其他可以帮您的吗", "祝您生活愉快", "不打扰您了", "感谢您的接听"],
    "hold": ["麻烦您稍等", "稍等", "我帮您查一下", "感谢您的耐心等待", "耐心等待", "久等"],
    "forbidden": ["不知道", "不清楚", "这事我不管", "我已经说过了", "没办法"],
    "filler": ["那个", "就是说", "然后", "这个", "怎么说呢", "对吧", "反正", "呃", "啊"],
    "refusal": ["不需要", "不用了", "不要", "没兴趣", "不考虑", "暂时不需要"],
    "retention": ["现在办理还有优惠", "首月免费", "再考虑一下", "再考虑考虑", "您听我说完", "名额有限",
                  "帮您办上", "先体验一下", "很多客户都办了", "划算", "仅限本月", "我再给您介绍一下",
                  "送您", "还送"],
    "address": ["喂", "有人吗"],
}
DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")
PUNCT = re.compile(r"[^\u4e00-\u9fff]")


def norm(text: str) -> str:
    return PUNCT.sub("", text.translate(DIGITS))


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def pinyin_seq(text: str):
    """Toneless pinyin; nin -> ni because Whisper writes 你 for 您 almost always."""
    from pypinyin import lazy_pinyin
    return ["ni" if p == "nin" else p for p in lazy_pinyin(text, errors="ignore")]


def phrase_status(phrase: str, ref: str, hyp: str):
    """(count in ref, count in hyp exact, count in hyp by toneless pinyin)."""
    n_ref = ref.count(phrase)
    n_hyp = hyp.count(phrase)
    p, h = pinyin_seq(phrase), pinyin_seq(hyp)
    n_py = sum(1 for i in range(len(h) - len(p) + 1) if h[i:i + len(p)] == p)
    return n_ref, n_hyp, n_py


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--calls", type=Path, default=CALLS, help="folder with the calls and labels")
    ap.add_argument("--pad", type=float, default=PAD, help="seconds added around each utterance")
    ap.add_argument("--json", type=Path, help="write per-utterance results here")
    a = ap.parse_args(argv)

    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio
    from opencc import OpenCC
    cc = OpenCC("t2s")
    model = WhisperModel(str(MODEL), device="cpu", compute_type="int8", cpu_threads=2)

    label_files = sorted(a.calls.glob("*.labels.yaml"))
    if a.names:
        label_files = [p for p in label_files if p.name.split(".")[0] in a.names]
    results, summary = [], []
    for lf in label_files:
        lab = yaml.safe_load(lf.read_text(encoding="utf-8"))
        chans = decode_audio(str(a.calls / lab["call"]), sampling_rate=16000, split_stereo=True)
        err = {"agent": [0, 0], "customer": [0, 0]}
        misses = []
        for i, t in enumerate(lab["turns"]):
            x = chans[0 if t["role"] == "agent" else 1]
            s, e = int(max(0, t["start"] - a.pad) * 16000), int((t["end"] + a.pad) * 16000)
            segs, _ = model.transcribe(x[s:e].astype(np.float32), language="zh", beam_size=1,
                                       initial_prompt=PROMPT, vad_filter=False,
                                       condition_on_previous_text=False)
            hyp_raw = "".join(sg.text for sg in segs).strip()
            hyp = cc.convert(hyp_raw)
            r, h = norm(t["text"]), norm(hyp)
            d = edit_distance(r, h)
            err[t["role"]][0] += d
            err[t["role"]][1] += len(r)
            bad = []
            for cat, phrases in CRITICAL.items():
                for ph in phrases:
                    if ph not in r:
                        continue
                    n_ref, n_hyp, n_py = phrase_status(ph, r, h)
                    if n_hyp >= n_ref:
                        continue
                    status = "pinyin" if n_py >= n_ref else "MISS"
                    bad.append({"cat": cat, "phrase": ph, "ref_n": n_ref, "hyp_n": n_hyp,
                                "pinyin_n": n_py, "status": status})
            if bad:
                misses.append((i, t["role"], t["text"], hyp, bad))
            results.append({"call": lab["call"], "turn": i, "role": t["role"], "ref": t["text"],
                            "hyp": hyp, "cer": round(d / max(1, len(r)), 3), "critical": bad})
        fill_ref = sum(norm(t["text"]).count(f) for t in lab["turns"] if t["role"] == "agent"
                       for f in CRITICAL["filler"])
        fill_hyp = sum(norm(r_["hyp"]).count(f) for r_ in results
                       if r_["call"] == lab["call"] and r_["role"] == "agent" for f in CRITICAL["filler"])
        cer = {k: (v[0] / v[1] if v[1] else 0.0) for k, v in err.items()}
        summary_f = f", agent fillers in ASR {fill_hyp}/{fill_ref}" if fill_ref else ""
        summary.append((lab["call"], cer, err))
        print(f"== {lab['call']}: CER agent {cer['agent']:.1%}, customer {cer['customer']:.1%}{summary_f}")
        for i, role, ref, hyp, bad in misses:
            desc = "; ".join(f"{b['status']} {b['cat']}:{b['phrase']} ({b['hyp_n']}/{b['ref_n']})" for b in bad)
            print(f"  turn {i} [{role}] {desc}\n     ref: {ref}\n     asr: {hyp}")
    tot = {"agent": [0, 0], "customer": [0, 0]}
    print("\ncall                           agent CER  customer CER")
    for call, cer, err in summary:
        print(f"{call:30s} {cer['agent']:9.1%} {cer['customer']:12.1%}")
        for k in tot:
            tot[k][0] += err[k][0]
            tot[k][1] += err[k][1]
    print(f"{'all':30s} {tot['agent'][0] / max(1, tot['agent'][1]):9.1%} "
          f"{tot['customer'][0] / max(1, tot['customer'][1]):12.1%}")
    if a.json:
        a.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
