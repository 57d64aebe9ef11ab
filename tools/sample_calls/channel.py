"""What the line and the recorder do to the speech: crosstalk, background noise, the telephone
band, G.711 companding, gains and a recorder's limiter. Pure numpy/scipy, (2, n) arrays at 8 kHz.

Every function that draws random numbers takes the call's generator, and the order of the draws
is part of the output: c01-c19 are byte-identical as long as the defaults draw as they did.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter, sosfiltfilt

SR = 8000
GAIN_RAMP = 0.02  # s, fade of a per-utterance gain_db in and out
MAX_PEAK = 0.99  # a gain that pushes a channel above this is an error (no clipping)
NOISES = ("pink", "babble", "hum")
CODECS = ("mulaw", "alaw", "none")


def active_rms(y: np.ndarray, sr: int = SR) -> float:
    f = int(0.02 * sr)
    n = len(y) // f
    e = np.sqrt(np.mean(y[: n * f].reshape(n, f) ** 2, axis=1))
    act = e[e > e.max() * 10 ** (-30 / 20)]
    return float(np.sqrt(np.mean(act ** 2))) if len(act) else float(np.sqrt(np.mean(y ** 2)))


def crosstalk(speech: np.ndarray, echo_db: float, delay_s: float) -> np.ndarray:
    """Each channel hears the other party faintly, slightly delayed."""
    total = speech.shape[1]
    d = int(delay_s * SR)
    g = 10 ** (echo_db / 20)
    mix = speech.copy()
    mix[0, d:] += g * speech[1, : total - d]
    mix[1, d:] += g * speech[0, : total - d]
    return mix


def pink(rng: np.random.Generator, total: int) -> np.ndarray:
    """Pinkish (1/f above 300 Hz) + white noise, unit standard deviation."""
    white = rng.standard_normal(total).astype(np.float32)
    spec = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(total, 1 / SR)
    spec[1:] /= np.sqrt(freqs[1:] / 300.0).clip(1.0, None)
    noise = np.fft.irfft(spec, total).astype(np.float32)
    return 0.8 * noise / noise.std() + 0.2 * white


def babble(speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A call-centre floor: other voices, made of this call's own speech played backwards at
    several offsets (speech-shaped and unintelligible), unit standard deviation."""
    total = speech.shape[1]
    src = (speech[0] + speech[1])[::-1]
    out = np.zeros(total, np.float32)
    for _ in range(5):
        out += np.roll(src, int(rng.integers(total))) * float(rng.uniform(0.5, 1.0))
    return out / max(1e-9, float(out.std()))


def hum(total: int) -> np.ndarray:
    """Mains hum and its harmonics (a bad headset cable), unit standard deviation."""
    t = np.arange(total) / SR
    y = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 5, 7))
    return (y / y.std()).astype(np.float32)


def add_noise(mix: np.ndarray, speech: np.ndarray, rng: np.random.Generator,
              levels_db: tuple[float, float], snr_db: float, kind: str = "pink",
              extra_snr_db: float = 20.0) -> np.ndarray:
    """Seeded background noise for the whole call, `snr_db` under each channel's speech level;
    `kind` babble or hum is added on top of the pink floor, `extra_snr_db` under speech."""
    if kind not in NOISES:
        raise ValueError(f"unknown noise {kind!r} (known: {', '.join(NOISES)})")
    total = mix.shape[1]
    out = mix.copy()
    for ch in range(2):
        noise = pink(rng, total)
        out[ch] += noise * (10 ** ((levels_db[ch] - snr_db) / 20) / noise.std())
    if kind != "pink":
        for ch in range(2):
            extra = babble(speech, rng) if kind == "babble" else hum(total)
            out[ch] += extra * 10 ** ((levels_db[ch] - extra_snr_db) / 20)
    return out


def telephone(mix: np.ndarray, band: tuple[float, float] = (300, 3400), codec: str = "mulaw",
              order: int = 6) -> np.ndarray:
    """Band-pass (Butterworth, zero phase so label times stay exact), then G.711 companding."""
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r} (known: {', '.join(CODECS)})")
    sos = butter(order, list(band), btype="bandpass", fs=SR, output="sos")
    mix = sosfiltfilt(sos, mix, axis=1).astype(np.float32)
    peak = float(np.abs(mix).max())
    if peak > 0.97:
        mix *= 0.97 / peak
    return mulaw(mix) if codec == "mulaw" else alaw(mix) if codec == "alaw" else mix


def mulaw(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    y = np.round(y * 127) / 127
    return (np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu).astype(np.float32)


def alaw(x: np.ndarray, a: float = 87.6) -> np.ndarray:
    ax = np.abs(x)
    la = 1 + np.log(a)
    y = np.where(ax < 1 / a, a * ax / la, (1 + np.log(np.maximum(a * ax, 1e-12))) / la)
    y = np.round(y * 127) / 127
    back = np.where(y < 1 / la, y * la / a, np.exp(y * la - 1) / a)
    return (np.sign(x) * back).astype(np.float32)


def gains(mix: np.ndarray, spans: list[tuple[int, int, int, float]],
          channel_db: tuple[float, float], name: str) -> np.ndarray:
    """Gains after the telephone channel: per utterance (ch, start, length, gain_db: the agent
    suddenly louder) and per channel (a quiet line); the noise under an utterance moves with it."""
    env = np.ones_like(mix)
    ramp = max(1, int(GAIN_RAMP * SR))
    for ch, s, n, gdb in spans:
        if gdb:
            g = np.full(n, 10 ** (gdb / 20), np.float32)
            fade = np.linspace(0.0, 1.0, ramp, dtype=np.float32)
            g[:ramp] = 1 + (g[:ramp] - 1) * fade
            g[-ramp:] = 1 + (g[-ramp:] - 1) * fade[::-1]
            env[ch, s: s + n] *= g
    for ch in range(2):
        env[ch] *= 10 ** (float(channel_db[ch]) / 20)
    if np.all(env == 1.0):
        return mix
    mix = mix * env
    peak = float(np.abs(mix).max())
    if peak > MAX_PEAK:
        raise ValueError(f"{name}: gain_db would clip (peak {peak:.2f}); lower the level or the gain")
    return mix


def limiter(x: np.ndarray, threshold_db: float, ratio: float = 4.0, attack_s: float = 0.005,
            release_s: float = 0.15) -> np.ndarray:
    """A recorder's compressor/limiter on one channel: above `threshold_db` (dBFS of a 10 ms
    RMS envelope) the level grows 1/`ratio` as fast, so a shout 14 dB over the voice comes out
    ~8 dB over it. Gain only: no sample moves in time."""
    f = int(0.01 * SR)
    power = np.convolve(x.astype(np.float64) ** 2, np.ones(f) / f, mode="same")
    level = 10 * np.log10(power + 1e-12)
    over = np.maximum(level - threshold_db, 0.0)
    target = -over * (1 - 1 / ratio)  # gain reduction, dB (≤ 0)
    # one-pole smoothing: fast when the reduction deepens (attack), slow when it lets go
    att, rel = np.exp(-1 / (attack_s * SR)), np.exp(-1 / (release_s * SR))
    down = lfilter([1 - att], [1, -att], target)
    up = lfilter([1 - rel], [1, -rel], target)
    g_db = np.minimum(down, up)
    return (x * 10 ** (g_db / 20)).astype(np.float32)
